// A debug container the user leaves while it starts (Ctrl-C before a session attached): ended the
// way cleanup stops one, or left with one line saying so and how to end it. The cluster is a fake
// whose debug shell reacts as a real one would; the signals are main.ts's, played by the test.
import type { V1Pod } from '@kubernetes/client-node';
import { addAndStart, endAbandonedContainer, startingContainer } from '../../../src/debug/abandoned-container';
import { END_KEYS } from '../../../src/debug/stop-container';
import type { CommandContext, Connection } from '../../../src/context';
import type { KubectlRunner } from '../../../src/debug/kubectl-runner';
import { aPod } from '../../support/builders';

type State = { waiting: { reason: string } } | { running: object } | { terminated: { exitCode: number } } | 'not-yet';

/** One pod with one debug container in `state`; its shell ends on the keys unless told to ignore everything. */
function fakeCluster(state: State, shell: 'obeys-exit' | 'ignores-everything' = 'obeys-exit') {
  const calls: string[] = [];
  let current = state;
  const pod = (): V1Pod => {
    const p = aPod('web').inNamespace('shop').withContainer('app').build() as V1Pod;
    if (current !== 'not-yet') p.status = { ephemeralContainerStatuses: [{ name: 'dbg', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: current }] };
    return p;
  };
  const conn = {
    target: { namespace: 'shop' },
    api: {
      // The deadline of a container that never gets a status passes at once here (watch-pod.test.ts tests the clock).
      watchPod: async (_ns: string, _name: string, _rv: unknown, limits: { signal?: AbortSignal }, check: (p: V1Pod) => unknown) => {
        if (limits.signal?.aborted) throw new Error('aborted');
        return check(pod());
      },
      canI: async () => ({ allowed: false }),
    },
  } as unknown as Connection;
  let keysSent: () => void = () => {};
  const keys = new Promise<void>((r) => (keysSent = r));
  const runner = {
    sendKeys: async (args: string[], k: string) => {
      calls.push(`keys ${args.slice(0, 3).join(' ')} ${JSON.stringify(k)}`);
      keysSent();
      if (shell === 'obeys-exit') current = { terminated: { exitCode: 130 } };
      return shell === 'obeys-exit';
    },
    run: async () => ({ code: 0, stderr: '' }),
  } as unknown as KubectlRunner;
  return { conn, runner, calls, keys };
}

/** A context whose onInterrupt hands the registered cleanups to the test, as main.ts would call them. */
function fakeContext(runner: KubectlRunner) {
  const lines: string[] = [];
  const user = new AbortController();
  const cleanups = new Set<(again: AbortSignal) => Promise<void | number>>();
  const ctx = {
    printer: { info: (t: string) => lines.push(t), warn: (t: string) => lines.push(t), debug: () => undefined, out: () => undefined, status: () => undefined },
    now: () => 0,
    runner,
    signal: user.signal,
    onInterrupt: (c: (again: AbortSignal) => Promise<void | number>) => (cleanups.add(c), () => cleanups.delete(c)),
  } as unknown as CommandContext;
  const again = new AbortController();
  // main.ts: the first signal aborts ctx.signal with its name and runs every cleanup; a second aborts `again`.
  const signal = (name = 'SIGINT') => {
    user.abort(name);
    return Promise.all([...cleanups].map((c) => c(again.signal)));
  };
  return { ctx, lines, signal, again, cleanups };
}

const ref = { namespace: 'shop', pod: 'web', container: 'dbg', ephemeral: true };
const FIX = 'kubectl ephemeral cleanup web -n shop';

describe('endAbandonedContainer', () => {
  it('a running container is ended through an attach (Ctrl-C, exit), and two lines say so', async () => {
    const { conn, runner, calls } = fakeCluster({ running: {} });
    const { ctx, lines, again } = fakeContext(runner);
    await endAbandonedContainer(ctx, conn, { verbosity: 0 }, ref, again.signal);
    expect(calls).toEqual([`keys web -c dbg ${JSON.stringify(END_KEYS)}`]);
    expect(lines).toEqual([
      'Ctrl-C before the session started: ending debug container "dbg" of pod "web" (Ctrl-C again leaves it running)',
      'debug container "dbg" of pod "web" was ended through attach (Ctrl-C, exit); its entry stays in the pod, terminated (ephemeral containers cannot be removed)',
    ]);
  });

  it('Ctrl-C again while it is being ended: left running, one line saying how to end it', async () => {
    const { conn, runner, keys } = fakeCluster({ running: {} }, 'ignores-everything');
    const stuck = { ...runner, sendKeys: (...a: Parameters<KubectlRunner['sendKeys']>) => (void runner.sendKeys(...a), new Promise<boolean>(() => undefined)) } as KubectlRunner;
    const { ctx, lines, again } = fakeContext(stuck);
    const ending = endAbandonedContainer(ctx, conn, { verbosity: 0 }, ref, again.signal);
    await keys;
    again.abort();
    await ending;
    expect(lines.at(-1)).toBe(`debug container "dbg" of pod "web" is left running; end it with: ${FIX}`);
  });

  it('not started by the end of its wait: left to start, with the command that ends it once it runs', async () => {
    const { conn, runner, calls } = fakeCluster('not-yet');
    const { ctx, lines, again } = fakeContext(runner);
    await endAbandonedContainer(ctx, conn, { verbosity: 0 }, ref, again.signal);
    expect(calls).toEqual([]);
    expect(lines.at(-1)).toBe(`debug container "dbg" of pod "web" has not started yet and is left to start (its image may still be pulling); once it runs, end it with: ${FIX}`);
  });

  it('a container that will never start: nothing to end, said so', async () => {
    const { conn, runner, calls } = fakeCluster({ waiting: { reason: 'ErrImagePull' } });
    const { ctx, lines, again } = fakeContext(runner);
    await endAbandonedContainer(ctx, conn, { verbosity: 0 }, ref, again.signal);
    expect(calls).toEqual([]);
    expect(lines.at(-1)).toBe('debug container "dbg" of pod "web" will not start (ErrImagePull): nothing is left running');
  });

  it('a shell that ignores the keys, with no pods/exec to signal it: left running, saying why and how to end it', async () => {
    const { conn, runner } = fakeCluster({ running: {} }, 'ignores-everything');
    const { ctx, lines, again } = fakeContext(runner);
    await endAbandonedContainer(ctx, conn, { verbosity: 0 }, ref, again.signal);
    expect(lines.at(-1)).toBe(
      `debug container "dbg" of pod "web" is left running: it ignored Ctrl-C and exit, and you may not create pods/exec to signal it (the ClusterRole kubectl-ephemeral-cleanup grants it); it ends when the pod is replaced, or end it with: ${FIX}`,
    );
  });
});

describe('startingContainer: from the PATCH until a session attaches', () => {
  it('a signal while the PATCH is on its way: the container is ended once it is added; the process waits for that', async () => {
    const { conn, runner, calls } = fakeCluster({ running: {} });
    const { ctx, lines, signal } = fakeContext(runner);
    const starting = startingContainer(ctx, conn, { verbosity: 0 }, 'web');
    let added: (name: string | undefined) => void = () => {};
    starting.adding(new Promise((r) => (added = r)));
    const cleanupsDone = signal('SIGTERM');
    expect(starting.abandoned).toBeDefined();
    added('dbg');
    await cleanupsDone;
    await expect(starting.abandoned).resolves.toBe(130);
    expect(calls).toHaveLength(1);
    expect(lines[0]).toBe('SIGTERM before the session started: ending debug container "dbg" of pod "web" (Ctrl-C again leaves it running)');
  });

  it('a PATCH that failed: nothing to end, nothing said', async () => {
    const { conn, runner, calls } = fakeCluster({ running: {} });
    const { ctx, lines, signal } = fakeContext(runner);
    const starting = startingContainer(ctx, conn, { verbosity: 0 }, 'web');
    starting.adding(Promise.reject(new Error('forbidden')));
    await signal();
    expect([calls, lines]).toEqual([[], []]);
  });

  it('once a session attached, a signal is the session\'s: the container is the user\'s and stays', async () => {
    const { conn, runner, calls } = fakeCluster({ running: {} });
    const { ctx, signal, cleanups } = fakeContext(runner);
    const starting = startingContainer(ctx, conn, { verbosity: 0 }, 'web');
    starting.adding(Promise.resolve('dbg'));
    starting.taken();
    expect(cleanups.size).toBe(0);
    await signal();
    expect(calls).toEqual([]);
    expect(starting.abandoned).toBeUndefined();
  });

  it('the attach\'s outcome and the signal both say "abandoned": the container is ended once', async () => {
    const { conn, runner, calls } = fakeCluster({ running: {} });
    const { ctx, signal } = fakeContext(runner);
    const starting = startingContainer(ctx, conn, { verbosity: 0 }, 'web');
    starting.adding(Promise.resolve('dbg'));
    const fromSignal = signal();
    await expect(starting.abandon()).resolves.toBe(130);
    await fromSignal;
    expect(calls).toHaveLength(1);
  });
});

describe('addAndStart: capture and collect from the PATCH until their stream is attached', () => {
  const capturer = { name: 'dbg', image: 'busybox' };
  /** The fake cluster, answering the PATCH when the test says. */
  function withPatch(state: State) {
    const cluster = fakeCluster(state);
    let answer: (p: V1Pod) => void = () => {};
    const patches: string[] = [];
    (cluster.conn.api as unknown as Record<string, unknown>).addEphemeralContainer = (_ns: string, pod: string, c: { name: string }) => {
      patches.push(`${pod}/${c.name}`);
      return new Promise<V1Pod>((r) => (answer = r));
    };
    return { ...cluster, patches, answer: () => answer(aPod('web').build() as V1Pod) };
  }

  it('a signal while the container starts: its wait is cancelled, the container ended as cleanup ends one, the outcome the exit code', async () => {
    const { conn, runner, calls, patches, answer } = withPatch({ running: {} });
    const { ctx, lines, signal } = fakeContext(runner);
    let inWait: () => void = () => {};
    const waiting = new Promise<void>((r) => (inWait = r));
    const added = addAndStart(ctx, conn, { verbosity: 0 }, 'web', capturer, () => {
      inWait();
      // As waitForContainer does once ctx.signal aborts.
      return new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('cancelled while waiting'))));
    });
    answer();
    await waiting;
    const cleanups = signal();
    await expect(added).resolves.toEqual({ abandoned: 130 });
    await cleanups;
    expect(patches).toEqual(['web/dbg']);
    expect(calls).toEqual([`keys web -c dbg ${JSON.stringify(END_KEYS)}`]);
    expect(lines).toEqual([
      'Ctrl-C before the session started: ending debug container "dbg" of pod "web" (Ctrl-C again leaves it running)',
      'debug container "dbg" of pod "web" was ended through attach (Ctrl-C, exit); its entry stays in the pod, terminated (ephemeral containers cannot be removed)',
    ]);
  });

  it('a signal while the PATCH is on its way: the container is ended once it is added', async () => {
    const { conn, runner, calls, answer } = withPatch({ running: {} });
    const { ctx, signal } = fakeContext(runner);
    const added = addAndStart(ctx, conn, { verbosity: 0 }, 'web', capturer, async () => {
      if (ctx.signal.aborted) throw new Error('cancelled while waiting');
    });
    const cleanups = signal('SIGTERM');
    answer();
    await expect(added).resolves.toEqual({ abandoned: 130 });
    await cleanups;
    expect(calls).toHaveLength(1);
  });

  it('started, then taken: a later signal is the stream\'s (nothing ended here); a failure of the start is thrown and nothing ended', async () => {
    const { conn, runner, calls, answer } = withPatch({ running: {} });
    const { ctx, signal, cleanups } = fakeContext(runner);
    const added = addAndStart(ctx, conn, { verbosity: 0 }, 'web', capturer, async () => 'running');
    answer();
    const result = await added;
    expect(result).toMatchObject({ started: 'running' });
    if ('starting' in result) result.starting.taken();
    expect(cleanups.size).toBe(0);

    const failed = withPatch({ running: {} });
    const second = fakeContext(failed.runner);
    const adding = addAndStart(second.ctx, failed.conn, { verbosity: 0 }, 'web', capturer, async () => {
      throw new Error('image cannot be pulled');
    });
    failed.answer();
    await expect(adding).rejects.toThrow('image cannot be pulled');
    expect(second.cleanups.size).toBe(0);
    await signal();
    expect([calls, failed.calls]).toEqual([[], []]);
  });

  it('a signal before anything was sent: cancelled, and no PATCH', async () => {
    const { conn, runner, patches } = withPatch({ running: {} });
    const { ctx, signal } = fakeContext(runner);
    await signal();
    await expect(addAndStart(ctx, conn, { verbosity: 0 }, 'web', capturer, async () => undefined)).rejects.toMatchObject({ kind: 'cancelled' });
    expect(patches).toEqual([]);
  });
});
