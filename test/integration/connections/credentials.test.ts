// Credentials as kubectl reads them, against the real API server: an exec credential plugin whose
// command is relative to the kubeconfig (stderr shown, short expiry: a --copy run still deletes its
// copy after the first credential expired), a tokenFile rotated mid-run. Each kubeconfig is run
// through kubectl too, which must come to the same outcome.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aPod } from '../../support/builders';
import { createTestNamespace, deleteTestNamespace, kubectl, kubectlJsonAsync } from '../../support/cluster';
import { createRunningPod, KubeletStandIn, markContainerCrashLooping } from '../../support/kubelet';
import { expectExit, requireBuiltPlugin, runPlugin, standaloneKubeconfig, startPlugin, stderrLines, tempDir } from '../../support/plugin';
import { eventually } from '../../support/wait';
import { runKubectl, serviceAccountToken, writeExecCredentialScript } from '../../support/connections';

jest.setTimeout(120_000);

const creatorOf = (c: any) => c?.env?.find((e: any) => e.name === 'KUBECTL_EPHEMERAL_USER')?.value;

describe('credentials, as kubectl reads them', () => {
  let ns = '';
  let files: ReturnType<typeof tempDir>;
  let kubelet: KubeletStandIn;

  /** A kubeconfig for the cluster whose user is `user`, written to `<tmp>/<name>/config`. */
  const kubeconfigWith = (name: string, user: object): string => {
    const cfg = standaloneKubeconfig('admin');
    cfg.users[0].user = user;
    cfg.contexts[0].context.namespace = ns;
    mkdirSync(join(files.dir, name), { recursive: true });
    return files.file(`${name}/config`, JSON.stringify(cfg));
  };
  const copiesOf = async (pod: string): Promise<any[]> => (await kubectlJsonAsync(['get', 'pods', '-l', `kubectl-ephemeral.dev/copy-of=${pod}`], { namespace: ns })).items;

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('conn-creds');
    createRunningPod(ns, aPod('web').withContainer('app', { image: 'nginx:1.27' }).build());
    for (const name of ['crashy', 'crashy2']) {
      createRunningPod(ns, aPod(name).withContainer('app', { image: 'example.com/app:1', command: ['/app'] }).withSpec({ automountServiceAccountToken: false }).build());
      markContainerCrashLooping(ns, name, 'app', 1, 'Error');
    }
    files = tempDir('ke-conn-creds-');
    // Copies start at once; debug containers of copies wait for the test (it decides when they run).
    // The copies run with --same-node: on the node no kubelet runs, where this stand-in starts them.
    kubelet = new KubeletStandIn(ns, { startPods: true, ephemeral: (pod) => (pod.metadata.labels?.['kubectl-ephemeral.dev/copy-of'] ? { state: 'ignore' } : { state: 'running' }) }).start();
  });
  afterAll(async () => {
    await kubelet?.stop();
    files?.remove();
    deleteTestNamespace(ns);
  });

  it('exec plugin with a command relative to the kubeconfig, run from another directory: its stderr shown, its identity used (kubectl: same)', async () => {
    const dir = join(files.dir, 'exec-rel');
    mkdirSync(join(dir, 'bin'), { recursive: true });
    writeFileSync(join(dir, 'token'), serviceAccountToken(ns, 'exec-user'));
    writeExecCredentialScript(join(dir, 'bin', 'get-token'), dir);
    const config = kubeconfigWith('exec-rel', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './bin/get-token', interactiveMode: 'IfAvailable', provideClusterInfo: true } });
    const k = await runKubectl(['--kubeconfig', config, 'get', 'pod', 'web', '-o', 'name']);
    expect([k.code, k.stdout.trim(), k.stderr]).toEqual([0, 'pod/web', expect.stringContaining('ke-test-login: using the cached session')]);
    const r = await runPlugin(['shell', 'web', '--kubeconfig', config, '--name', 'by-exec', '--no-attach']);
    expectExit(r, 0);
    expect(stderrLines(r)).toContain('ke-test-login: using the cached session');
    const pod = await kubectlJsonAsync(['get', 'pod', 'web'], { namespace: ns });
    expect(creatorOf(pod.spec.ephemeralContainers.find((c: any) => c.name === 'by-exec'))).toBe(`system:serviceaccount:${ns}:exec-user`);
  });

  it('exec plugin failing: its message and exit code in one line (kubectl fails too)', async () => {
    const dir = join(files.dir, 'exec-fail');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'fail'), '#!/bin/sh\necho "ke-test-login: session expired, run ke-login" >&2\nexit 3\n', { mode: 0o755 });
    const config = kubeconfigWith('exec-fail', { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: './fail' } });
    const k = await runKubectl(['--kubeconfig', config, 'get', 'pod', 'web']);
    expect(k.code).not.toBe(0);
    const r = await runPlugin(['shell', 'web', '--kubeconfig', config, '--no-attach']);
    expectExit(r, 77);
    expect(stderrLines(r)).toEqual([
      'ke-test-login: session expired, run ke-login',
      `error: exec credential plugin "${join(dir, 'fail')}" of user "admin" failed with exit code 3: ke-test-login: session expired, run ke-login; log in again or fix the plugin`,
    ]);
  });

  it('exec plugin not installed: the installHint, in one line, exit 78 (kubectl fails too)', async () => {
    const config = kubeconfigWith('exec-missing', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'ke-no-such-login', interactiveMode: 'Never', installHint: 'install ke-no-such-login from\nhttps://example.invalid/login' } });
    const k = await runKubectl(['--kubeconfig', config, 'get', 'pod', 'web']);
    expect([k.code === 0, k.stderr]).toEqual([false, expect.stringContaining('install ke-no-such-login from')]);
    const r = await runPlugin(['shell', 'web', '--kubeconfig', config, '--no-attach']);
    expectExit(r, 78);
    expect(stderrLines(r)).toEqual(['error: exec credential plugin "ke-no-such-login" of user "admin" not found: install ke-no-such-login from https://example.invalid/login']);
  });

  it('a --copy run outlives its first exec credential (3 s) and still deletes its copy: the plugin runs again', async () => {
    const dir = join(files.dir, 'exec-expiry');
    mkdirSync(join(dir, 'bin'), { recursive: true });
    writeFileSync(join(dir, 'token'), serviceAccountToken(ns, 'expiry-user'));
    writeExecCredentialScript(join(dir, 'bin', 'get-token'), dir, 3);
    const config = kubeconfigWith('exec-expiry', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './bin/get-token', interactiveMode: 'Never' } });
    const run = startPlugin(['crashloop', 'crashy', '--kubeconfig', config, '--copy', '--same-node', '--no-attach', '--timeout', '90s'], { timeoutMs: 110_000 });
    const copy = await eventually(async () => (await copiesOf('crashy')).find((p) => p.spec.ephemeralContainers?.length), 60_000, 'the copy with its debug container');
    // The session ends (SIGTERM, the same deletion as a session's end: --no-attach would keep the copy
    // once its debug container runs) only after the first credential has expired.
    const firstRun = Number(readFileSync(join(dir, 'run-times'), 'utf8').split('\n')[0]);
    await eventually(async () => Date.now() / 1000 > firstRun + 4, 10_000, 'the first credential to expire', 250);
    run.child.kill('SIGTERM');
    const r = await run.done;
    expectExit(r, 143);
    expect(stderrLines(r)).toContain(`deleted pod copy "${copy.metadata.name}"`);
    expect(Number(readFileSync(join(dir, 'runs'), 'utf8'))).toBeGreaterThanOrEqual(2);
    expect(await copiesOf('crashy')).toEqual([]);
  });

  it('tokenFile (kubectl\'s key) is read, and read again when rotated mid-run, the old token revoked (kubectl: same)', async () => {
    const tokenFile = join(files.dir, 'rotating-token');
    writeFileSync(tokenFile, serviceAccountToken(ns, 'token-a'));
    const config = kubeconfigWith('token-file', { tokenFile });
    const before = await runKubectl(['--kubeconfig', config, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect([before.code, before.stdout]).toEqual([0, `system:serviceaccount:${ns}:token-a`]);
    const run = startPlugin(['crashloop', 'crashy2', '--kubeconfig', config, '--copy', '--same-node', '--no-attach', '--timeout', '90s'], { timeoutMs: 110_000 });
    const copy = await eventually(async () => (await copiesOf('crashy2')).find((p) => p.spec.ephemeralContainers?.length), 60_000, 'the copy with its debug container');
    // Rotate: the file now holds B's token, and A's token stops working (its ServiceAccount is gone).
    writeFileSync(tokenFile, serviceAccountToken(ns, 'token-b'));
    kubectl(['delete', 'serviceaccount', 'token-a', '--wait=true'], { namespace: ns });
    // Ends the session with SIGTERM (--no-attach would keep the copy once its debug container runs):
    // the deletion must use B's token.
    run.child.kill('SIGTERM');
    const r = await run.done;
    expectExit(r, 143);
    expect(stderrLines(r)).toContain(`deleted pod copy "${copy.metadata.name}"`);
    expect(await copiesOf('crashy2')).toEqual([]);
    const after = await runKubectl(['--kubeconfig', config, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect([after.code, after.stdout]).toEqual([0, `system:serviceaccount:${ns}:token-b`]);
    expect(existsSync(tokenFile)).toBe(true);
  });
});
