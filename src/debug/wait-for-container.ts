import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { Connection } from '../context.js';
import { PluginError } from '../errors/plugin-error.js';
import { containerState, ephemeralState, FATAL_WAITING_REASONS, podScheduling, type ContainerState } from '../plan/container-state.js';

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
  /** Deadline, in ms from now: past it the wait resolves with no state (a timeout, exit 75). */
  timeoutMs: number;
  now: () => number;
  /** The clock's timer (tests drive a fake clock); setTimeout otherwise. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Where the watch starts (the resourceVersion of the write that created the container). */
  resourceVersion?: string;
  /** Aborted by Ctrl-C or a signal: the wait ends at once with "cancelled" (never at the deadline). */
  signal?: AbortSignal;
  /** Told each new waiting reason (ContainerCreating, PodInitializing, ...). */
  onWaiting?: (state: Extract<ContainerState, { phase: 'waiting' }>) => void;
  /**
   * Told each new kubelet event about this container (Pulling, Pulled, Created, Started, BackOff),
   * and while the pod has no node the events about the pod (the scheduler's FailedScheduling);
   * asking for it lists the pod's events while waiting.
   */
  onEvent?: (event: ContainerEvent) => void;
  /**
   * until 'started' only: end the wait as soon as the container exists in the runtime and can be
   * attached (the kubelet's Started event, or `attachable` answering true), instead of at the pod
   * status, which says running only after the kubelet's next relist (measured here: 0.1-1 s later).
   * Only for a program that waits for its stdin: one that may exit at once needs the status to tell
   * its exit code and output.
   */
  startedEarly?: {
    /**
     * Asks the kubelet whether it has the container yet, on a schedule from the start of the wait
     * (except while the image is being pulled). The Started event alone is not enough: the
     * kubelet's spam filter drops a pod's events past 25 (a pod debugged often, a crash loop).
     */
    attachable?: () => Promise<boolean>;
    /** Resolves when a session attached to the container: it runs, whatever the status says yet. */
    attached?: Promise<void>;
  };
}

// Probing for the container: every 50 ms for the first 1.5 s (measured here: it starts 0.1-0.3 s
// after the PATCH), then every 500 ms; after 40 probes (~6.5 s) the events and the status decide alone.
const PROBE_FAST_MS = 50;
const PROBE_FAST_COUNT = 30;
const PROBE_SLOW_MS = 500;
const PROBE_MAX = 40;

/** A kubelet event about one container, as progress shows it. */
export interface ContainerEvent {
  reason: string;
  message: string;
  /** Normal or Warning. */
  type: string;
  /** How many times the kubelet has reported it (back-offs repeat). */
  count: number;
  /** 'pod': about the pod, not the container (FailedScheduling: the container waits for a node). */
  about?: 'pod';
}

// The pod watch says nothing while an image is pulled: the kubelet's events do. They are watched;
// an identity that may list events but not watch them (a role from an older release of ours) gets
// them by a list a second instead, what `kubectl describe` users do by hand.
const EVENT_POLL_MS = 1000;

/** What the wait ended with: the state, or undefined when the deadline passed; and the last waiting reason seen. */
export interface WaitResult {
  state: ContainerState | undefined;
  lastReason: string;
  /** The pod as it was when the wait ended (undefined on timeout, and when the Started event ended it). */
  pod?: V1Pod;
  /** What ended the wait ahead of the pod status (startedEarly): the Started event, an attach probe, or a session that attached. */
  early?: 'event' | 'probe' | 'attached';
}

/** The one "watch the pod until a container is in a state" of the plugin. A fatal waiting reason (image pull, config) ends it at once. */
export async function waitForContainer(conn: Connection, ref: ContainerRef, opts: WaitOptions): Promise<WaitResult> {
  const ns = ref.namespace ?? conn.target.namespace;
  const stateOf = ref.ephemeral ? ephemeralState : containerState;
  let lastReason = '';
  // Set when the container was found started ahead of the status: the watch then ends at its next pod update.
  let startedEarly = false;
  let onStarted: (by: 'event' | 'probe' | 'attached') => void = () => {};
  const started = new Promise<'event' | 'probe' | 'attached'>((resolve) => (onStarted = resolve));
  const early = opts.startedEarly !== undefined && opts.until === 'started';
  // While the kubelet pulls the image there is nothing to probe for.
  let pulling = false;
  const onEvent = (e: ContainerEvent) => {
    opts.onEvent?.(e);
    if (e.reason === 'Pulling') pulling = true;
    else if (['Pulled', 'Created', 'Started', 'Failed', 'ErrImagePull'].includes(e.reason)) pulling = false;
    if (early && e.reason === 'Started') onStarted('event');
  };
  const podEvents = unscheduledPodEvents((e) => opts.onEvent?.(e));
  const stopEvents = opts.onEvent || early ? followContainerEvents(conn, ref, onEvent, podEvents.take) : () => {};
  const attachable = early ? opts.startedEarly?.attachable : undefined;
  const stopProbes = attachable ? probeUntilAttachable(attachable, () => pulling, () => onStarted('probe')) : () => {};
  if (early) void opts.startedEarly?.attached?.then(() => onStarted('attached'));
  try {
    const limits = { deadline: opts.now() + opts.timeoutMs, signal: opts.signal, now: opts.now, sleep: opts.sleep };
    const watched = conn.api.watchPod(ns, ref.pod, opts.resourceVersion, limits, (p) => {
      if (startedEarly) return { s: stateOf(p, ref.container), p };
      const s = stateOf(p, ref.container);
      const { bound } = podScheduling(p);
      // No node yet: the container waits with the pod, as `kubectl get pod` shows it (Pending); the scheduler's events then say why.
      if (s.phase === 'absent' && !bound && lastReason !== 'Pending') {
        lastReason = 'Pending';
        opts.onWaiting?.({ phase: 'waiting', reason: 'Pending', message: '' });
      }
      podEvents.pod(bound);
      if (s.phase === 'waiting') {
        if (FATAL_WAITING_REASONS.has(s.reason)) return { s, p };
        if (s.reason !== lastReason) opts.onWaiting?.(s);
        lastReason = s.reason;
        return undefined;
      }
      if (s.phase === 'terminated' || (s.phase === 'running' && opts.until === 'started')) return { s, p };
      return undefined;
    });
    const first = early ? await Promise.race([watched, started]) : await watched;
    if (first === 'event' || first === 'probe' || first === 'attached') {
      startedEarly = true;
      // The watch is left to end at the status update that follows; nothing waits for it any more.
      watched.catch(() => undefined);
      return { state: { phase: 'running' }, lastReason, early: first };
    }
    return { state: first?.s, lastReason, pod: first?.p };
  } catch (err) {
    if (opts.signal?.aborted) throw new PluginError('cancelled', `cancelled while waiting for container "${ref.container}" of pod "${ref.pod}"`, { cause: err });
    throw err;
  } finally {
    stopEvents();
    stopProbes();
  }
}

/** Calls attachable on the probe schedule (skipping while pulling) until it answers true or fails; returns the stop function. */
function probeUntilAttachable(attachable: () => Promise<boolean>, pulling: () => boolean, onAttachable: () => void): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let probes = 0;
  const tick = async () => {
    if (stopped) return;
    if (!pulling()) {
      probes++;
      try {
        if (await attachable()) {
          if (!stopped) onAttachable();
          return;
        }
      } catch {
        // Refused or unanswerable: the Started event and the status still end the wait.
        return;
      }
    }
    if (!stopped && probes < PROBE_MAX) timer = setTimeout(() => void tick(), probes < PROBE_FAST_COUNT ? PROBE_FAST_MS : PROBE_SLOW_MS);
  };
  timer = setTimeout(() => void tick(), PROBE_FAST_MS);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

/**
 * The events about the pod itself (no container named: FailedScheduling, a cluster autoscaler's
 * NotTriggerScaleUp) say why a container waits only while the pod has no node; those of a pod that
 * has one are history (a FailedScheduling from before it got its node stays listed for an hour).
 * Those that come before the watch first shows the pod are held until it does.
 */
function unscheduledPodEvents(onEvent: (e: ContainerEvent) => void): { take(e: ContainerEvent): void; pod(bound: boolean): void } {
  let bound: boolean | undefined;
  let held: ContainerEvent[] = [];
  return {
    take(e) {
      if (bound === undefined) held.push(e);
      else if (!bound) onEvent(e);
    },
    pod(now) {
      const first = bound === undefined;
      bound = now;
      if (!first) return;
      if (!bound) held.forEach(onEvent);
      held = [];
    },
  };
}

/**
 * Follows the pod's events (a watch; a list a second where watching is refused) and passes on the
 * new ones about this container, and those about the pod to onPodEvent; returns the stop function.
 */
function followContainerEvents(conn: Connection, ref: ContainerRef, onEvent: (e: ContainerEvent) => void, onPodEvent: (e: ContainerEvent) => void): () => void {
  const ns = ref.namespace ?? conn.target.namespace;
  // The kubelet names the container in the event's fieldPath.
  const fieldPath = `spec.${ref.ephemeral ? 'ephemeralContainers' : 'containers'}{${ref.container}}`;
  const seen = new Map<string, number>();
  const stop = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const take = (events: CoreV1Event[]) => {
    for (const e of events) {
      if (stop.signal.aborted) return;
      const about = e.involvedObject?.fieldPath;
      if (about && about !== fieldPath) continue;
      const count = e.series?.count ?? e.count ?? 1;
      const key = e.metadata?.uid ?? `${e.reason}/${e.message}`;
      if (seen.get(key) === count) continue;
      seen.set(key, count);
      const event = { reason: e.reason ?? '', message: e.message ?? '', type: e.type ?? 'Normal', count };
      if (about) onEvent(event);
      else onPodEvent({ ...event, about: 'pod' });
    }
  };
  const poll = async () => {
    try {
      take(await conn.api.podEvents(ns, ref.pod));
    } catch (err) {
      // Progress is a courtesy: events the identity may not list, or a failed list, never end the
      // wait; a list that failed otherwise (the API server restarting) is tried again.
      if (err instanceof PluginError && err.kind === 'forbidden') return;
    }
    if (!stop.signal.aborted) timer = setTimeout(() => void poll(), EVENT_POLL_MS);
  };
  conn.api.followPodEvents(ns, ref.pod, take, stop.signal).catch(() => {
    if (!stop.signal.aborted) void poll();
  });
  return () => {
    stop.abort();
    if (timer) clearTimeout(timer);
  };
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
