// What differs between the Kubernetes versions the plugin supports, against the real API server of
// each (npm run test:versions runs this file on every version of the matrix). Expected differences
// are data (test/support/server-versions.ts): each test asserts its version's row, none is skipped.
//
// Not here: exit 72 ("cluster too old") against a real server. Every server the Go module proxy
// serves from 1.29 on serves pods/ephemeralcontainers as a Pod; the only older release it serves,
// v1.13.0, predates Go modules (GOPATH and Godeps, Go 1.11): its go.mod names no dependency, so
// nothing pins what it builds with, and recreating that set by hand is not cheap.
// test/unit/kube/server-facts.test.ts plays those servers' discovery answers instead.
import { aPod } from '../../support/builders';
import { auditEventsSince, auditLogSize, clusterEnv, createObject, createTestNamespace, deleteTestNamespace, getPod, kubectl, kubectlJson, patchEphemeralContainers } from '../../support/cluster';
import { KubeletStandIn, markPodRunning } from '../../support/kubelet';
import { expectExit, requireBuiltPlugin, runPlugin, serverContainer, standaloneKubeconfig, stderrLines, tempDir, theErrorLine } from '../../support/plugin';
import { serverExpectations } from '../../support/server-versions';

jest.setTimeout(60_000);

const ENFORCE = 'pod-security.kubernetes.io/enforce';
const expected = serverExpectations();

describe(`what differs between Kubernetes versions: this server is ${clusterEnv().k8sVersion}`, () => {
  const namespaces: string[] = [];
  let files: ReturnType<typeof tempDir>;
  const namespace = async (prefix: string, labels: Record<string, string> = {}) => {
    const ns = await createTestNamespace(prefix, labels);
    namespaces.push(ns);
    return ns;
  };
  const runningPod = (ns: string, pod = aPod('web').withContainer('app', { image: 'nginx:1.27' })) => {
    createObject(pod.withNodeName(clusterEnv().fakeNode).build(), { namespace: ns });
    markPodRunning(ns, 'web');
  };

  beforeAll(() => {
    requireBuiltPlugin();
    files = tempDir('ke-versions-');
  });
  afterAll(() => {
    files?.remove();
    namespaces.forEach((ns) => deleteTestNamespace(ns));
  });

  it('the server is the version its state dir names', () => {
    expect(kubectlJson(['version']).serverVersion.gitVersion).toBe(clusterEnv().k8sVersion);
  });

  it('"too old" is decided by discovery: the plugin reads /api/v1, which names pods/ephemeralcontainers as a Pod', async () => {
    const discovered = JSON.parse(kubectl(['get', '--raw', '/api/v1'])).resources.find((r: any) => r.name === 'pods/ephemeralcontainers');
    expect(discovered?.kind).toBe(expected.ephemeralContainersKind);
    const ns = await namespace('versions-discovery');
    runningPod(ns);
    const from = auditLogSize();
    // An empty cache directory: the server facts are asked, not remembered from an earlier run.
    const r = await runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', '--dry-run=server', '-o', 'json'], { env: { XDG_CACHE_HOME: files.dir } });
    expectExit(r, 0);
    const asked = auditEventsSince(from, 'debugger').filter((e) => e.userAgent?.startsWith('kubectl-ephemeral/') && e.stage === 'ResponseComplete');
    expect(asked.filter((e) => e.requestURI === '/api/v1').map((e) => [e.verb, e.responseStatus.code])).toEqual([['get', 200]]);
  });

  it('a PATCH of a missing pod answers 404 naming the pod (how the plugin tells "not found" from "no subresource")', async () => {
    const ns = await namespace('versions-404');
    const r = patchEphemeralContainers(ns, 'nope', { spec: { ephemeralContainers: [{ name: 'dbg', image: 'busybox:1.36' }] } }, { context: 'debugger' });
    expect([r.code, r.body.reason, r.body.details]).toEqual([404, 'NotFound', { name: 'nope', kind: 'pods' }]);
  });

  it(`SelfSubjectReview ${expected.selfSubjectReview ? 'names' : 'cannot name'} a token user: the creator stamp ${expected.selfSubjectReview ? 'is the service account' : 'is missing, said in one note'}`, async () => {
    const ns = await namespace('versions-token');
    runningPod(ns);
    kubectl(['create', 'serviceaccount', 'oncall'], { namespace: ns });
    kubectl(['create', 'rolebinding', 'oncall-debugger', '--clusterrole', 'kubectl-ephemeral-debugger', `--serviceaccount=${ns}:oncall`], { namespace: ns });
    const cfg = standaloneKubeconfig('debugger');
    cfg.users[0].user = { token: kubectl(['create', 'token', 'oncall', '--duration', '10m'], { namespace: ns }).trim() };
    const kubeconfig = files.file('token.json', JSON.stringify(cfg));
    const kubelet = new KubeletStandIn(ns).start();
    const r = await runPlugin(['shell', 'web', '-n', ns, '--kubeconfig', kubeconfig, '--name', 'by-token', '--no-attach']).finally(() => kubelet.stop());
    expectExit(r, 0);
    const creator = (await serverContainer(ns, 'web', 'by-token')).env.find((e: any) => e.name === 'KUBECTL_EPHEMERAL_USER')?.value;
    const notes = stderrLines(r).filter((l) => l.includes('SelfSubjectReview'));
    if (expected.selfSubjectReview) expect([creator, notes]).toEqual([`system:serviceaccount:${ns}:oncall`, []]);
    else expect([creator, notes.length]).toEqual([undefined, 1]);
  });

  it('server-side dry run of the ephemeralcontainers subresource: the server defaults the container and keeps nothing', async () => {
    const ns = await namespace('versions-dryrun');
    runningPod(ns);
    const from = auditLogSize();
    const r = await runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', '--name', 'dry', '--dry-run=server', '-o', 'json']);
    expectExit(r, 0);
    // Fields only the server fills in: the answer came from admission and defaulting, not the plugin.
    expect(JSON.parse(r.stdout).spec.ephemeralContainers[0]).toMatchObject({ name: 'dry', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' });
    const patches = auditEventsSince(from, 'debugger').filter((e) => e.verb === 'patch' && e.objectRef?.namespace === ns && e.stage === 'ResponseComplete');
    expect(patches.map((e) => [e.objectRef.subresource, e.responseStatus.code, /[?&]dryRun=All/.test(e.requestURI)])).toEqual([['ephemeralcontainers', 200, true]]);
    expect(getPod(ns, 'web').spec.ephemeralContainers).toBeUndefined();
  });

  it('a sidecar (restartable init container) can be the target of a process session', async () => {
    const ns = await namespace('versions-sidecar');
    runningPod(ns, aPod('web').withContainer('app', { image: 'nginx:1.27' }).withInitContainer('side', { image: 'busybox:1.36', restartPolicy: 'Always', command: ['sleep', 'infinity'] }));
    const kubelet = new KubeletStandIn(ns).start();
    const r = await runPlugin(['process', 'web', '-c', 'side', '-n', ns, '--context', 'debugger', '--name', 'into-side', '--no-attach']).finally(() => kubelet.stop());
    expectExit(r, 0);
    expect((await serverContainer(ns, 'web', 'into-side')).targetContainerName).toBe('side');
  });

  it(`Pod Security "probe or lifecycle host" at baseline: ${expected.podSecurityProbeHost ? 'the server refuses the whole pod, and the plugin says the pod is the cause (65)' : 'not a check of this server: the debug container joins'}`, async () => {
    // Created while the namespace is privileged; baseline arrives later (as on a cluster being tightened).
    const ns = await namespace('versions-probehost');
    runningPod(ns, aPod('web').withContainer('app', { image: 'nginx:1.27', readinessProbe: { httpGet: { host: '10.0.0.5', port: 80 } } }));
    kubectl(['label', 'namespace', ns, `${ENFORCE}=baseline`]);
    const kubelet = new KubeletStandIn(ns).start();
    const r = await runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', '--name', 'beside-probe', '--no-attach']).finally(() => kubelet.stop());
    if (expected.podSecurityProbeHost) {
      expectExit(r, 65);
      expect(stderrLines(r)).toEqual([theErrorLine(r)]);
      expect(theErrorLine(r)).toBe(
        `error: pod "web" in namespace "${ns}" is refused as a whole by this API server's Pod Security admission (violates PodSecurity "baseline:latest": probe or lifecycle host (container "app" uses probe or lifecycle host "10.0.0.5")); it checks the whole pod, so every debug container is rejected until the pod is fixed or exempted`,
      );
      expect(getPod(ns, 'web').spec.ephemeralContainers).toBeUndefined();
    } else {
      expectExit(r, 0);
      expect(getPod(ns, 'web').spec.ephemeralContainers.map((c: any) => c.name)).toEqual(['beside-probe']);
    }
  });

  it(`procMount "Unmasked" without hostUsers: false is ${expected.procMountUnmasked} (no preset sets procMount; the Pod Security gate only sees what the server kept)`, async () => {
    const ns = await namespace('versions-procmount');
    runningPod(ns);
    const r = patchEphemeralContainers(ns, 'web', { spec: { ephemeralContainers: [{ name: 'unmasked', image: 'busybox:1.36', securityContext: { procMount: 'Unmasked' } }] } });
    if (expected.procMountUnmasked === 'invalid') {
      expect([r.code, r.body.reason]).toEqual([422, 'Invalid']);
      expect(r.message).toContain('spec.ephemeralContainers[0].securityContext.procMount: Invalid value: "Unmasked": `hostUsers` must be false to use `Unmasked`');
    } else {
      expect(r.code).toBe(200);
      expect(getPod(ns, 'web').spec.ephemeralContainers.map((c: any) => [c.name, c.securityContext?.procMount])).toEqual([['unmasked', 'Default']]);
    }
  });
});
