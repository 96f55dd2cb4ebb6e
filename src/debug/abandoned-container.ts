import type { V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import type { CommandContext, Connection } from '../context.js';
import { EXIT_CODES, PluginError } from '../errors/plugin-error.js';
import type { KubeFlags } from '../kube/kube-flags.js';
import { ROLES } from '../kube/access-rules.js';
import { pasteableCommand } from './attach-debug-container.js';
import { stopDebugContainer } from './stop-container.js';
import { waitForContainer, type ContainerRef } from './wait-for-container.js';

// A container just added starts within a second (measured here: 0.1-0.3 s after the PATCH) unless
// its image is pulled: past this it is left to start, and the user told how to end it.
const START_WAIT_MS = 10_000;

/**
 * Ends a debug container the user left before any session attached to it (Ctrl-C, a signal, or an
 * attach that says so), the way cleanup stops one: ephemeral containers cannot be removed, and one
 * left running keeps its privileges, its image and a shell waiting on stdin in the pod for anyone
 * who may attach. Says what it does in a line, and in one more what became of the container; when
 * it cannot end it (it has not started yet, `again` aborted: the user will not wait), that line
 * says it is left and how to end it. Never throws.
 */
export async function endAbandonedContainer(ctx: CommandContext, conn: Connection, flags: KubeFlags, ref: ContainerRef & { namespace: string }, again: AbortSignal): Promise<void> {
  const { printer } = ctx;
  const what = `debug container "${ref.container}" of pod "${ref.pod}"`;
  const endIt = pasteableCommand(['kubectl', 'ephemeral', 'cleanup', ref.pod], ref.namespace, flags);
  const reason = typeof ctx.signal.reason === 'string' ? ctx.signal.reason : 'Ctrl-C';
  printer.info(`${reason === 'SIGINT' ? 'Ctrl-C' : reason} before the session started: ending ${what} (Ctrl-C again leaves it running)`);
  try {
    const { state } = await waitForContainer(conn, ref, { until: 'started', timeoutMs: START_WAIT_MS, now: ctx.now, signal: again });
    if (!state) return printer.warn(`${what} has not started yet and is left to start (its image may still be pulling); once it runs, end it with: ${endIt}`);
    if (state.phase === 'waiting') return printer.warn(`${what} will not start (${state.reason}): nothing is left running`);
    if (state.phase === 'terminated') return printer.warn(`${what} has ended (exit code ${state.exitCode})`);
    const stopped = await Promise.race([stopDebugContainer(ctx, conn, flags, ref), new Promise<'again'>((resolve) => again.addEventListener('abort', () => resolve('again'), { once: true }))]);
    if (stopped === 'again') return printer.warn(`${what} is left running; end it with: ${endIt}`);
    if ('done' in stopped) return printer.warn(`${what} ${stopped.done.replace(/^ended/, 'was ended')}; its entry stays in the pod, terminated (ephemeral containers cannot be removed)`);
    const why = stopped.why === 'no-exec' ? `it ignored Ctrl-C and exit, and you may not create pods/exec to signal it (the ClusterRole ${ROLES.cleanup} grants it)` : 'its main process ignores INT, TERM and HUP';
    printer.warn(`${what} is left running: ${why}; it ends when the pod is replaced, or end it with: ${endIt}`);
  } catch (err) {
    printer.debug(`ending ${what}: ${(err as Error).message}`);
    printer.warn(`${what} is left ${again.aborted ? 'running' : `as it is (${(err as Error).message})`}; end it with: ${endIt}`);
  }
}

/** A debug container on its way, from the PATCH that adds it until a session takes it over. */
export interface StartingContainer {
  /** The PATCH that adds it: resolves with the container's name, or undefined when nothing was added. */
  adding(name: Promise<string | undefined>): void;
  /** A session attached: from now on a signal is the session's, and the container the user's. */
  taken(): void;
  /** The user left before a session attached (the attach's outcome says so): ends the container once; resolves with the exit code. */
  abandon(): Promise<number>;
  /** Set once the container is being ended: the run's outcome is this, whatever else ends it. */
  readonly abandoned: Promise<number> | undefined;
  /** Stops watching for signals (the run is over). */
  release(): void;
}

/**
 * Watches a debug container this run adds until a session takes it over: a signal (Ctrl-C,
 * SIGTERM, SIGHUP) before that ends it (endAbandonedContainer), and the process exits only after.
 */
export function startingContainer(ctx: CommandContext, conn: Connection, flags: KubeFlags, pod: string): StartingContainer {
  let name: Promise<string | undefined> = Promise.resolve(undefined);
  let taken = false;
  let ending: Promise<number> | undefined;
  const end = (again: AbortSignal) =>
    (ending ??= name.then(async (container) => {
      if (container) await endAbandonedContainer(ctx, conn, flags, { namespace: conn.target.namespace, pod, container, ephemeral: true }, again);
      return EXIT_CODES.cancelled;
    }));
  // main.ts picks the exit code of a signal (130 for Ctrl-C): nothing to return here.
  const unregister = ctx.onInterrupt(async (again) => {
    if (!taken) await end(again);
  });
  return {
    adding(added) {
      name = added.catch(() => undefined);
    },
    taken() {
      taken = true;
      unregister();
    },
    // From the attach's outcome: Ctrl-C (a signal now, the terminal being back) stops the ending.
    abandon: () => end(ctx.signal),
    get abandoned() {
      return ending;
    },
    release: unregister,
  };
}

/** What addAndStart ended with: the container started (and is the caller's to take), or it was left and is being ended. */
export type Started<T> = { started: T; starting: StartingContainer } | { abandoned: number };

/**
 * For a command that streams from a container it adds (capture, collect): the PATCH and the wait
 * for the container to start, watched as a debug session's are (startingContainer), so that a
 * signal meanwhile ends the container instead of leaving it waiting for a "go" that never comes.
 * Resolves with what `start` resolved to, or with the exit code once the container was ended; the
 * caller calls `starting.taken()` when its own stream answers signals.
 */
export async function addAndStart<T>(
  ctx: CommandContext,
  conn: Connection,
  flags: KubeFlags,
  pod: string,
  container: V1EphemeralContainer,
  start: (updated: V1Pod) => Promise<T>,
): Promise<Started<T>> {
  if (ctx.signal.aborted) throw new PluginError('cancelled', `cancelled before adding a debug container to pod "${pod}"`);
  const starting = startingContainer(ctx, conn, flags, pod);
  const adding = conn.api.addEphemeralContainer(conn.target.namespace, pod, container);
  starting.adding(adding.then(() => container.name));
  try {
    const started = await start(await adding);
    // A signal the wait did not see (it came as the container started): ended all the same.
    if (starting.abandoned) return { abandoned: await starting.abandoned };
    return { started, starting };
  } catch (err) {
    // Ctrl-C (or a signal) during the wait: the container is being ended, and that says why.
    if (starting.abandoned) return { abandoned: await starting.abandoned };
    starting.release();
    throw err;
  }
}
