// Smoke test of the local control plane and of the test helpers (needs `scripts/cluster.sh up`):
// a whole cluster, with a scheduler and cluster DNS besides the API server and controllers.
import { Resolver } from 'node:dns/promises';
import { aPod } from '../support/builders';
import { addEphemeralContainer, auditEventsSince, auditLogSize, canI, clusterEnv, createObject, createTestNamespace, deleteTestNamespace, getPod, kubectl, kubectlJson, kubectlResult, patchEphemeralContainers } from '../support/cluster';
import { markContainerCrashLooping, markEphemeralRunning, markEphemeralWaiting, markPodRunning, statusNode } from '../support/kubelet';
import { eventually } from '../support/wait';

/** The pause image the node imports (scripts/images.sh): runs anywhere, pulls from nowhere. */
const PAUSE = 'localhost/kubectl-ephemeral/pause:3.10';

jest.setTimeout(60_000);

describe('local control plane', () => {
  const env = clusterEnv();
  let ns = '';

  beforeAll(async () => {
    ns = await createTestNamespace('cluster-smoke');
  });
  afterAll(() => {
    if (ns) deleteTestNamespace(ns);
  });

  it('serves the Kubernetes version its state dir was brought up with (scripts/versions.sh pins the default)', () => {
    const v = kubectlJson(['version']);
    expect(env.k8sVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect(v.serverVersion.gitVersion).toBe(env.k8sVersion);
    expect(env.apiserver).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('lets debugger, but not reader, patch pods/ephemeralcontainers', () => {
    expect(canI('debugger', 'patch', 'pods', ns, 'ephemeralcontainers')).toBe(true);
    expect(canI('debugger', 'create', 'pods', ns, 'attach')).toBe(true);
    expect(canI('reader', 'patch', 'pods', ns, 'ephemeralcontainers')).toBe(false);
    expect(canI('reader', 'get', 'pods', ns)).toBe(true);
    expect(canI('reader', 'create', 'pods', ns, 'attach')).toBe(false);
  });

  it('enforces Pod Security: a restricted namespace rejects a privileged pod', async () => {
    const restricted = await createTestNamespace('cluster-restricted', { 'pod-security.kubernetes.io/enforce': 'restricted' });
    try {
      const pod = aPod('priv').withContainer('app', { image: 'busybox', securityContext: { privileged: true } }).build();
      const r = kubectlResult(['create', '--dry-run=server', '-f', '-'], { namespace: restricted, input: JSON.stringify(pod) });
      expect(r.ok).toBe(false);
      expect(r.stderr).toMatch(/violates PodSecurity "restricted:latest"/);
      expect(r.stderr).toMatch(/privileged/);
    } finally {
      deleteTestNamespace(restricted);
    }
  });

  it('registers Ready nodes for the tests to bind pods to', () => {
    for (const name of [env.nodeName, env.fakeNode]) {
      const node = kubectlJson(['get', 'node', name]);
      const ready = node.status.conditions.find((c: any) => c.type === 'Ready');
      expect(ready.status).toBe('True');
    }
  });

  it('lets the tests write container statuses as the kubelet would', () => {
    // 127.0.0.1 unless a real kubelet (scripts/node.sh) runs it, which would overwrite the statuses.
    const pod = aPod('web').withContainer('app', { image: 'nginx:1.27' }).withContainer('side', { image: 'busybox' })
      .withNodeName(statusNode()).build();
    createObject(pod, { namespace: ns });
    expect(getPod(ns, 'web').status.phase).toBe('Pending');

    const running = markPodRunning(ns, 'web');
    expect(running.status.phase).toBe('Running');
    expect(running.status.podIP).toBeTruthy();
    expect(running.status.containerStatuses.map((s: any) => [s.name, !!s.state.running, s.ready]))
      .toEqual([['app', true, true], ['side', true, true]]);

    const crashing = markContainerCrashLooping(ns, 'web', 'app', 137, 'OOMKilled');
    const app = crashing.status.containerStatuses.find((s: any) => s.name === 'app');
    expect(app.state.waiting.reason).toBe('CrashLoopBackOff');
    expect(app.lastState.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(crashing.status.containerStatuses.find((s: any) => s.name === 'side').state.running).toBeTruthy();
  });

  it('adds an ephemeral container by strategic merge patch, as the debugger user', () => {
    createObject(aPod('target').withContainer('app', { image: 'nginx:1.27' }).withNodeName(statusNode()).build(), { namespace: ns });
    markPodRunning(ns, 'target');
    const from = auditLogSize();

    const dbg = { name: 'debugger-abc12', image: 'busybox:1.36', stdin: true, tty: true, targetContainerName: 'app', terminationMessagePolicy: 'File' };
    const patched = addEphemeralContainer(ns, 'target', dbg, 'debugger');
    expect(patched.spec.ephemeralContainers.map((c: any) => c.name)).toEqual(['debugger-abc12']);
    // A second add with another name merges (by name) rather than replacing. Without a
    // `$setElementOrder/ephemeralContainers` directive (kubectl's generated patch has one), the
    // server puts the patch's entries FIRST: never rely on "the last entry is the newest".
    addEphemeralContainer(ns, 'target', { ...dbg, name: 'debugger-xyz34' }, 'debugger');
    expect(getPod(ns, 'target').spec.ephemeralContainers.map((c: any) => c.name)).toEqual(['debugger-xyz34', 'debugger-abc12']);
    const ordered = {
      spec: {
        '$setElementOrder/ephemeralContainers': [{ name: 'debugger-xyz34' }, { name: 'debugger-abc12' }, { name: 'debugger-last' }],
        ephemeralContainers: [{ ...dbg, name: 'debugger-last' }],
      },
    };
    expect(patchEphemeralContainers(ns, 'target', ordered, { context: 'debugger' }).code).toBe(200);
    expect(getPod(ns, 'target').spec.ephemeralContainers.map((c: any) => c.name)).toEqual(['debugger-xyz34', 'debugger-abc12', 'debugger-last']);

    // reader is refused.
    const r = patchEphemeralContainers(ns, 'target', { spec: { ephemeralContainers: [{ ...dbg, name: 'nope' }] } }, { context: 'reader' });
    expect([r.code, r.body.reason]).toEqual([403, 'Forbidden']);
    expect(r.message).toMatch(/^pods "target" is forbidden: User "reader" cannot patch resource "pods\/ephemeralcontainers"/);

    const waiting = markEphemeralWaiting(ns, 'target', 'debugger-abc12', 'ErrImagePull', 'failed to pull image "busybox:1.36"');
    expect(waiting.status.ephemeralContainerStatuses[0].state.waiting.reason).toBe('ErrImagePull');
    const running = markEphemeralRunning(ns, 'target', 'debugger-abc12');
    const st = running.status.ephemeralContainerStatuses.find((s: any) => s.name === 'debugger-abc12');
    expect(st.state.running).toBeTruthy();

    // The audit log records the debugger's patches (a benchmark counts requests this way).
    const patches = auditEventsSince(from, 'debugger').filter(
      // This namespace only: other suites patch as debugger on the same cluster at the same time.
      (e) => e.verb === 'patch' && e.objectRef?.subresource === 'ephemeralcontainers' && e.objectRef?.namespace === ns && e.stage === 'ResponseComplete',
    );
    expect(patches.length).toBe(3);
  });

  it("schedules a Deployment's pods onto the node a kubelet may run, never onto the fake node (tainted NoSchedule)", async () => {
    const labels = { app: 'scheduled' };
    const template = aPod('x').withLabels(labels).withContainer('app', { image: PAUSE, imagePullPolicy: 'IfNotPresent' }).withSpec({ automountServiceAccountToken: false, terminationGracePeriodSeconds: 0 }).build();
    createObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'scheduled' }, spec: { replicas: 3, selector: { matchLabels: labels }, template: { metadata: template.metadata, spec: template.spec } } }, { namespace: ns });
    // Three replicas: with the fake node schedulable the scheduler's spreading would put some there.
    const pods: any[] = await eventually(
      async () => {
        const items: any[] = kubectlJson(['get', 'pods', '-l', 'app=scheduled'], { namespace: ns }).items;
        return items.length === 3 && items.every((p) => p.spec.nodeName) && items;
      },
      60_000,
      'the 3 pods of deployment "scheduled" to be bound to a node',
      200,
    );
    expect(pods.map((p) => p.spec.nodeName)).toEqual([env.nodeName, env.nodeName, env.nodeName]);
    for (const p of pods) expect(p.status.conditions.find((c: any) => c.type === 'PodScheduled')).toMatchObject({ status: 'True' });
    expect(kubectlJson(['get', 'node', env.fakeNode]).spec.taints).toContainEqual({ key: 'kubectl-ephemeral/fake-node', value: 'true', effect: 'NoSchedule' });
  });

  it("answers DNS for the cluster's Services on the host (KE_DNS_SERVER), from the API server", async () => {
    expect(env.dnsServer).toMatch(/^127\.0\.0\.1:\d+$/);
    const dns = new Resolver({ timeout: 2000, tries: 2 });
    dns.setServers([env.dnsServer]);
    const kubernetesIP = kubectlJson(['get', 'service', 'kubernetes'], { namespace: 'default' }).spec.clusterIP;
    expect(await dns.resolve4('kubernetes.default.svc.cluster.local')).toEqual([kubernetesIP]);
    // A Service made now: CoreDNS watches the API server, so its name resolves within seconds.
    const svc = createObject({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'named' }, spec: { ports: [{ port: 80 }] } }, { namespace: ns });
    const answer = await eventually(async () => (await dns.resolve4(`named.${ns}.svc.cluster.local`).catch(() => undefined))?.join(), 30_000, `named.${ns}.svc.cluster.local to resolve`, 500);
    expect(answer).toBe(svc.spec.clusterIP);
    await expect(dns.resolve4(`absent.${ns}.svc.cluster.local`)).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('keeps the default ServiceAccount and kube-root-ca.crt in new namespaces', () => {
    expect(kubectl(['get', 'configmap', 'kube-root-ca.crt', '-o', 'name'], { namespace: ns }).trim()).toBe('configmap/kube-root-ca.crt');
  });
});
