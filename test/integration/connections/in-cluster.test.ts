// In-cluster configuration against the real API server, next to kubectl: both run as they would in
// a pod, with no kubeconfig, KUBERNETES_SERVICE_HOST/PORT set and a ServiceAccount's token, CA and
// namespace at /var/run/secrets/kubernetes.io/serviceaccount. That directory exists only inside a
// private mount namespace (unshare -m, a tmpfs over /run), so neither tool needs a seam and the
// machine is left as it was.
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aPod } from '../../support/builders';
import { clusterEnv, createObject, createTestNamespace, deleteTestNamespace, KUBECTL, kubectlJsonAsync } from '../../support/cluster';
import { KubeletStandIn, markPodRunning } from '../../support/kubelet';
import { serviceAccountToken } from '../../support/connections';
import { expectExit, pluginPath, requireBuiltPlugin, stderrLines, tempDir, type PluginResult } from '../../support/plugin';
import { describeIfAvailable } from '../../support/suite-gate';

jest.setTimeout(120_000);

// Mounts the files of $KE_SA_SOURCE where a pod has its ServiceAccount, then runs the command.
const IN_POD = 'mount -t tmpfs ke-serviceaccount /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && cp "$KE_SA_SOURCE"/* /run/secrets/kubernetes.io/serviceaccount/ && exec "$@"';

function privateMountsUnavailable(): string {
  try {
    execFileSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs ke-probe /run'], { stdio: 'pipe', timeout: 10_000 });
    return '';
  } catch (err) {
    return `unshare -m with a tmpfs mount failed (needs root or CAP_SYS_ADMIN): ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  }
}

describeIfAvailable(__filename, privateMountsUnavailable(), 'run the suite as root, as the local cluster needs anyway')('in-cluster configuration, as kubectl reads it in a pod', () => {
  let ns = '';
  let files: ReturnType<typeof tempDir>;
  let kubelet: KubeletStandIn;

  /** A ServiceAccount directory (token, ca.crt, namespace) for `saNamespace`'s SA `in-pod`, namespace file saying `nsFile`. */
  const serviceAccountDir = (name: string, nsFile: string): string => {
    const dir = join(files.dir, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'token'), serviceAccountToken(ns, 'in-pod'));
    copyFileSync(clusterEnv().caCrt, join(dir, 'ca.crt'));
    writeFileSync(join(dir, 'namespace'), nsFile);
    return dir;
  };
  /** Runs `cmd` as if in a pod whose ServiceAccount files are those of `saDir`. */
  const inPod = (saDir: string, cmd: string[], env: Record<string, string> = {}): Promise<PluginResult> => {
    const api = new URL(clusterEnv().apiserver);
    const started = Date.now();
    return new Promise((resolve) => {
      execFile(
        'unshare',
        ['-m', 'sh', '-c', IN_POD, 'sh', ...cmd],
        { env: { PATH: process.env.PATH, HOME: files.dir, KE_SA_SOURCE: saDir, KUBERNETES_SERVICE_HOST: api.hostname, KUBERNETES_SERVICE_PORT: api.port, ...env }, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, signal: null, stdout: String(stdout), stderr: String(stderr), ms: Date.now() - started, exitedAt: Date.now() }),
      );
    });
  };

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('conn-incluster');
    createObject(aPod('web').withContainer('app', { image: 'nginx:1.27' }).withNodeName(clusterEnv().fakeNode).build(), { namespace: ns });
    markPodRunning(ns, 'web');
    files = tempDir('ke-conn-incluster-');
    kubelet = new KubeletStandIn(ns).start();
  });
  afterAll(async () => {
    await kubelet?.stop();
    files?.remove();
    deleteTestNamespace(ns);
  });

  it('the mounted token, CA and namespace file: the plugin acts as the ServiceAccount in that namespace (kubectl: same)', async () => {
    const sa = serviceAccountDir('own-namespace', ns);
    const who = await inPod(sa, [KUBECTL, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect([who.code, who.stdout]).toEqual([0, `system:serviceaccount:${ns}:in-pod`]);
    const k = await inPod(sa, [KUBECTL, 'get', 'pod', 'web', '-o', 'name']);
    expect([k.code, k.stdout.trim()]).toEqual([0, 'pod/web']);
    const r = await inPod(sa, [pluginPath(), 'shell', 'web', '--name', 'from-a-pod', '--no-attach']);
    expectExit(r, 0);
    expect(r.stdout).toBe('from-a-pod\n');
    const pod = await kubectlJsonAsync(['get', 'pod', 'web'], { namespace: ns });
    expect(pod.spec.ephemeralContainers.find((c: any) => c.name === 'from-a-pod').env).toEqual(expect.arrayContaining([{ name: 'KUBECTL_EPHEMERAL_USER', value: `system:serviceaccount:${ns}:in-pod` }]));
  });

  it('POD_NAMESPACE before the namespace file; -n before both (kubectl: same)', async () => {
    const sa = serviceAccountDir('other-namespace', 'default');
    const k = await inPod(sa, [KUBECTL, 'get', 'pod', 'web', '-o', 'name'], { POD_NAMESPACE: ns });
    expect([k.code, k.stdout.trim()]).toEqual([0, 'pod/web']);
    const r = await inPod(sa, [pluginPath(), 'shell', 'web', '--dry-run=server', '-o', 'json'], { POD_NAMESPACE: ns });
    expectExit(r, 0);
    expect(JSON.parse(r.stdout).spec.ephemeralContainers[0].name).toMatch(/^debugger-/);
    // -n names a namespace where pod web does not exist: both look there, not in POD_NAMESPACE.
    const kn = await inPod(sa, [KUBECTL, 'get', 'pod', 'web', '-n', 'kube-public'], { POD_NAMESPACE: ns });
    expect([kn.code, kn.stderr]).toEqual([1, expect.stringContaining('cannot get resource "pods" in API group "" in the namespace "kube-public"')]);
    const rn = await inPod(sa, [pluginPath(), 'shell', 'web', '-n', 'kube-public', '--no-attach'], { POD_NAMESPACE: ns });
    expectExit(rn, 77);
    expect(stderrLines(rn)).toEqual([expect.stringMatching(new RegExp(`^error: cannot get pods for pod "web" in namespace "kube-public": User "system:serviceaccount:${ns}:in-pod" cannot get resource "pods"`))]);
  });
});
