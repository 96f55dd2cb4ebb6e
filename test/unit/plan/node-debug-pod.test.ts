import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { buildNodeDebugPod, buildNodeSessionEvent, nodeNotReady, nodeRefName, type NodeDebugRequest } from '../../../src/plan/node-debug-pod';
import { nodeDebugPodName, labelValue } from '../../../src/plan/names';
import { BUILTIN_PRESETS } from '../../../src/presets/builtin';
import type { Preset } from '../../../src/presets/preset';
import { aNode } from '../../support/builders';

const preset = (name: string, over: Partial<Preset> = {}): Preset => ({ ...BUILTIN_PRESETS.find((p) => p.name === name)!, ...over });
const node = aNode('worker-1').withUid('n-1').withTaint('dedicated', 'NoSchedule', 'infra').build() as V1Node;
const TIME = '2026-11-30T09:00:00.000Z';
const req = (over: Partial<NodeDebugRequest> = {}): NodeDebugRequest => ({ namespace: 'ops', time: TIME, stamp: { user: 'alice' }, ...over });

/** The parts every node debug pod shares; each case names only what its preset changes. */
function expectedPod(o: {
  preset: string;
  image: string;
  command: string[];
  spec?: Record<string, unknown>;
  readOnly?: boolean;
  securityContext: Record<string, unknown>;
  env?: Array<{ name: string; value: string }>;
  audit?: Record<string, unknown>;
}): V1Pod {
  const container = `debugger-${o.preset}-x7k2p`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'node-debugger-worker-1-x7k2p',
      namespace: 'ops',
      labels: { 'kubectl-ephemeral.dev/node-debug': 'worker-1', 'app.kubernetes.io/managed-by': 'kubectl-ephemeral' },
      annotations: {
        'kubectl-ephemeral.dev/node-debug': 'worker-1',
        'kubectl-ephemeral.dev/owner': 'alice',
        'kubectl-ephemeral.dev/audit': JSON.stringify([{ container, preset: o.preset, image: o.image, user: 'alice', time: TIME, ...o.audit, node: 'worker-1', prev: '' }]),
      },
    },
    spec: {
      nodeName: 'worker-1',
      restartPolicy: 'Never',
      tolerations: [{ operator: 'Exists' }],
      ...o.spec,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      volumes: [{ name: 'host-root', hostPath: { path: '/' } }],
      containers: [
        {
          name: container,
          image: o.image,
          command: o.command,
          stdin: true,
          tty: true,
          terminationMessagePolicy: 'File',
          volumeMounts: [{ name: 'host-root', mountPath: '/host', ...(o.readOnly ? { readOnly: true } : {}) }],
          securityContext: o.securityContext,
          env: o.env ?? [
            { name: 'KUBECTL_EPHEMERAL_PRESET', value: o.preset },
            { name: 'KUBECTL_EPHEMERAL_USER', value: 'alice' },
          ],
        },
      ],
    },
  };
}

const leastPrivilege = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } };
const nobody = { runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true };
const NO_TARGET_USER = 'a node has no target user: the shell runs as uid 65534, so root-only files under /host are not readable; add --run-as=root if you need them';

describe('buildNodeDebugPod', () => {
  it.each<[string, Preset, Partial<NodeDebugRequest>, V1Pod, string[]]>([
    [
      'shell: /host read-write, no host namespace, as nobody',
      preset('shell'),
      {},
      expectedPod({ preset: 'shell', image: 'docker.io/library/busybox:1.36', command: ['sh'], securityContext: { ...leastPrivilege, ...nobody } }),
      [],
    ],
    [
      'network: host network, root with NET_ADMIN, NET_RAW and SETGID (for tcpdump -Z root) only, /host read-only',
      preset('network'),
      {},
      expectedPod({
        preset: 'network',
        image: 'docker.io/nicolaka/netshoot:v0.13',
        command: ['bash'],
        spec: { hostNetwork: true },
        readOnly: true,
        securityContext: { ...leastPrivilege, capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW', 'SETGID'] }, runAsUser: 0, runAsGroup: 0, runAsNonRoot: false },
      }),
      [],
    ],
    [
      'forensics: host PID, /host and its own root read-only, the target user becomes nobody',
      preset('forensics'),
      { stamp: { user: 'alice', reason: 'INC-42' } },
      expectedPod({
        preset: 'forensics',
        image: 'docker.io/library/busybox:1.36',
        command: ['sh'],
        spec: { hostPID: true },
        readOnly: true,
        securityContext: { ...leastPrivilege, readOnlyRootFilesystem: true, ...nobody },
        env: [
          { name: 'KUBECTL_EPHEMERAL_PRESET', value: 'forensics' },
          { name: 'KUBECTL_EPHEMERAL_USER', value: 'alice' },
          { name: 'KUBECTL_EPHEMERAL_REASON', value: 'INC-42' },
        ],
        audit: { reason: 'INC-42' },
      }),
      [NO_TARGET_USER],
    ],
    [
      'process with --run-as root and a command after --',
      preset('process'),
      { runAs: { kind: 'root' }, command: ['ps', '-ef'] },
      expectedPod({
        preset: 'process',
        image: 'docker.io/library/busybox:1.36',
        command: ['ps', '-ef'],
        spec: { hostPID: true },
        readOnly: true,
        securityContext: { ...leastPrivilege, runAsUser: 0, runAsGroup: 0, runAsNonRoot: false },
      }),
      [],
    ],
    [
      'shell --privileged',
      preset('shell'),
      { privileged: true },
      expectedPod({ preset: 'shell', image: 'docker.io/library/busybox:1.36', command: ['sh'], securityContext: { privileged: true, runAsUser: 0, runAsNonRoot: false } }),
      ['--privileged: the debug container gets every capability and host device access'],
    ],
    [
      'a user preset sharing both host namespaces',
      preset('shell', { name: 'node-admin', image: 'corp/tools:1', command: ['bash'], node: { hostNetwork: true, hostPID: true, hostReadOnly: false, banner: [] } }),
      {},
      expectedPod({ preset: 'node-admin', image: 'corp/tools:1', command: ['bash'], spec: { hostNetwork: true, hostPID: true }, securityContext: { ...leastPrivilege, ...nobody } }),
      [],
    ],
  ])('%s', (_what, p, over, pod, notices) => {
    expect(buildNodeDebugPod(node, p, req(over), 'x7k2p')).toEqual({ pod, notices });
  });

  it('creates a non-TTY container when asked, names the container after --name and records an unknown owner as such', () => {
    const { pod } = buildNodeDebugPod(node, preset('shell'), req({ tty: false, name: 'dbg', stamp: {} }), 'x7k2p');
    expect(pod.spec?.containers[0]).toMatchObject({ name: 'dbg', stdin: true, tty: false, env: [{ name: 'KUBECTL_EPHEMERAL_PRESET', value: 'shell' }] });
    expect(pod.metadata?.annotations?.['kubectl-ephemeral.dev/owner']).toBe('unknown');
  });

  it('refuses a preset without a node profile, an invalid --name and an image outside allowedImages', () => {
    expect(() => buildNodeDebugPod(node, preset('shell', { node: undefined, source: '/p.yaml' }), req(), 'x7k2p')).toThrow(
      'preset "shell" does not debug nodes (/p.yaml); use a preset with a node profile (kubectl ephemeral presets -o yaml)',
    );
    expect(() => buildNodeDebugPod(node, preset('shell'), req({ name: 'Bad_Name' }), 'x7k2p')).toThrow('container name "Bad_Name" is not a DNS-1123 label');
    expect(() => buildNodeDebugPod(node, preset('shell', { allowedImages: ['corp/'] }), req(), 'x7k2p')).toThrow('image "docker.io/library/busybox:1.36" is not allowed for preset "shell"');
  });

  it('keeps names of long or dotted nodes valid: the pod name within 63 characters, the label value cut', () => {
    const long = 'ip-10-0-12-34.eu-west-1.compute.internal.' + 'a'.repeat(40);
    const { pod } = buildNodeDebugPod(aNode(long).build() as V1Node, preset('shell'), req(), 'x7k2p');
    expect(pod.metadata?.name).toBe('node-debugger-ip-10-0-12-34-eu-west-1-compute-internal-aa-x7k2p');
    expect(pod.metadata?.labels?.['kubectl-ephemeral.dev/node-debug']).toBe(long.slice(0, 63));
    expect(pod.metadata?.annotations?.['kubectl-ephemeral.dev/node-debug']).toBe(long);
    expect(pod.spec?.nodeName).toBe(long);
  });
});

describe('node names', () => {
  it.each([
    ['127.0.0.1', 'abcde', 'node-debugger-127-0-0-1-abcde'],
    ['n'.repeat(60), 'abcde', `node-debugger-${'n'.repeat(43)}-abcde`],
    ['a.b-' + 'c'.repeat(60), 'abcde', `node-debugger-a-b-${'c'.repeat(39)}-abcde`],
  ])('nodeDebugPodName(%s)', (n, suffix, want) => {
    expect(nodeDebugPodName(n, suffix)).toBe(want);
    expect(nodeDebugPodName(n, suffix).length).toBeLessThanOrEqual(63);
  });

  it('cuts a name ending in a separator before the suffix', () => expect(nodeDebugPodName('x'.repeat(42) + '.y', 'abcde')).toBe(`node-debugger-${'x'.repeat(42)}-abcde`));
  it('label values drop a trailing separator after the cut', () => expect(labelValue('a'.repeat(62) + '.b')).toBe('a'.repeat(62)));

  it.each([
    ['node/worker-1', 'worker-1'],
    ['nodes/worker-1', 'worker-1'],
    ['no/worker-1', 'worker-1'],
    ['node/', ''],
    ['web-7d4b9', undefined],
    ['nod/x', undefined],
    ['pod/web', undefined],
  ])('nodeRefName(%s)', (arg, want) => expect(nodeRefName(arg)).toBe(want));
});

describe('nodeNotReady', () => {
  it.each<[string, V1Node, string | undefined]>([
    ['a Ready node', aNode('a').build() as V1Node, undefined],
    ['NotReady with the kubelet reason', aNode('a').withReady('False', 'KubeletNotReady', 'container runtime is down').build() as V1Node, 'its Ready condition is False (KubeletNotReady: container runtime is down)'],
    ['Unknown without a reason', aNode('a').withReady('Unknown').build() as V1Node, 'its Ready condition is Unknown'],
    ['no conditions at all', aNode('a').withoutConditions().build() as V1Node, 'it reports no Ready condition'],
  ])('%s', (_what, n, want) => expect(nodeNotReady(n)).toBe(want));
});

describe('buildNodeSessionEvent', () => {
  it('records who started which session in which pod, on the node, in "default"', () => {
    const { pod } = buildNodeDebugPod(node, preset('forensics'), req({ stamp: { user: 'alice', reason: 'INC-42' } }), 'x7k2p');
    expect(buildNodeSessionEvent(node, pod, new Date(TIME))).toEqual({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: 'worker-1.', namespace: 'default' },
      involvedObject: { apiVersion: 'v1', kind: 'Node', name: 'worker-1', uid: 'n-1' },
      type: 'Normal',
      reason: 'DebugSession',
      message: 'user "alice" started a forensics session in pod ops/node-debugger-worker-1-x7k2p (image docker.io/library/busybox:1.36); reason: INC-42',
      source: { component: 'kubectl-ephemeral' },
      reportingComponent: 'kubectl-ephemeral',
      firstTimestamp: new Date(TIME),
      lastTimestamp: new Date(TIME),
      count: 1,
    });
  });
});
