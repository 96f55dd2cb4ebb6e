// `kubectl ephemeral crashloop POD` on the real node, for a container that exits 1 in a loop: the
// crash summary (last exit code, previous logs), a shell with the app's ConfigMap mounted where the
// app has it, and --copy: a running copy of the pod that is gone once the shell exits.
import { clusterEnv, COPY_RULES, createObject, createTestNamespace, deleteTestNamespace, getPod, grantInNamespace, kubectlResult } from '../../support/cluster';
import { eventually } from '../../support/wait';
import { describeOnRealNode, inTerminal, sampleAppPod } from '../../support/terminal-session';

jest.setTimeout(120_000);

function appStatus(ns: string): any {
  return (getPod(ns, 'crashy').status?.containerStatuses ?? []).find((s: any) => s.name === 'app') ?? {};
}

describeOnRealNode(__filename)('crashloop POD: debugging a container that exits 1 in a loop', () => {
  let ns = '';

  beforeAll(async () => {
    ns = await createTestNamespace('e2e-crashloop');
    grantInNamespace(ns, 'debugger', 'debug-copies', COPY_RULES);
    createObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config' }, data: { 'app.conf': 'listen=8080\n' } }, { namespace: ns });
    createObject(
      sampleAppPod('crashy', {
        command: ['sh', '-c', 'echo booting; echo config missing >&2; exit 1'],
        volumeMounts: [{ name: 'config', mountPath: '/app/config' }],
        volumes: [{ name: 'config', configMap: { name: 'app-config' } }],
      }),
      { namespace: ns },
    );
    await eventually(async () => {
      const s = appStatus(ns);
      return (s.state?.terminated ?? s.lastState?.terminated)?.exitCode === 1;
    }, 60_000, `container app of ${ns}/crashy to exit 1`);
  });
  afterAll(() => {
    if (ns) deleteTestNamespace(ns);
  });

  it('prints the last exit code and the previous logs, then lists /app/config in the debug shell', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(['crashloop', 'crashy', '-n', ns, '--context', 'debugger']);
      const summary = await t.waitFor(/== container "app" of pod "crashy"\n([\s\S]*?)== recent events/, { timeoutMs: 30_000, what: 'the crash summary' });
      expect(summary[1]).toMatch(/^last exit: code 1, reason Error/m);
      expect(summary[1]).toMatch(/== previous logs \(last 20 lines\)\n(booting\nconfig missing|config missing\nbooting)\n/);
      await t.waitForShell();

      expect((await t.command('ls /app/config')).split(/\s+/)).toContain('app.conf');
      expect(await t.command('cat /app/config/app.conf')).toContain('listen=8080');

      expect(await t.endPlugin('exit')).toBe(0);
      await t.expectCookedMode();
    }));

  it('--copy gives a running copy of the pod to debug, placed by the scheduler, deleted when the shell exits', () =>
    inTerminal({}, async (t) => {
      // Without --same-node, as kubectl debug --copy-to: the scheduler places the copy.
      await t.runPlugin(['crashloop', 'crashy', '--copy', '-n', ns, '--context', 'debugger']);
      const copy = (await t.waitFor(/created pod copy "([a-z0-9-]+)" of "crashy"/, { timeoutMs: 30_000 }))[1]!;
      await t.waitForShell();

      // While attached, the copy runs (seen as admin, not through the plugin).
      const seen = kubectlResult(['get', 'pod', copy, '-o', 'json'], { namespace: ns });
      expect(seen.ok).toBe(true);
      const pod = JSON.parse(seen.stdout);
      expect(pod.status.phase).toBe('Running');
      expect(pod.spec.nodeName).toBe(clusterEnv().nodeName);
      expect(pod.status.containerStatuses.find((s: any) => s.name === 'app').state.running).toBeDefined();

      expect(await t.command('ps')).toMatch(/^\s*1\s+1000\s+sleep infinity/m); // the app's command replaced by the keep-alive
      expect((await t.command('ls /app/config')).split(/\s+/)).toContain('app.conf');

      expect(await t.endPlugin('exit', 60_000)).toBe(0);
      expect(t.screen).toContain(`deleted pod copy "${copy}"`);
      await t.expectCookedMode();
      await eventually(async () => !kubectlResult(['get', 'pod', copy], { namespace: ns }).ok, 30_000, `pod copy ${copy} to be gone`);
      expect(kubectlResult(['get', 'pod', copy], { namespace: ns }).stderr).toMatch(/NotFound|not found/);
    }));

  it('--copy, detached: the copy stays for "attach again", and the line says how to delete it (issue 29)', () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(['crashloop', 'crashy', '--copy', '--same-node', '-n', ns, '--context', 'debugger']);
      const copy = (await t.waitFor(/created pod copy "([a-z0-9-]+)" of "crashy"/, { timeoutMs: 30_000 }))[1]!;
      await t.waitForShell();
      t.type('\x10\x11');
      expect(await t.pluginExit(60_000)).toBe(0);
      expect(t.text()).toMatch(new RegExp(`detached; container "[a-z0-9-]+" is still running; attach again with: kubectl ephemeral attach ${copy} `));
      expect(t.text()).toContain(`the copy "${copy}" stays while you may attach again: delete it when done with kubectl delete pod ${copy} -n ${ns} --context debugger\n`);
      expect(t.text()).not.toContain(`deleted pod copy "${copy}"`);
      expect(kubectlResult(['get', 'pod', copy], { namespace: ns }).ok).toBe(true);
      kubectlResult(['delete', 'pod', copy, '--wait=false'], { namespace: ns });
    }));
});
