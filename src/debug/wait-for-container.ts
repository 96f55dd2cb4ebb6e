import type { V1Pod } from '@kubernetes/client-node';
import type { Connection } from '../context.js';
import { PluginError } from '../errors/plugin-error.js';
import { containerState, ephemeralState, FATAL_WAITING_REASONS, type ContainerState } from '../plan/container-state.js';

/** One container of one pod: an ephemeral container, or a regular/init one. */
export interface ContainerRef {
  pod: string;
  /** The pod's namespace when it is not the connection's (cleanup -A). */
  namespace?: string;
  container: string;
  ephemeral: boolean;
}

/** How long and until what to wait. */
export interface WaitOptions {
  /** started: running, or already terminated (a command that exited at once); terminated: ended. */
  until: 'started' | 'terminated';
  /** Deadline, in ms from now. */
  timeoutMs: number;
  now: () => number;
  /** Where the watch starts (the resourceVersion of the write that created the container). */
  resourceVersion?: string;
  /** Aborted by Ctrl-C or a signal: the wait ends with "cancelled". */
  signal?: AbortSignal;
  /** Told each new waiting reason (ContainerCreating, PodInitializing, ...). */
  onWaiting?: (state: Extract<ContainerState, { phase: 'waiting' }>) => void;
}

/** What the wait ended with: the state, or undefined when the deadline passed; and the last waiting reason seen. */
export interface WaitResult {
  state: ContainerState | undefined;
  lastReason: string;
  /** The pod as it was when the wait ended (undefined on timeout). */
  pod?: V1Pod;
}

/** The one "watch the pod until a container is in a state" of the plugin. A fatal waiting reason (image pull, config) ends it at once. */
export async function waitForContainer(conn: Connection, ref: ContainerRef, opts: WaitOptions): Promise<WaitResult> {
  const ns = ref.namespace ?? conn.target.namespace;
  const stateOf = ref.ephemeral ? ephemeralState : containerState;
  let lastReason = '';
  const ended = await conn.api.watchPod(ns, ref.pod, opts.resourceVersion, opts.now() + opts.timeoutMs, (p) => {
    if (opts.signal?.aborted) throw new PluginError('cancelled', `cancelled while waiting for container "${ref.container}" of pod "${ref.pod}"`);
    const s = stateOf(p, ref.container);
    if (s.phase === 'waiting') {
      if (FATAL_WAITING_REASONS.has(s.reason)) return { s, p };
      if (s.reason !== lastReason) opts.onWaiting?.(s);
      lastReason = s.reason;
      return undefined;
    }
    if (s.phase === 'terminated' || (s.phase === 'running' && opts.until === 'started')) return { s, p };
    return undefined;
  });
  return { state: ended?.s, lastReason, pod: ended?.p };
}

/**
 * The started state out of a wait, or the error a user needs: a timeout naming the last state, or
 * the kubelet's reason and message when the image cannot be pulled or the container created.
 */
export function requireStarted(result: WaitResult, ref: ContainerRef, ns: string, image: string | undefined): Exclude<ContainerState, { phase: 'waiting' | 'absent' }> {
  const { state } = result;
  const what = `container "${ref.container}" of pod "${ref.pod}"`;
  if (!state)
    throw new PluginError(
      'timeout',
      `${what} did not start within --timeout (last state: ${result.lastReason || 'no status yet'}); check the node with kubectl describe pod ${ref.pod} -n ${ns}, or raise --timeout`,
    );
  if (state.phase === 'waiting' || state.phase === 'absent')
    throw new PluginError(
      'image-pull',
      `${ref.ephemeral ? `container "${ref.container}"` : what} cannot start: ${state.phase === 'waiting' ? state.reason : 'no status'}${image ? ` for image "${image}"` : ''}: ${(state.phase === 'waiting' && state.message) || 'no message from the kubelet'}; check the image name and pull access, or pass --image`,
    );
  return state;
}
