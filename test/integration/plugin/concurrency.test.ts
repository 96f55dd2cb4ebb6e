// Twenty users debugging one pod at the same moment: every container lands, none is lost or
// changed by the others, and every session is recorded in the pod's audit annotation.
import { aPod } from '../../support/builders';
import { createTestNamespace, deleteTestNamespace, getPod } from '../../support/cluster';
import { createRunningPod, KubeletStandIn } from '../../support/kubelet';
import { expectExit, requireBuiltPlugin, runPlugin } from '../../support/plugin';

jest.setTimeout(120_000);

const AUDIT_ANNOTATION = 'kubectl-ephemeral.dev/audit';

describe('concurrent invocations against one pod', () => {
  let ns = '';

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('plugin-concurrency');
    createRunningPod(ns, aPod('web').withContainer('app', { image: 'nginx:1.27' }).build());
  });
  afterAll(() => deleteTestNamespace(ns));

  it('20 at once with --no-attach add 20 distinct containers, none lost, the earlier ones unchanged (status written by the test acting as kubelet)', async () => {
    const kubelet = new KubeletStandIn(ns).start();
    try {
      // Two earlier sessions, one after the other.
      for (const preset of ['shell', 'process']) expectExit(await runPlugin([preset, 'web', '-n', ns, '--context', 'debugger', '--no-attach']), 0);
      const before = getPod(ns, 'web').spec.ephemeralContainers;
      expect(before).toHaveLength(2);

      const presets = ['network', 'forensics', 'crashloop', 'process', 'shell'];
      const started = Date.now();
      const runs = await Promise.all(
        // --new: the same user's running containers of these presets would be reused otherwise.
        Array.from({ length: 20 }, (_, i) => runPlugin([presets[i % presets.length]!, 'web', '-n', ns, '--context', 'debugger', '--no-attach', '--new', '--timeout', '60s'], { timeoutMs: 90_000 })),
      );
      const elapsed = Date.now() - started;
      runs.forEach((r) => expectExit(r, 0));
      const printed = runs.map((r) => r.stdout.trim());
      expect(new Set(printed).size).toBe(20);
      printed.forEach((name, i) => expect(name).toMatch(new RegExp(`^debugger-${presets[i % presets.length]}-[a-z0-9]{5}$`)));

      const pod = getPod(ns, 'web');
      const names = pod.spec.ephemeralContainers.map((c: any) => c.name);
      expect(names).toHaveLength(22);
      expect(new Set(names).size).toBe(22);
      expect([...names].sort()).toEqual([...before.map((c: any) => c.name), ...printed].sort());
      // The earlier containers are exactly as they were.
      for (const earlier of before) expect(pod.spec.ephemeralContainers.find((c: any) => c.name === earlier.name)).toEqual(earlier);
      // Each new one is the preset its invocation asked for, stamped with its creator.
      for (const [i, name] of printed.entries()) {
        const c = pod.spec.ephemeralContainers.find((x: any) => x.name === name);
        expect(c.env).toEqual(expect.arrayContaining([{ name: 'KUBECTL_EPHEMERAL_PRESET', value: presets[i % presets.length] }, { name: 'KUBECTL_EPHEMERAL_USER', value: 'debugger' }]));
      }
      // The stand-in kubelet started each exactly once, and all of them run.
      expect([...kubelet.handled].sort()).toEqual(names.map((n: string) => `web/${n}`).sort());
      expect(pod.status.ephemeralContainerStatuses.filter((s: any) => s.state.running).map((s: any) => s.name).sort()).toEqual([...names].sort());
      // The audit annotation (rewritten with optimistic concurrency) lost no entry either.
      const trail = JSON.parse(pod.metadata.annotations[AUDIT_ANNOTATION]);
      expect(trail.map((e: any) => e.container).sort()).toEqual([...names].sort());
      expect(new Set(trail.map((e: any) => e.user))).toEqual(new Set(['debugger']));
      process.stderr.write(`20 concurrent invocations finished in ${elapsed} ms\n`);
    } finally {
      await kubelet.stop();
    }
    expect(kubelet.errors).toEqual([]);
  });
});
