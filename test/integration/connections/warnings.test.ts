// The API server's warnings, as kubectl shows them: Pod Security in `warn` mode answers the
// ephemeral-container PATCH with a `Warning:` header (the target pod breaks "restricted"). Both
// tools print it as `Warning: ...` on stderr and go on; with --warnings-as-errors both exit 1
// after the request (the container is created all the same). On a terminal both colour the label.
import { aPod } from '../../support/builders';
import { clusterEnv, createObject, createTestNamespace, deleteTestNamespace, KUBECTL, kubectlJsonAsync } from '../../support/cluster';
import { KubeletStandIn, markPodRunning } from '../../support/kubelet';
import { inTerminal } from '../../support/terminal-session';
import { runKubectl } from '../../support/connections';
import { BUILT_PLUGIN as PLUGIN, expectExit, requireBuiltPlugin, runPlugin, stderrLines } from '../../support/plugin';

jest.setTimeout(120_000);

const PSA_WARNING = /^Warning: would violate PodSecurity "restricted:latest": .*"app"/;

describe('API server warnings, as kubectl prints them', () => {
  let ns = '';
  let kubelet: KubeletStandIn;
  const flags = () => ['--kubeconfig', clusterEnv().kubeconfig, '--context', 'debugger', '-n', ns];
  const ephemeralNames = async (): Promise<string[]> => ((await kubectlJsonAsync(['get', 'pod', 'web'], { namespace: ns })).spec.ephemeralContainers ?? []).map((c: any) => c.name);

  beforeAll(async () => {
    requireBuiltPlugin();
    // warn only: nothing is refused, every pod write that breaks "restricted" gets a warning.
    ns = await createTestNamespace('conn-warn', { 'pod-security.kubernetes.io/warn': 'restricted' });
    createObject(aPod('web').withContainer('app', { image: 'nginx:1.27' }).withNodeName(clusterEnv().fakeNode).build(), { namespace: ns });
    markPodRunning(ns, 'web');
    kubelet = new KubeletStandIn(ns).start();
  });
  afterAll(async () => {
    await kubelet?.stop();
    deleteTestNamespace(ns);
  });

  it('printed once as "Warning: ..." on stderr, the run succeeds (kubectl debug: same)', async () => {
    const k = await runKubectl([...flags(), 'debug', 'web', '--image=busybox:1.36', '-c', 'by-kubectl', '--profile=general']);
    expect([k.code, k.stderr.split('\n').filter((l) => PSA_WARNING.test(l)).length]).toEqual([0, 1]);
    const r = await runPlugin(['shell', 'web', ...flags(), '--name', 'by-plugin', '--no-attach']);
    expectExit(r, 0);
    expect(r.stdout).toBe('by-plugin\n');
    expect(stderrLines(r).filter((l) => PSA_WARNING.test(l))).toHaveLength(1);
    expect(stderrLines(r).filter((l) => /^Warning: /.test(l))).toEqual(stderrLines(r).filter((l) => PSA_WARNING.test(l)));
    expect(await ephemeralNames()).toEqual(expect.arrayContaining(['by-kubectl', 'by-plugin']));
  });

  it('--warnings-as-errors: the container is made, then exit 1 naming the count, the warning kept under -q (kubectl: same exit, same outcome)', async () => {
    const k = await runKubectl([...flags(), '--warnings-as-errors', 'debug', 'web', '--image=busybox:1.36', '-c', 'strict-kubectl', '--profile=general']);
    expect([k.code, k.stderr]).toEqual([1, expect.stringMatching(/1 warning received/)]);
    expect(k.stderr.split('\n').filter((l) => PSA_WARNING.test(l))).toHaveLength(1);
    // -q keeps warnings and errors only.
    const r = await runPlugin(['shell', 'web', ...flags(), '--warnings-as-errors', '-q', '--name', 'strict-plugin', '--no-attach']);
    expectExit(r, 1);
    expect(stderrLines(r)).toEqual([expect.stringMatching(PSA_WARNING), 'error: 1 warning received (--warnings-as-errors); the command itself ran: see the warnings above']);
    expect(await ephemeralNames()).toEqual(expect.arrayContaining(['strict-kubectl', 'strict-plugin']));
  });

  it('on a terminal, "Warning:" is bold yellow, the message plain (kubectl: same bytes)', () =>
    inTerminal({}, async (t) => {
      const coloured = '\x1b[33;1mWarning:\x1b[0m would violate PodSecurity "restricted:latest": ';
      const run = async (command: string): Promise<string> => {
        const since = t.mark();
        t.type(`${command}; echo "run-exit=$?"\r`);
        await t.waitFor(/run-exit=0\n/, { since, what: 'the run to succeed' });
        return t.rawText(since);
      };
      expect(await run([KUBECTL, ...flags(), 'debug', 'web', '--image=busybox:1.36', '-c', 'tty-kubectl', '--profile=general'].join(' '))).toContain(coloured);
      expect(await run([PLUGIN, 'shell', 'web', ...flags(), '--name', 'tty-plugin', '--no-attach'].join(' '))).toContain(coloured);
    }));

  it('--warnings-as-errors with no warning: exit 0 (a GET gets none; kubectl: same)', async () => {
    const k = await runKubectl([...flags(), '--warnings-as-errors', 'get', 'pod', 'web', '-o', 'name']);
    expect([k.code, k.stdout.trim()]).toEqual([0, 'pod/web']);
    const r = await runPlugin(['list', ...flags(), '--warnings-as-errors']);
    expectExit(r, 0);
    expect(r.stderr).not.toMatch(/Warning:/);
  });
});
