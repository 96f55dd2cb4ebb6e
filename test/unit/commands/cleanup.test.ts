import type { V1Pod } from '@kubernetes/client-node';
import { planCleanup, runCleanup, type CleanupOptions } from '../../../src/commands/cleanup';
import { END_KEYS, KILL_SCRIPT } from '../../../src/debug/stop-container';
import type { CommandContext, Connection } from '../../../src/context';
import type { KubectlRunner } from '../../../src/debug/kubectl-runner';
import { PluginError } from '../../../src/errors/plugin-error';
import { aPod } from '../../support/builders';

const stamp = (user: string) => ({ KUBECTL_EPHEMERAL_PRESET: 'shell', KUBECTL_EPHEMERAL_USER: user });
const running = (name: string) => ({ name, image: 'busybox:1.36', imageID: '', ready: false, restartCount: 0, state: { running: { startedAt: '2026-11-30T09:00:00Z' } } });

/** A pod with one running debug container per [name, user]. */
function podWithSessions(name: string, namespace: string, sessions: Array<[string, string]>): V1Pod {
  let b = aPod(name).inNamespace(namespace).withContainer('app');
  for (const [c, user] of sessions) b = b.withEphemeralContainer(c, { env: stamp(user) });
  return b.withStatus({ phase: 'Running', ephemeralContainerStatuses: sessions.map(([c]) => running(c)) }).build() as V1Pod;
}
/** A pod copy made by --copy (label copy-of), with a running session of `user` in it when given. */
function copyOf(original: string, name: string, namespace: string, user?: string): V1Pod {
  const pod = user ? podWithSessions(name, namespace, [[`debugger-crashloop-${name.slice(-5)}`, user]]) : (aPod(name).inNamespace(namespace).withContainer('app').build() as V1Pod);
  return { ...pod, metadata: { ...pod.metadata, labels: { 'kubectl-ephemeral.dev/copy-of': original } } };
}

/** How a debug shell in the fake cluster reacts to cleanup. */
type Shell = 'obeys-exit' | 'obeys-signals' | 'ignores-everything';

/** A cluster of pods whose debug shells end (or not) as a real one would; records every call. */
class FakeCluster {
  readonly calls: string[] = [];
  readonly pods: V1Pod[] = [];
  shell: Shell = 'obeys-exit';
  execAllowed = true;
  me = 'alice';

  with(...pods: V1Pod[]): this {
    this.pods.push(...pods);
    return this;
  }

  private end(ns: string, pod: string, container: string) {
    const p = this.pods.find((x) => x.metadata!.namespace === ns && x.metadata!.name === pod)!;
    p.status!.ephemeralContainerStatuses = p.status!.ephemeralContainerStatuses!.map((s) =>
      s.name === container ? { ...s, state: { terminated: { exitCode: 0, reason: 'Completed' } } } : s,
    ) as never;
  }

  connection(): Connection {
    const api = {
      whoAmI: async () => this.me,
      getPod: async (ns: string, name: string) => {
        this.calls.push(`get ${ns}/${name}`);
        const p = this.pods.find((x) => x.metadata!.namespace === ns && x.metadata!.name === name);
        if (!p) throw new PluginError('not-found', `pod "${name}" not found`);
        return structuredClone(p);
      },
      listPods: async (ns: string | undefined, opts: { labelSelector?: string }, onPage: (pods: V1Pod[]) => void) => {
        this.calls.push(`list ${ns ?? '(all)'}${opts.labelSelector ? ` ${opts.labelSelector}` : ''}`);
        const [key, value] = (opts.labelSelector ?? '').split('=');
        onPage(this.pods.filter((p) => (ns === undefined || p.metadata!.namespace === ns) && (!key || p.metadata?.labels?.[key] === value)).map((p) => structuredClone(p)));
      },
      deletePod: async (ns: string, name: string) => {
        this.calls.push(`delete ${ns}/${name}`);
        this.pods.splice(this.pods.findIndex((p) => p.metadata!.namespace === ns && p.metadata!.name === name), 1);
      },
      canI: async (ns: string, verb: string, resource: string, sub?: string) => {
        this.calls.push(`can-i ${verb} ${resource}/${sub} in ${ns}`);
        return { allowed: this.execAllowed };
      },
      // The one waiter watches: here each watch sees the pod as it is now.
      watchPod: async (ns: string, name: string, _rv: unknown, _deadline: number, check: (p: V1Pod) => unknown) => check(structuredClone(this.pods.find((p) => p.metadata!.namespace === ns && p.metadata!.name === name)!)),
    };
    return { api: api as never, target: { namespace: 'shop' } as never, close: () => undefined };
  }

  runner(): KubectlRunner {
    return {
      sendKeys: async (args, keys) => {
        this.calls.push(`keys ${args.slice(0, 3).join(' ')} ${JSON.stringify(keys)}`);
        if (this.shell === 'obeys-exit') this.end(args[args.indexOf('-n') + 1]!, args[0]!, args[2]!);
        return this.shell === 'obeys-exit';
      },
      run: async (args) => {
        this.calls.push(`kubectl ${args.slice(0, 4).join(' ')} ... ${args.at(-1) === KILL_SCRIPT ? 'KILL_SCRIPT' : args.at(-1)}`);
        if (this.shell === 'obeys-signals') this.end(args[args.indexOf('-n') + 1]!, args[1]!, args[3]!);
        return { code: 0, stderr: '' };
      },
      streamAttach: () => {
        throw new Error('cleanup streams nothing');
      },
    };
  }
}

function run(cluster: FakeCluster, over: Partial<CleanupOptions> = {}, confirm = false) {
  const printed = { out: [] as string[], info: [] as string[], asked: [] as string[] };
  const ctx = {
    printer: { out: (t: string) => printed.out.push(t), info: (t: string) => printed.info.push(t), debug: () => undefined, warn: () => undefined, status: () => undefined, verbose: false, live: false, color: false },
    env: {},
    now: () => Date.now(),
    connect: async () => cluster.connection(),
    runner: cluster.runner(),
    confirm: async (q: string) => (printed.asked.push(q), confirm),
  } as unknown as CommandContext;
  const result = runCleanup(ctx, { allNamespaces: false, allUsers: false, yes: false, dryRun: false, kube: { verbosity: 0 }, ...over });
  return { result, printed };
}

describe('planCleanup (pure)', () => {
  it('stops the caller\'s running sessions, deletes copies, leaves other users\' alone', () => {
    const pods = [
      podWithSessions('web', 'shop', [['debugger-shell-aaaaa', 'alice'], ['debugger-shell-bbbbb', 'bob']]),
      copyOf('web', 'web-debug-ccccc', 'shop', 'alice'),
      copyOf('web', 'web-debug-ddddd', 'shop', 'bob'),
      copyOf('web', 'web-debug-eeeee', 'shop'),
    ];
    expect(planCleanup(pods, 'alice', false)).toEqual({
      actions: [
        { kind: 'stop-container', namespace: 'shop', pod: 'web', container: 'debugger-shell-aaaaa', user: 'alice' },
        { kind: 'delete-copy', namespace: 'shop', pod: 'web-debug-ccccc', user: 'alice' },
        { kind: 'delete-copy', namespace: 'shop', pod: 'web-debug-eeeee' },
      ],
      othersLeft: [
        { kind: 'stop-container', namespace: 'shop', pod: 'web', container: 'debugger-shell-bbbbb', user: 'bob' },
        { kind: 'delete-copy', namespace: 'shop', pod: 'web-debug-ddddd', user: 'bob' },
      ],
    });
    expect(planCleanup(pods, 'alice', true).othersLeft).toEqual([]);
  });
});

describe('runCleanup (kubectl runner and API faked)', () => {
  it('a shell that obeys exit: ended through attach, no exec, exit 0', async () => {
    const cluster = new FakeCluster().with(podWithSessions('web', 'shop', [['debugger-shell-aaaaa', 'alice']]));
    const { result, printed } = run(cluster, { pod: 'web' });
    await expect(result).resolves.toBe(0);
    expect(printed.out).toEqual(['debug container debugger-shell-aaaaa of shop/web: ended through attach (Ctrl-C, exit)']);
    expect(cluster.calls).toEqual(['get shop/web', 'list shop kubectl-ephemeral.dev/copy-of=web', `keys web -c debugger-shell-aaaaa ${JSON.stringify(END_KEYS)}`]);
  });

  it('a shell that ignores exit: signalled through exec when pods/exec is allowed', async () => {
    const cluster = new FakeCluster().with(podWithSessions('web', 'shop', [['debugger-shell-aaaaa', 'alice']]));
    cluster.shell = 'obeys-signals';
    const { result, printed } = run(cluster, { pod: 'web' });
    await expect(result).resolves.toBe(0);
    expect(printed.out).toEqual(['debug container debugger-shell-aaaaa of shop/web: ended by signalling its processes (exec)']);
    expect(cluster.calls.slice(-2)).toEqual(['can-i create pods/exec in shop', 'kubectl exec web -c debugger-shell-aaaaa ... KILL_SCRIPT']);
  });

  it('a shell that ignores INT, TERM and HUP: fails (74) with what is left and why', async () => {
    const cluster = new FakeCluster().with(podWithSessions('web', 'shop', [['debugger-shell-aaaaa', 'alice']]));
    cluster.shell = 'ignores-everything';
    const { result, printed } = run(cluster, { pod: 'web' });
    await expect(result).rejects.toEqual(new PluginError('incomplete', 'cleanup left 1 of 1: debug container debugger-shell-aaaaa of shop/web (why: above)'));
    expect(printed.out).toEqual([]);
    expect(printed.info[0]).toBe(
      'left: debug container debugger-shell-aaaaa of shop/web: still running: its main process ignores INT, TERM and HUP, and as PID 1 of its container it cannot be killed from inside; it ends when the pod is replaced',
    );
  });

  it('without pods/exec: exit 77 naming the permission and the role, and no exec is tried', async () => {
    const cluster = new FakeCluster().with(podWithSessions('web', 'shop', [['debugger-shell-aaaaa', 'alice']]));
    cluster.shell = 'ignores-everything';
    cluster.execAllowed = false;
    const { result, printed } = run(cluster, { pod: 'web' });
    await expect(result).rejects.toMatchObject({ kind: 'forbidden', exitCode: 77 });
    expect(printed.info[0]).toBe(
      'left: debug container debugger-shell-aaaaa of shop/web: still running: it ignored Ctrl-C and exit, and you may not create pods/exec to signal it; ask for the ClusterRole kubectl-ephemeral-cleanup',
    );
    expect(cluster.calls.filter((c) => c.startsWith('kubectl exec'))).toEqual([]);
  });

  it("another user's live session is not typed into; a note says so", async () => {
    const cluster = new FakeCluster().with(podWithSessions('web', 'shop', [['debugger-shell-bbbbb', 'bob']]));
    const { result, printed } = run(cluster, { pod: 'web' });
    await expect(result).resolves.toBe(0);
    expect(cluster.calls.filter((c) => c.startsWith('keys'))).toEqual([]);
    expect(printed.info).toContain('note: left alone: 1 session(s) or copies of other users (bob); --all-users ends them too');
  });

  it('--all-users asks first; a "no" (or no terminal) ends nothing', async () => {
    const cluster = new FakeCluster().with(podWithSessions('web', 'shop', [['debugger-shell-bbbbb', 'bob']]));
    const { result, printed } = run(cluster, { pod: 'web', allUsers: true });
    await expect(result).rejects.toEqual(new PluginError('usage', "--all-users ends other users' live sessions: confirm on the terminal, or pass --yes"));
    expect(printed.asked).toEqual(['end 1 session(s) or copies of other users (bob)?']);
    expect(cluster.calls.filter((c) => c.startsWith('keys'))).toEqual([]);
  });

  it('--all-users --yes ends them without asking', async () => {
    const cluster = new FakeCluster().with(podWithSessions('web', 'shop', [['debugger-shell-bbbbb', 'bob']]));
    const { result, printed } = run(cluster, { pod: 'web', allUsers: true, yes: true });
    await expect(result).resolves.toBe(0);
    expect(printed.asked).toEqual([]);
    expect(printed.out).toEqual(['debug container debugger-shell-bbbbb of shop/web: ended through attach (Ctrl-C, exit)']);
  });

  it('without POD: every running debug container of the namespace; with -A, of every namespace', async () => {
    const cluster = new FakeCluster().with(
      podWithSessions('web', 'shop', [['debugger-shell-aaaaa', 'alice']]),
      podWithSessions('api', 'shop', [['debugger-network-bbbbb', 'alice']]),
      podWithSessions('db', 'data', [['debugger-shell-ccccc', 'alice']]),
    );
    const ns = run(cluster, { dryRun: true });
    await expect(ns.result).resolves.toBe(0);
    expect(cluster.calls).toEqual(['list shop']);
    expect(ns.printed.out[0]!.split('\n').map((l) => l.split(/\s{2,}/))).toEqual([
      ['ACTION', 'NAMESPACE', 'POD', 'CONTAINER', 'USER'],
      ['stop debug container', 'shop', 'web', 'debugger-shell-aaaaa', 'alice'],
      ['stop debug container', 'shop', 'api', 'debugger-network-bbbbb', 'alice'],
    ]);
    const all = run(cluster, { allNamespaces: true });
    await expect(all.result).resolves.toBe(0);
    expect(all.printed.out).toHaveLength(3);
    expect(cluster.calls).toContain('list (all)');
  });
});
