// runDebug and debugWith through the CommandContext seams: a fake cluster answering the calls a
// dry run makes, the printed result compared as a whole object. The API server's own validation of
// the same requests is in test/integration/plugin (kubectl-debug-flags.test.ts and others).
import type { V1Namespace, V1Node, V1Pod } from '@kubernetes/client-node';
import { runDebug } from '../../../src/commands/debug';
import type { CommandContext, Connection } from '../../../src/context';
import type { DebugOptions } from '../../../src/debug/request';
import type { KubeFlags } from '../../../src/kube/kube-flags';
import { PluginError } from '../../../src/errors/plugin-error';
import { STAMP_ENV } from '../../../src/plan/debug-container';
import { PresetRegistry } from '../../../src/presets/registry';
import { aDebugOptions, aPod } from '../../support/builders';

const NS = 'shop';
const USER = 'alice';

/** What the fake cluster holds and what it was asked. */
interface FakeCluster {
  pods: V1Pod[];
  level?: 'privileged' | 'baseline' | 'restricted';
  nodes?: V1Node[];
  patches: Array<{ pod: string; name: string; dryRun: boolean }>;
  /** Rejects a non-dry-run PATCH with this error (then nothing else is needed). */
  patchError?: Error;
}

function fakeConnection(cluster: FakeCluster): Connection {
  const namespace: V1Namespace = { metadata: { name: NS, labels: cluster.level ? { 'pod-security.kubernetes.io/enforce': cluster.level } : {} } };
  const podNamed = (name: string) => {
    const pod = cluster.pods.find((p) => p.metadata?.name === name);
    if (!pod) throw new PluginError('not-found', `pod "${name}" in namespace "${NS}" not found`, { reason: 'missing' });
    return pod;
  };
  const api = {
    getPod: async (_ns: string, name: string) => podNamed(name),
    whoAmI: async () => USER,
    identity: async () => ({ user: USER, noSelfSubjectReview: false }),
    getNamespace: async () => namespace,
    serverFacts: async () => ({ gitVersion: 'v1.32.0', ephemeralContainersKind: 'Pod' }),
    rules: async () => ({ rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }], incomplete: false }),
    getNode: async (name: string) => cluster.nodes?.find((n) => n.metadata?.name === name) ?? Promise.reject(new PluginError('not-found', `node "${name}" not found`)),
    dryRunCreatePod: async (_ns: string, pod: V1Pod) => ({ ...pod, status: { phase: 'Pending' } }),
    addEphemeralContainer: async (_ns: string, pod: string, container: { name: string }, dryRun = false) => {
      cluster.patches.push({ pod, name: container.name, dryRun });
      if (!dryRun && cluster.patchError) throw cluster.patchError;
      const found = podNamed(pod);
      // As the server answers: its defaults filled in.
      return { ...found, spec: { ...found.spec, ephemeralContainers: [{ ...container, imagePullPolicy: 'IfNotPresent' }] } };
    },
  };
  return { api: api as unknown as Connection['api'], target: { namespace: NS } as Connection['target'], close: () => undefined };
}

function fakeContext(cluster: FakeCluster): { ctx: CommandContext; out: string[]; info: string[] } {
  const out: string[] = [];
  const info: string[] = [];
  const ctx = {
    printer: { out: (t: string) => out.push(t), info: (t: string) => info.push(t), warn: (t: string) => info.push(t), debug: () => undefined, status: () => undefined, verbose: false },
    env: {},
    presets: async () => PresetRegistry.from(),
    connect: async () => fakeConnection(cluster),
    isTerminal: { stdin: true, stdout: true, stderr: true },
    suffix: () => 'abcde',
    now: () => Date.parse('2026-12-06T22:00:00Z'),
    signal: new AbortController().signal,
    onInterrupt: () => () => undefined,
  } as unknown as CommandContext;
  return { ctx, out, info };
}

const options = (over: Partial<DebugOptions>): DebugOptions => aDebugOptions({ dryRun: 'client', output: 'json', ...over });

const web = () => aPod('web').inNamespace(NS).withContainer('app', { image: 'nginx:1', securityContext: { runAsUser: 1000, runAsGroup: 3000 } }).build() as V1Pod;
const stamp = (preset: string, reason?: string) => [
  { name: STAMP_ENV.preset, value: preset },
  { name: STAMP_ENV.user, value: USER },
  ...(reason ? [{ name: STAMP_ENV.reason, value: reason }] : []),
  // The pod's audit trail as read before the PATCH, pinned (the fake pod has none).
  { name: 'KUBECTL_EPHEMERAL_TRAIL' },
];
const SHELL = { name: 'debugger-shell-abcde', image: 'docker.io/library/busybox:1.36', command: ['sh'], stdin: true, tty: true, terminationMessagePolicy: 'File' };
const SHELL_SC = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' }, runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true };

describe('runDebug: the request through Complete, Validate and a dry run, against a fake cluster', () => {
  it.each<[string, Partial<DebugOptions>, FakeCluster['level'], object]>([
    ['shell with its own form', {}, 'privileged', { ...SHELL, securityContext: SHELL_SC, env: stamp('shell') }],
    [
      'an image, a name, a command and a reason',
      { image: 'alpine:3', name: 'dbg', command: ['id'], reason: 'ticket 7' },
      'privileged',
      { ...SHELL, name: 'dbg', image: 'alpine:3', command: ['id'], securityContext: SHELL_SC, env: stamp('shell', 'ticket 7') },
    ],
    [
      '--privileged',
      { privileged: true },
      'privileged',
      { ...SHELL, securityContext: { privileged: true, runAsUser: 0, runAsNonRoot: false }, env: stamp('shell') },
    ],
    [
      '--run-as target: the target container\'s user',
      { runAs: 'target' },
      'privileged',
      { ...SHELL, securityContext: { ...SHELL_SC, runAsUser: 1000, runAsGroup: 3000 }, env: stamp('shell') },
    ],
    [
      '--env: set in the container, the creator stamp kept last and unchangeable',
      { env: ['LOG=debug,KUBECTL_EPHEMERAL_USER=mallory'] },
      'privileged',
      { ...SHELL, securityContext: SHELL_SC, env: [{ name: 'LOG', value: 'debug' }, ...stamp('shell')] },
    ],
    ['--arguments-only: the preset\'s command with these args', { command: ['-c', 'id'], argumentsOnly: true }, 'privileged', { ...SHELL, args: ['-c', 'id'], securityContext: SHELL_SC, env: stamp('shell') }],
    ['--image-pull-policy', { imagePullPolicy: 'Never' }, 'privileged', { ...SHELL, imagePullPolicy: 'Never', securityContext: SHELL_SC, env: stamp('shell') }],
    ['--target: the processes of that container', { target: 'app' }, 'privileged', { ...SHELL, targetContainerName: 'app', securityContext: SHELL_SC, env: stamp('shell') }],
    ['--profile sysadmin: privileged', { profile: 'sysadmin' }, 'privileged', { ...SHELL, securityContext: { privileged: true, runAsUser: 0, runAsNonRoot: false }, env: stamp('shell') }],
    ['-i=false: no stdin and no TTY', { stdin: false }, 'privileged', { ...SHELL, stdin: false, tty: false, securityContext: SHELL_SC, env: stamp('shell') }],
  ])('%s', async (_what, over, level, container) => {
    const cluster: FakeCluster = { pods: [web()], level, patches: [] };
    const { ctx, out } = fakeContext(cluster);
    expect(await runDebug(ctx, options(over))).toBe(0);
    expect(JSON.parse(out.join(''))).toEqual({ spec: { ephemeralContainers: [container] } });
    expect(cluster.patches).toEqual([]);
  });

  it('--dry-run=server prints what the API server answered, after one dry-run PATCH', async () => {
    const cluster: FakeCluster = { pods: [web()], level: 'privileged', patches: [] };
    const { ctx, out } = fakeContext(cluster);
    expect(await runDebug(ctx, options({ dryRun: 'server' }))).toBe(0);
    expect(JSON.parse(out.join(''))).toEqual({ spec: { ephemeralContainers: [{ ...SHELL, securityContext: SHELL_SC, env: stamp('shell'), imagePullPolicy: 'IfNotPresent' }] } });
    expect(cluster.patches).toEqual([{ pod: 'web', name: 'debugger-shell-abcde', dryRun: true }]);
  });

  it('--level baseline in a restricted namespace: the line names --level baseline, the gate refuses before any PATCH', async () => {
    const root = aPod('web').inNamespace(NS).withContainer('app', { image: 'nginx:1' }).withStatus({ phase: 'Running', containerStatuses: [{ name: 'app', ready: true, restartCount: 0, image: 'nginx:1', imageID: '', state: { running: {} } }] }).build() as V1Pod;
    const cluster: FakeCluster = { pods: [root], level: 'restricted', patches: [] };
    const { ctx, info } = fakeContext(cluster);
    await expect(runDebug(ctx, options({ preset: 'network', level: 'baseline', dryRun: undefined, output: undefined }))).rejects.toMatchObject({ kind: 'policy-rejected' });
    expect(info.filter((l) => l.startsWith('--level'))).toEqual([expect.stringMatching(/^--level baseline: the debug container runs as root keeping only NET_RAW, SETGID/)]);
    expect(cluster.patches).toEqual([]);
  });

  it.each([
    [{ image: 'busybox:1.36 --privileged' }, '--image "busybox:1.36 --privileged" is not an image reference: it holds whitespace or a control character; for example --image busybox:1.36'],
    [{ runAs: '4294967296' }, 'invalid --run-as "4294967296": uid 4294967296 is out of range (0 to 2147483647)'],
    [{ env: ['A\tB=1'] }, 'debug container "debugger-shell-abcde" cannot be created: environment variable name "A\tB" must be printable ASCII without "="; nothing was sent'],
  ])('a value the cluster would refuse or never run (%j): exit 64, no PATCH', async (over, message) => {
    const cluster: FakeCluster = { pods: [web()], level: 'privileged', patches: [] };
    const { ctx } = fakeContext(cluster);
    await expect(runDebug(ctx, options({ dryRun: undefined, output: undefined, attach: false, ...over }))).rejects.toMatchObject({ kind: 'usage', exitCode: 64, message });
    expect(cluster.patches).toEqual([]);
  });

  it('--profile baseline in a restricted namespace: the form line and the fix name --profile, as typed', async () => {
    const root = aPod('web').inNamespace(NS).withContainer('app', { image: 'nginx:1' }).withStatus({ phase: 'Running', containerStatuses: [{ name: 'app', ready: true, restartCount: 0, image: 'nginx:1', imageID: '', state: { running: {} } }] }).build() as V1Pod;
    const cluster: FakeCluster = { pods: [root], level: 'restricted', patches: [] };
    const { ctx, info } = fakeContext(cluster);
    await expect(runDebug(ctx, options({ preset: 'network', profile: 'baseline', dryRun: undefined, output: undefined }))).rejects.toMatchObject({
      kind: 'policy-rejected',
      message: expect.stringMatching(/; drop --profile to let the plugin choose the form "restricted" allows$/),
    });
    expect(info.filter((l) => l.startsWith('--profile'))).toEqual([expect.stringMatching(/^--profile baseline: the debug container runs as root/)]);
    expect(cluster.patches).toEqual([]);
  });

  it('a PATCH refused for a taken name by --name is not retried: the error passes through', async () => {
    const taken = new PluginError('usage', 'the API server rejected the pods/ephemeralcontainers', { reason: 'name-taken' });
    const cluster: FakeCluster = { pods: [web()], level: 'privileged', patches: [], patchError: taken };
    const { ctx } = fakeContext(cluster);
    await expect(runDebug(ctx, options({ dryRun: undefined, output: undefined, name: 'dbg', attach: false }))).rejects.toBe(taken);
    expect(cluster.patches).toEqual([{ pod: 'web', name: 'dbg', dryRun: false }]);
  });

  it('crashloop --copy --dry-run prints the copy, labelled for cleanup, with the keep-alive', async () => {
    const cluster: FakeCluster = { pods: [web()], level: 'privileged', patches: [] };
    const { ctx, out } = fakeContext(cluster);
    expect(await runDebug(ctx, options({ preset: 'crashloop', copy: true, keepalive: 'sleep 60' }))).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject({
      metadata: { name: 'web-debug-abcde', labels: { 'kubectl-ephemeral.dev/copy-of': 'web', 'app.kubernetes.io/managed-by': 'kubectl-ephemeral' } },
      spec: { containers: [{ name: 'app', image: 'nginx:1', command: ['sleep', '60'] }] },
    });
  });

  it('node/NAME --dry-run prints the node pod with the request\'s container fields', async () => {
    const node = { metadata: { name: 'n1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } } as V1Node;
    const cluster: FakeCluster = { pods: [], nodes: [node], level: 'privileged', patches: [] };
    const { ctx, out } = fakeContext(cluster);
    expect(await runDebug(ctx, options({ pod: 'node/n1', image: 'alpine:3', command: ['id'], reason: 'r' }))).toBe(0);
    const pod = JSON.parse(out.join(''));
    expect(pod.spec.nodeName).toBe('n1');
    expect(pod.spec.containers).toEqual([
      expect.objectContaining({ image: 'alpine:3', command: ['id'], env: stamp('shell', 'r').filter((e) => e.name !== 'KUBECTL_EPHEMERAL_TRAIL') }),
    ]);
  });
});

describe('a terminal session begins with its PATCH (issue 24: kubectl attach\'s start-up and round trips overlap it)', () => {
  /** What the session's kubectl attach was asked, and what the debug flow had done by then. */
  interface AttachCall {
    container: string;
    patchesSent: number;
    patchesAnswered: number;
    runs?: boolean;
  }

  // The fake cluster of the dry-run tests, plus what a real run needs after the PATCH: the pod
  // watch (running, then ended with 0), events, the audit annotation. ctx.attach stands in for the
  // kubectl attach under a pty: it hears the flow's word through the EarlySession and lands when
  // the container runs.
  function sessionRun(cluster: FakeCluster, opts: { failFirst?: Error; suffixes?: string[] } = {}) {
    const { ctx, info } = fakeContext(cluster);
    const base = fakeConnection(cluster);
    const calls: AttachCall[] = [];
    let answered = 0;
    let watches = 0;
    const pending: Array<() => void> = [];
    const api = base.api as unknown as Record<string, unknown>;
    const add = api.addEphemeralContainer as (...a: unknown[]) => Promise<V1Pod>;
    Object.assign(api, {
      addEphemeralContainer: async (...a: unknown[]) => {
        // The answer comes back only once the test lets it (a far server's round trip).
        await new Promise<void>((resolve) => pending.push(resolve));
        if (opts.failFirst && cluster.patches.length === 0) {
          cluster.patches.push({ pod: a[1] as string, name: (a[2] as { name: string }).name, dryRun: false });
          throw opts.failFirst;
        }
        const pod = await add(...a);
        answered++;
        return { ...pod, metadata: { ...pod.metadata, resourceVersion: '7' } };
      },
      watchPod: async (_ns: string, _name: string, _rv: unknown, _limits: unknown, check: (p: V1Pod) => unknown) => {
        // The container added last, else the one the pod had (a reused one).
        const name = cluster.patches.at(-1)?.name ?? cluster.pods[0]!.spec!.ephemeralContainers![0]!.name;
        const state = watches++ === 0 ? { running: { startedAt: new Date() } } : { terminated: { exitCode: 0, reason: 'Completed' } };
        return check({ ...web(), status: { ephemeralContainerStatuses: [{ name, image: 'x', imageID: '', ready: false, restartCount: 0, state }] } } as V1Pod);
      },
      followPodEvents: () => new Promise(() => undefined),
      podEvents: async () => [],
      updateAnnotation: async () => undefined,
      attachable: async () => false,
      http: { firstExchangeMs: () => 160 },
    });
    const suffixes = [...(opts.suffixes ?? ['abcde'])];
    Object.assign(ctx, {
      connect: async () => base,
      suffix: () => suffixes.shift() ?? 'zzzzz',
      kubectl: 'kubectl',
      attach: async (o: { args: string[]; early: { started: Promise<boolean>; land: () => void } }) => {
        const call: AttachCall = { container: o.args[o.args.indexOf('-c') + 1]!, patchesSent: pending.length, patchesAnswered: answered };
        calls.push(call);
        // Now that the attach is on its way, the PATCH answers.
        pending.splice(0).forEach((release) => release());
        call.runs = await o.early.started;
        if (!call.runs) return { exitCode: 0, cancelled: true };
        o.early.land();
        return { exitCode: 0 };
      },
    });
    // The kubectl attach started ahead (attach-ahead.ts): what it was started with, and when.
    const ahead: Array<{ args: string[]; standsFor: string[]; patchesSent: number; handed?: boolean; discardedBeforeAttach?: boolean }> = [];
    let discarded = 0;
    const headStart = { discard: () => void discarded++ };
    Object.assign(ctx, {
      attachAhead: async (o: { args: string[]; standsFor: string[] }) => {
        ahead.push({ args: o.args, standsFor: o.standsFor, patchesSent: cluster.patches.length + pending.length });
        return headStart;
      },
    });
    const attach = ctx.attach.bind(ctx);
    Object.assign(ctx, {
      connect: async (flags: KubeFlags) => {
        // As main.ts connects: spawned kubectl get the run's own kubeconfig.
        flags.spawnConnection = { kubeconfigFile: () => '/run/ke/kubeconfig', kubeconfigFileAhead: async () => ({ file: '/run/ke/kubeconfig-ahead', standsFor: '/run/ke/kubeconfig' }) };
        return base;
      },
      attach: async (o: Parameters<CommandContext['attach']>[0]) => {
        if (ahead.length) Object.assign(ahead.at(-1)!, { handed: o.headStart === headStart && o.args.join(' ') === ahead.at(-1)!.standsFor.join(' '), discardedBeforeAttach: discarded > 0 });
        return attach(o);
      },
    });
    const run = (over: Partial<DebugOptions> = {}) => {
      // Without an attach on its way (none for this run), the PATCH answers at once.
      const release = setInterval(() => pending.splice(0).forEach((r) => r()), 5);
      return runDebug(ctx, options({ dryRun: undefined, output: undefined, record: false, ...over })).finally(() => clearInterval(release));
    };
    return { run, calls, info, ahead };
  }

  it('the attach is started while the PATCH is on its way, for the container it adds; the session lands', async () => {
    const cluster: FakeCluster = { pods: [web()], level: 'privileged', patches: [] };
    const { run, calls, info } = sessionRun(cluster);
    expect(await run()).toBe(0);
    expect(calls).toEqual([{ container: 'debugger-shell-abcde', patchesSent: 1, patchesAnswered: 0, runs: true }]);
    expect(cluster.patches).toEqual([{ pod: 'web', name: 'debugger-shell-abcde', dryRun: false }]);
    expect(info.filter((l) => /^(added|attaching)/.test(l)).map((l) => l.split(' ')[0])).toEqual(['added', 'attaching']);
  });

  it('its kubectl attach starts before the pod is read, for the container the plan names, on a kubeconfig of its own standing for the run\'s; the session takes it', async () => {
    const cluster: FakeCluster = { pods: [web()], level: 'privileged', patches: [] };
    const { run, ahead } = sessionRun(cluster);
    expect(await run()).toBe(0);
    expect(ahead).toEqual([
      {
        args: ['attach', 'web', '-c', 'debugger-shell-abcde', '--kubeconfig', '/run/ke/kubeconfig-ahead', '-n', NS],
        standsFor: ['attach', 'web', '-c', 'debugger-shell-abcde', '--kubeconfig', '/run/ke/kubeconfig', '-n', NS],
        patchesSent: 0,
        handed: true,
        discardedBeforeAttach: false,
      },
    ]);
  });

  it('when the pod has the user\'s running debug container to reuse, the attach started ahead (for a new one) is ended before the session attaches to the reused one', async () => {
    // The container a run would add, as a dry run prints it, running in the pod under another name.
    const planned = fakeContext({ pods: [web()], level: 'privileged', patches: [] });
    await runDebug(planned.ctx, options({}));
    const [container] = JSON.parse(planned.out.join('')).spec.ephemeralContainers;
    const withIt = { ...web(), spec: { ...web().spec, ephemeralContainers: [{ ...container, name: 'debugger-shell-older' }] } } as V1Pod;
    withIt.status = { ephemeralContainerStatuses: [{ name: 'debugger-shell-older', image: container.image, imageID: '', ready: false, restartCount: 0, state: { running: { startedAt: new Date() } } }] };
    const cluster: FakeCluster = { pods: [withIt], level: 'privileged', patches: [] };
    const { run, ahead, info } = sessionRun(cluster);
    expect(await run()).toBe(0);
    expect(info.some((l) => l.startsWith('reusing your running debug container "debugger-shell-older"'))).toBe(true);
    expect(cluster.patches).toEqual([]);
    expect(ahead).toEqual([expect.objectContaining({ args: expect.arrayContaining(['debugger-shell-abcde']), handed: false, discardedBeforeAttach: true })]);
  });

  it.each<[string, Partial<DebugOptions>]>([
    ['a workload (its pod is known only once read)', { pod: 'deploy/web' }],
    ['--no-attach', { attach: false }],
    ['a session without a terminal (-t=false)', { tty: false }],
  ])('no attach is started ahead for %s', async (_what, over) => {
    const cluster: FakeCluster = { pods: [web()], level: 'privileged', patches: [] };
    const { run, ahead } = sessionRun(cluster);
    await run(over).catch(() => undefined);
    expect(ahead).toEqual([]);
  });

  it('a refused PATCH ends the session unseen (nothing said of attaching) and its error passes through', async () => {
    const refused = new PluginError('forbidden', 'pods "web" is forbidden: cannot patch pods/ephemeralcontainers');
    const cluster: FakeCluster = { pods: [web()], level: 'privileged', patches: [] };
    const { run, calls, info } = sessionRun(cluster, { failFirst: refused });
    await expect(run()).rejects.toBe(refused);
    expect(calls).toEqual([{ container: 'debugger-shell-abcde', patchesSent: 1, patchesAnswered: 0, runs: false }]);
    expect(info.filter((l) => /^(added|attaching)/.test(l))).toEqual([]);
  });

  it('a name another user took: that session ends unseen, the container added under a new name is the one attached', async () => {
    const taken = new PluginError('usage', 'the API server rejected the pods/ephemeralcontainers', { reason: 'name-taken' });
    const cluster: FakeCluster = { pods: [web()], level: 'privileged', patches: [] };
    const { run, calls } = sessionRun(cluster, { failFirst: taken, suffixes: ['abcde', 'fghij'] });
    expect(await run()).toBe(0);
    expect(cluster.patches.map((p) => p.name)).toEqual(['debugger-shell-abcde', 'debugger-shell-fghij']);
    expect(calls).toEqual([
      { container: 'debugger-shell-abcde', patchesSent: 1, patchesAnswered: 0, runs: false },
      { container: 'debugger-shell-fghij', patchesSent: 0, patchesAnswered: 1, runs: true },
    ]);
  });
});
