// Node sessions (`<preset> node/NAME`) against the API server: what is refused before anything is
// created (Pod Security, RBAC, a missing or NotReady node), and that the node debug pod is gone
// after Ctrl-C, SIGTERM or a timeout; `list` and `cleanup` know the pods a killed run left. The pods
// are bound to the fake node, which no kubelet runs: they never start, so the plugin waits.
import { randomBytes } from 'node:crypto';
import { aNode } from '../../support/builders';
import { applyManifest, auditEventsSince, auditLogSize, clusterEnv, createObject, createTestNamespace, deleteTestNamespace, kubectl, kubectlJson, kubectlJsonAsync, kubectlResult } from '../../support/cluster';
import { expectExit, requireBuiltPlugin, runPlugin, startPlugin, stderrLines, tempDir, theErrorLine } from '../../support/plugin';
import { eventually } from '../../support/wait';
import { grantNodeSessions } from '../../support/node-identity';

jest.setTimeout(90_000);

const ENFORCE = 'pod-security.kubernetes.io/enforce';
const LABEL = 'kubectl-ephemeral.dev/node-debug';
const run = randomBytes(3).toString('hex');
/** A user with exactly the documented roles: the debugger role in the test namespaces and the node role. */
const NODE_USER = `node-debugger-${run}`;
/** A user who may run node sessions in the baseline namespace but not read its labels. */
const BLIND = `node-blind-${run}`;
/** A user who may read the node but has no role in the namespaces. */
const LOOKER = `node-looker-${run}`;

const nodePods = (ns: string): any[] => kubectlJson(['get', 'pods', '-l', LABEL], { namespace: ns }).items;

describe('node sessions against the API server', () => {
  const { fakeNode } = clusterEnv();
  let privileged = '';
  let baseline = '';
  let notReady = '';
  const ungrant: Array<() => void> = [];

  beforeAll(async () => {
    requireBuiltPlugin();
    privileged = await createTestNamespace('plugin-node', { [ENFORCE]: 'privileged' });
    baseline = await createTestNamespace('plugin-node-baseline', { [ENFORCE]: 'baseline' });
    ungrant.push(grantNodeSessions(NODE_USER, [privileged, baseline]), grantNodeSessions(LOOKER, []), grantNodeSessions(BLIND, []));
    applyManifest({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'blind', namespace: baseline },
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
        { apiGroups: [''], resources: ['pods/attach'], verbs: ['create', 'get'] },
      ],
    });
    applyManifest({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'blind', namespace: baseline },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'blind' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: BLIND }],
    });
    // A registered node whose kubelet reports NotReady (no kubelet runs it: the status stays).
    notReady = `ke-notready-${run}`;
    createObject(aNode(notReady).build());
    kubectl(['patch', 'node', notReady, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: aNode(notReady).withReady('False', 'KubeletNotReady', 'container runtime network not ready').build().status })]);
  });
  afterAll(() => {
    deleteTestNamespace(privileged);
    deleteTestNamespace(baseline);
    ungrant.forEach((f) => f());
    if (notReady) kubectlResult(['delete', 'node', notReady, '--ignore-not-found']);
  });

  describe('refused before anything is created', () => {
    it('a baseline namespace: Pod Security is named with the field, and the privileged namespaces to use instead (an identity that may list namespaces)', async () => {
      const from = auditLogSize();
      const r = await runPlugin(['shell', `node/${fakeNode}`, '-n', baseline, '--context', 'admin']);
      expectExit(r, 65);
      const line = theErrorLine(r);
      const m = new RegExp(
        `^error: namespace "${baseline}" enforces Pod Security "baseline": pod "node-debugger-${fakeNode}-[a-z0-9]{5}" violates hostPathVolumes \\(spec\\.volumes\\[host-root\\]\\.hostPath: volume "host-root" is a hostPath\\); ` +
          `a node session shares host namespaces and mounts the node's root, which only Pod Security "privileged" allows: pass --namespace (\\S+) \\(namespaces labelled pod-security\\.kubernetes\\.io/enforce=privileged: ([^)]*)\\)$`,
      ).exec(line);
      expect({ line, matched: !!m }).toEqual({ line, matched: true });
      // The namespace it names really is privileged, and ours is among those listed (unless cut off).
      expect(kubectlJson(['get', 'namespace', m![1]!]).metadata.labels[ENFORCE]).toBe('privileged');
      expect(m![2]!.endsWith('...') || m![2]!.split(', ').includes(privileged)).toBe(true);
      expect(nodePods(baseline)).toEqual([]);
      expect(auditEventsSince(from).filter((e) => e.verb === 'create' && e.objectRef?.resource === 'pods' && e.objectRef?.namespace === baseline)).toEqual([]);
    });

    it('a baseline namespace, as an identity that may not list namespaces: the label a namespace needs', async () => {
      const r = await runPlugin(['network', `node/${fakeNode}`, '-n', baseline, '--as', NODE_USER]);
      expectExit(r, 65);
      expect(theErrorLine(r)).toMatch(
        new RegExp(
          `^error: namespace "${baseline}" enforces Pod Security "baseline": pod "node-debugger-${fakeNode}-[a-z0-9]{5}" violates hostNamespaces \\(spec\\.hostNetwork/hostPID/hostIPC: host namespaces are shared\\); ` +
            `a node session shares host namespaces and mounts the node's root, which only Pod Security "privileged" allows: pass --namespace with a namespace labelled pod-security\\.kubernetes\\.io/enforce=privileged \\(ask an admin which one\\)$`,
        ),
      );
      expect(nodePods(baseline)).toEqual([]);
    });

    it('a baseline namespace the identity may not read: admission refuses the pod, and the error still says where to go', async () => {
      const r = await runPlugin(['shell', `node/${fakeNode}`, '-n', baseline, '--as', BLIND]);
      expectExit(r, 65);
      expect(theErrorLine(r)).toMatch(
        new RegExp(
          `^error: pod "node-debugger-${fakeNode}-[a-z0-9]{5}" in namespace "${baseline}": rejected by Pod Security admission: violates PodSecurity "baseline:latest": hostPath volumes \\(volume "host-root"\\); ` +
            `a node session shares host namespaces and mounts the node's root, which only Pod Security "privileged" allows: pass --namespace with a namespace labelled pod-security\\.kubernetes\\.io/enforce=privileged \\(ask an admin which one\\)$`,
        ),
      );
      expect(r.stderr).not.toContain('deleted node debug pod');
      expect(nodePods(baseline)).toEqual([]);
    });

    it('the API server agrees: the pod the plugin would create is rejected by admission in the baseline namespace', async () => {
      const r = await runPlugin(['shell', `node/${fakeNode}`, '-n', privileged, '--as', NODE_USER, '--dry-run', '-o', 'json']);
      expectExit(r, 0);
      const pod = JSON.parse(r.stdout);
      pod.metadata.namespace = baseline;
      const verdict = kubectlResult(['create', '-f', '-', '--dry-run=server', '-n', baseline], { input: JSON.stringify(pod) });
      expect(verdict.ok).toBe(false);
      expect(verdict.stderr).toMatch(/violates PodSecurity "baseline:latest": hostPath volumes \(volume "host-root"\)/);
    });

    it('an identity that may not get nodes (reader): names the verb and exits 77', async () => {
      const r = await runPlugin(['shell', `node/${fakeNode}`, '-n', privileged, '--context', 'reader']);
      expectExit(r, 77);
      expect(theErrorLine(r)).toBe(
        `error: cannot get node "${fakeNode}": nodes "${fakeNode}" is forbidden: User "reader" cannot get resource "nodes" in API group "" at the cluster scope; a node session needs "get nodes"; ask for the ClusterRole kubectl-ephemeral-node-debugger (listed by kubectl ephemeral permissions)`,
      );
      expect(nodePods(privileged)).toEqual([]);
    });

    it('an identity that may read the node but not create pods: names the namespace and the verbs', async () => {
      const r = await runPlugin(['shell', `node/${fakeNode}`, '-n', privileged, '--as', LOOKER]);
      expectExit(r, 77);
      expect(theErrorLine(r)).toBe(
        `error: user "${LOOKER}" cannot create and delete pods in namespace "${privileged}" (a node session runs a pod on the node and deletes it at the end); ask for "create, delete pods" there, or pass --namespace with a namespace where you have them`,
      );
      expect(nodePods(privileged)).toEqual([]);
    });

    it('an identity that may create pods but not attach to them: names pods/attach', async () => {
      const user = `node-noattach-${run}`;
      ungrant.push(grantNodeSessions(user, []));
      applyManifest({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'no-attach', namespace: privileged },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] }, { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] }],
      });
      applyManifest({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'no-attach', namespace: privileged },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'no-attach' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      });
      const r = await runPlugin(['shell', `node/${fakeNode}`, '-n', privileged, '--as', user]);
      expectExit(r, 77);
      expect(theErrorLine(r)).toBe(
        `error: user "${user}" cannot create pods/attach in namespace "${privileged}" (a node session attaches to its pod); ask for it, or pass --namespace with a namespace where you have it`,
      );
      expect(nodePods(privileged)).toEqual([]);
    });

    it.each([
      ['a node that does not exist', () => 'no-such-node', 66, () => 'error: node "no-such-node" not found; list nodes with kubectl get nodes'],
      [
        'a node that is not Ready',
        () => notReady,
        64,
        () => `error: node "${notReady}" is not Ready: its Ready condition is False (KubeletNotReady: container runtime network not ready); pick a Ready node (kubectl get nodes)`,
      ],
      ['node/ without a name', () => '', 64, () => 'error: node/ needs a node name: node/NAME (list them with kubectl get nodes)'],
    ])('%s', async (_what, node, code, message) => {
      const r = await runPlugin(['shell', `node/${node()}`, '-n', privileged, '--as', NODE_USER]);
      expectExit(r, code);
      expect(theErrorLine(r)).toBe(message());
      expect(nodePods(privileged)).toEqual([]);
    });
  });

  it('--dry-run=server (nodes/NAME, as kubectl debug takes it): the API server validates and admits the pod, which is printed and not stored', async () => {
    const r = await runPlugin(['network', `nodes/${fakeNode}`, '-n', privileged, '--as', NODE_USER, '--dry-run=server', '-o', 'json']);
    expectExit(r, 0);
    const pod = JSON.parse(r.stdout);
    expect(pod.metadata.name).toMatch(new RegExp(`^node-debugger-${fakeNode}-[a-z0-9]{5}$`));
    expect(pod.metadata.uid).toBeDefined(); // filled in by the server
    expect(pod.spec).toMatchObject({ nodeName: fakeNode, hostNetwork: true, tolerations: [{ operator: 'Exists' }], volumes: [{ name: 'host-root', hostPath: { path: '/', type: '' } }] });
    expect(pod.spec.containers[0].securityContext.capabilities).toEqual({ add: ['NET_ADMIN', 'NET_RAW', 'SETGID'], drop: ['ALL'] });
    expect(nodePods(privileged)).toEqual([]);
  });

  it('a node-only user preset: refused on a pod, on a node it shares what its node mapping says', async () => {
    const dir = tempDir('ke-node-presets-');
    try {
      const file = dir.file('presets.yaml', 'presets:\n  node-admin:\n    extends: shell\n    pods: false\n    node: {hostNetwork: true, hostPID: true}\n');
      const env = { KUBECTL_EPHEMERAL_CONFIG: file };
      const onPod = await runPlugin(['node-admin', 'web', '-n', privileged, '--as', NODE_USER], { env });
      expectExit(onPod, 64);
      expect(theErrorLine(onPod)).toBe(`error: preset "node-admin" debugs nodes only (${file}); pass node/NAME`);
      const onNode = await runPlugin(['node-admin', `node/${fakeNode}`, '-n', privileged, '--as', NODE_USER, '--dry-run', '-o', 'json'], { env });
      expectExit(onNode, 0);
      const spec = JSON.parse(onNode.stdout).spec;
      expect([spec.hostNetwork, spec.hostPID, spec.containers[0].volumeMounts]).toEqual([true, true, [{ name: 'host-root', mountPath: '/host' }]]);
    } finally {
      dir.remove();
    }
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s while waiting for the node debug pod deletes it and exits %d', async (signal, code) => {
    const session = startPlugin(['shell', `node/${fakeNode}`, '-n', privileged, '--as', NODE_USER, '--timeout', '60s'], { timeoutMs: 60_000 });
    const pod = await eventually(async () => (await kubectlJsonAsync(['get', 'pods', '-l', LABEL], { namespace: privileged })).items[0], 20_000, 'the node debug pod');
    session.child.kill(signal);
    const r = await session.done;
    expect({ code: r.code, signal: r.signal }).toEqual({ code, signal: null });
    expect(stderrLines(r)).toContain(`deleted node debug pod "${pod.metadata.name}"`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(nodePods(privileged)).toEqual([]);
  });

  it('a pod that does not start within --timeout is deleted, and the timeout names it; the event on the node was written meanwhile', async () => {
    const r = await runPlugin(['shell', `node/${fakeNode}`, '-n', privileged, '--as', NODE_USER, '--timeout', '3s', '--reason', 'INC-9']);
    expectExit(r, 75);
    const name = /pod "(node-debugger-[^"]+)"/.exec(r.stderr)![1]!;
    expect(theErrorLine(r)).toMatch(new RegExp(`^error: container "debugger-shell-[a-z0-9]{5}" of pod "${name}" did not start within --timeout`));
    expect(stderrLines(r)).toContain(`deleted node debug pod "${name}"`);
    expect(nodePods(privileged)).toEqual([]);
    const events = kubectlJson(['get', 'events', '--field-selector', `involvedObject.kind=Node,involvedObject.name=${fakeNode},reason=DebugSession`], { namespace: 'default' }).items;
    expect(events.filter((e: any) => e.message.includes(name)).map((e: any) => [e.type, e.source.component, e.message])).toEqual([
      ['Normal', 'kubectl-ephemeral', `user "${NODE_USER}" started a shell session in pod ${privileged}/${name} (image docker.io/library/busybox:1.36); reason: INC-9`],
    ]);
  });

  it('without "create events" the session goes on with a notice instead of the event', async () => {
    const user = `node-noevents-${run}`;
    const role = `ke-test-get-nodes-${run}`;
    applyManifest({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: role, labels: { 'kubectl-ephemeral/test': 'true' } }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }] });
    applyManifest({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: role, labels: { 'kubectl-ephemeral/test': 'true' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    });
    applyManifest({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: user, namespace: privileged },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kubectl-ephemeral-node-session' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    });
    try {
      const r = await runPlugin(['shell', `node/${fakeNode}`, '-n', privileged, '--as', user, '--timeout', '3s']);
      expectExit(r, 75);
      expect(stderrLines(r)).toContain(
        `note: no event recorded on node "${fakeNode}" (no "create events" permission in namespace "default"); the pod's kubectl-ephemeral.dev/audit annotation still records the session`,
      );
      expect(nodePods(privileged)).toEqual([]);
    } finally {
      kubectlResult(['delete', 'clusterrolebinding', role, '--ignore-not-found']);
      kubectlResult(['delete', 'clusterrole', role, '--ignore-not-found']);
    }
  });

  it('list shows a pod a killed run left behind (target node/NAME, owner); cleanup node/NAME deletes it', async () => {
    const session = startPlugin(['forensics', `node/${fakeNode}`, '-n', privileged, '--as', NODE_USER, '--reason', 'INC-7'], { timeoutMs: 60_000 });
    const pod = await eventually(async () => (await kubectlJsonAsync(['get', 'pods', '-l', LABEL], { namespace: privileged })).items[0], 20_000, 'the node debug pod');
    session.child.kill('SIGKILL'); // nothing can clean up after this
    await session.done;
    const name = pod.metadata.name;
    expect(pod.metadata.annotations).toMatchObject({ [LABEL]: fakeNode, 'kubectl-ephemeral.dev/owner': NODE_USER });
    expect(JSON.parse(pod.metadata.annotations['kubectl-ephemeral.dev/audit'])).toEqual([
      { container: pod.spec.containers[0].name, preset: 'forensics', image: 'docker.io/library/busybox:1.36', user: NODE_USER, time: expect.any(String), reason: 'INC-7', node: fakeNode, prev: '' },
    ]);

    const list = await runPlugin(['list', '-n', privileged, '--as', NODE_USER, '-o', 'json']);
    expectExit(list, 0);
    expect(JSON.parse(list.stdout)).toEqual([
      { namespace: privileged, pod: name, container: pod.spec.containers[0].name, preset: 'forensics', image: 'docker.io/library/busybox:1.36', target: `node/${fakeNode}`, state: 'pending', createdBy: NODE_USER, reason: 'INC-7' },
    ]);

    const plan = await runPlugin(['cleanup', '-n', privileged, '--as', NODE_USER, '--dry-run']);
    expectExit(plan, 0);
    expect(plan.stdout).toMatch(new RegExp(`^delete node debug pod\\s+${privileged}\\s+${name}\\s+-\\s+${NODE_USER}$`, 'm'));
    expect(nodePods(privileged)).toHaveLength(1);

    const cleanup = await runPlugin(['cleanup', `node/${fakeNode}`, '-n', privileged, '--as', NODE_USER]);
    expectExit(cleanup, 0);
    expect(cleanup.stdout).toBe(`deleted node debug pod ${privileged}/${name}\n`);
    expect(nodePods(privileged)).toEqual([]);
  });
});
