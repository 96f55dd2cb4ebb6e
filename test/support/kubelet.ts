// The kubelet's part, for pods bound to a node no kubelet runs (see statusNode): the tests write
// the container statuses a kubelet would, as admin, through the pods/status subresource.
//
//   markPodRunning(ns, 'web');                            // now, once: the pod started
//   const kubelet = new KubeletStandIn(ns).start();       // from now on: each new debug container runs
//   ...; await kubelet.stop();
//
// One builder (containerStatus, startedPodStatus) makes every status, whether a test writes it at
// once (the mark* helpers) or the stand-in writes it when a container appears.
import { randomBytes } from 'node:crypto';
import { clusterEnv, createObject, getPod, kubectlAsync, kubectlJson, kubectlJsonAsync, kubectlResult } from './cluster';
import { eventually } from './wait';

export interface ContainerStatus {
  name: string;
  image?: string;
  imageID?: string;
  containerID?: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
  [k: string]: unknown;
}

export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: {
    exitCode: number;
    reason?: string;
    message?: string;
    startedAt?: string;
    finishedAt?: string;
    containerID?: string;
  };
}

export interface StatusPatch {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
  ephemeralContainerStatuses?: ContainerStatus[];
  podIP?: string;
  conditions?: object[];
  [k: string]: unknown;
}

/** What the kubelet reports for a container: the state it is in. */
export type KubeletVerdict =
  | { state: 'running' }
  | { state: 'waiting'; reason: string; message?: string }
  | { state: 'terminated'; exitCode: number; reason?: string }
  /** In back-off after exiting (restartCount > 0, lastState.terminated). */
  | { state: 'crash-looping'; exitCode: number; reason: string; restartCount: number; backOff: string; pod: string; namespace: string }
  /** Leave it without a status (the plugin keeps waiting). */
  | { state: 'ignore' };

export const RUNNING: KubeletVerdict = { state: 'running' };

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const containerID = () => `containerd://${randomBytes(8).toString('hex')}`;

/** The one builder of a container's status, from its spec and a verdict (undefined for 'ignore'). Not ready: callers say so. */
export function containerStatus(spec: { name: string; image?: string }, v: KubeletVerdict, at = now()): ContainerStatus | undefined {
  const base = { name: spec.name, image: spec.image ?? `unknown-image-of-${spec.name}`, imageID: '', ready: false, restartCount: 0 };
  switch (v.state) {
    case 'running':
      return { ...base, containerID: containerID(), started: true, state: { running: { startedAt: at } } };
    case 'waiting':
      return { ...base, state: { waiting: { reason: v.reason, ...(v.message ? { message: v.message } : {}) } } };
    case 'terminated':
      return { ...base, state: { terminated: { exitCode: v.exitCode, reason: v.reason ?? (v.exitCode ? 'Error' : 'Completed'), startedAt: at, finishedAt: at } } };
    case 'crash-looping':
      return {
        ...base,
        containerID: containerID(),
        started: false,
        restartCount: v.restartCount,
        state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${v.backOff} restarting failed container=${spec.name} pod=${v.pod}_${v.namespace}` } },
        lastState: { terminated: { exitCode: v.exitCode, reason: v.reason, startedAt: at, finishedAt: at } },
      };
    case 'ignore':
      return undefined;
  }
}

const condition = (type: string, status: boolean, at: string) => ({ type, status: status ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: at });

/**
 * The status of a pod the kubelet has just started: init containers completed (a sidecar, or one
 * `initContainer` says runs, running), main containers running and ready, Ready conditions. A
 * classic init container left running holds back the ones after it and the main containers
 * (PodInitializing, phase Pending), as the kubelet runs them in order.
 */
export function startedPodStatus(pod: any, opts: { podIP?: string; initContainer?: (pod: any, c: any) => 'completed' | 'running' } = {}): StatusPatch {
  const at = now();
  const podIP = opts.podIP ?? '10.244.0.10';
  let blocked = false;
  const initializing = (c: any) => containerStatus(c, { state: 'waiting', reason: 'PodInitializing' })!;
  const initContainerStatuses = (pod.spec.initContainers ?? []).map((c: any) => {
    if (blocked) return initializing(c);
    const sidecar = c.restartPolicy === 'Always';
    if (!sidecar && opts.initContainer?.(pod, c) === 'running') {
      blocked = true;
      return containerStatus(c, RUNNING, at)!;
    }
    return sidecar ? { ...containerStatus(c, RUNNING, at)!, ready: true } : { ...containerStatus(c, { state: 'terminated', exitCode: 0 }, at)!, ready: true };
  });
  const status: StatusPatch = {
    phase: blocked ? 'Pending' : 'Running',
    podIP,
    podIPs: [{ ip: podIP }],
    hostIP: '127.0.0.1',
    hostIPs: [{ ip: '127.0.0.1' }],
    startTime: pod.status?.startTime ?? at,
    conditions: [
      condition('PodReadyToStartContainers', true, at),
      condition('Initialized', !blocked, at),
      condition('Ready', !blocked, at),
      condition('ContainersReady', !blocked, at),
      condition('PodScheduled', true, at),
    ],
    containerStatuses: (pod.spec.containers ?? []).map((c: any) => (blocked ? initializing(c) : { ...containerStatus(c, RUNNING, at)!, ready: true })),
  };
  if (initContainerStatuses.length) status.initContainerStatuses = initContainerStatuses;
  return status;
}

const statusPatchArgs = (pod: string, status: StatusPatch) => ['patch', 'pod', pod, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })];

/**
 * Merge-patches the pod's status subresource as admin. Lists (containerStatuses, ...) are replaced
 * whole by a merge patch, so pass every entry of a list you set. Returns the updated pod.
 */
export function writeContainerStatuses(namespace: string, pod: string, status: StatusPatch): any {
  return kubectlJson(statusPatchArgs(pod, status), { namespace });
}

/**
 * The node to bind pods to whose statuses the test writes itself: `127.0.0.1` while no real
 * kubelet runs it (scripts/cluster.sh registers it with containerRuntimeVersion fake://0),
 * otherwise `ke-fake-node`, which no kubelet ever runs (a kubelet would overwrite the statuses).
 */
export function statusNode(): string {
  const env = clusterEnv();
  const r = kubectlResult(['get', 'node', env.nodeName, '-o', 'jsonpath={.status.nodeInfo.containerRuntimeVersion}']);
  return r.ok && r.stdout.trim() === 'fake://0' ? env.nodeName : env.fakeNode;
}

// ------------------------------------------------------------------------------ at once: mark*

/** Phase Running, a pod IP, every (init) container done/running and ready, Ready conditions. */
export function markPodRunning(namespace: string, pod: string, podIP = '10.244.0.10'): any {
  return writeContainerStatuses(namespace, pod, startedPodStatus(getPod(namespace, pod), { podIP }));
}

/** Creates a pod (as admin) bound to the node no kubelet runs and marks it Running; returns it as the server has it then. */
export function createRunningPod(namespace: string, pod: any): any {
  createObject({ ...pod, spec: { ...pod.spec, nodeName: clusterEnv().fakeNode } }, { namespace });
  return markPodRunning(namespace, pod.metadata.name);
}

/** Replaces (or adds) one entry of status.ephemeralContainerStatuses, keeping the others. */
function markEphemeral(namespace: string, pod: string, name: string, v: KubeletVerdict): any {
  const p = getPod(namespace, pod);
  const spec = (p.spec.ephemeralContainers ?? []).find((c: any) => c.name === name);
  if (!spec) throw new Error(`pod ${namespace}/${pod} has no ephemeral container ${name}`);
  const others = (p.status?.ephemeralContainerStatuses ?? []).filter((s: any) => s.name !== name);
  return writeContainerStatuses(namespace, pod, { ephemeralContainerStatuses: [...others, containerStatus(spec, v)!] });
}

export function markEphemeralRunning(namespace: string, pod: string, name: string): any {
  return markEphemeral(namespace, pod, name, RUNNING);
}

/** E.g. markEphemeralWaiting(ns, pod, 'debugger-x', 'ErrImagePull', 'failed to pull image ...'). */
export function markEphemeralWaiting(namespace: string, pod: string, name: string, reason: string, message = ''): any {
  return markEphemeral(namespace, pod, name, { state: 'waiting', reason, message });
}

export function markEphemeralTerminated(namespace: string, pod: string, name: string, exitCode = 0, reason = 'Completed'): any {
  return markEphemeral(namespace, pod, name, { state: 'terminated', exitCode, reason });
}

/**
 * One container in CrashLoopBackOff: waiting now, lastState.terminated with the exit code and
 * reason (e.g. 1, 'Error'), restartCount > 0, not ready. Other containers keep their statuses.
 */
export function markContainerCrashLooping(namespace: string, pod: string, container: string, exitCode = 1, reason = 'Error'): any {
  const p = getPod(namespace, pod);
  if (!(p.spec.containers ?? []).some((c: any) => c.name === container)) throw new Error(`pod ${namespace}/${pod} has no container ${container}`);
  const at = now();
  const current: any[] = p.status?.containerStatuses ?? [];
  const containerStatuses = (p.spec.containers ?? []).map((c: any) =>
    c.name === container
      ? containerStatus(c, { state: 'crash-looping', exitCode, reason, restartCount: 5, backOff: '5m0s', pod, namespace }, at)
      : (current.find((s) => s.name === c.name) ?? { ...containerStatus(c, RUNNING, at)!, ready: true }),
  );
  return writeContainerStatuses(namespace, pod, {
    phase: 'Running',
    podIP: p.status?.podIP ?? '10.244.0.10',
    hostIP: '127.0.0.1',
    startTime: p.status?.startTime ?? at,
    conditions: [condition('Initialized', true, at), condition('Ready', false, at), condition('ContainersReady', false, at), condition('PodScheduled', true, at)],
    containerStatuses,
  });
}

/**
 * A pod in Init:CrashLoopBackOff: the init containers before `container` completed, `container` in
 * back-off after exiting with exitCode (restartCount 4), the later ones and every main container
 * waiting in PodInitializing, phase Pending, Initialized False.
 */
export function markInitContainerCrashLooping(namespace: string, pod: string, container: string, exitCode = 1, reason = 'Error'): any {
  const p = getPod(namespace, pod);
  const inits: any[] = p.spec.initContainers ?? [];
  const at = inits.findIndex((c) => c.name === container);
  if (at < 0) throw new Error(`pod ${namespace}/${pod} has no init container ${container}`);
  const ts = now();
  const initializing = (c: any) => containerStatus(c, { state: 'waiting', reason: 'PodInitializing' })!;
  const initContainerStatuses = inits.map((c, i) => {
    if (i < at) return { ...containerStatus(c, { state: 'terminated', exitCode: 0 }, ts)!, ready: true };
    if (i > at) return initializing(c);
    return containerStatus(c, { state: 'crash-looping', exitCode, reason, restartCount: 4, backOff: '1m20s', pod, namespace }, ts)!;
  });
  return writeContainerStatuses(namespace, pod, {
    phase: 'Pending',
    podIP: '10.244.0.11',
    hostIP: '127.0.0.1',
    startTime: p.status?.startTime ?? ts,
    conditions: [condition('Initialized', false, ts), condition('Ready', false, ts), condition('ContainersReady', false, ts), condition('PodScheduled', true, ts)],
    initContainerStatuses,
    containerStatuses: (p.spec.containers ?? []).map(initializing),
  });
}

// ------------------------------------------------------------------- while the plugin runs: the stand-in

export interface StandInOptions {
  /** Which pods of the namespace to look after (default: every pod). */
  pods?: (pod: any) => boolean;
  /** Verdict for each new ephemeral container (default: running). */
  ephemeral?: (pod: any, container: any) => KubeletVerdict;
  /** Also start pods that have no container statuses yet (pod copies): startedPodStatus. */
  startPods?: boolean;
  /** With startPods: what each classic init container of a started pod does (default: completed). */
  initContainer?: (pod: any, container: any) => 'completed' | 'running';
  /** Called with every pod the stand-in sees (to capture a short-lived copy). */
  onPod?: (pod: any) => void;
  everyMs?: number;
}

/**
 * Plays the kubelet for the pods of one namespace while the plugin runs (bound to a node no
 * kubelet runs): polls them and writes a status for each ephemeral container that appears, as the
 * kubelet would once it started (or failed to start) it. Async, so the plugin's output keeps flowing.
 */
export class KubeletStandIn {
  /** Ephemeral containers given a status, as "pod/container", in the order seen. */
  readonly handled: string[] = [];
  /** When each was marked (Date.now()). */
  readonly markedAt = new Map<string, number>();
  readonly errors: string[] = [];
  private readonly done = new Set<string>();
  private readonly started = new Set<string>();
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    readonly namespace: string,
    private readonly opts: StandInOptions = {},
  ) {}

  start(): this {
    // Polls until stop(): a failed round is kept in errors, and the next round tries again.
    const round = async () => {
      try {
        await this.tick();
      } catch (err) {
        this.errors.push((err as Error).message);
      }
      return this.stopped;
    };
    this.loop = eventually(round, Number.POSITIVE_INFINITY, 'the stand-in kubelet to be stopped', this.opts.everyMs ?? 100).then(() => undefined);
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async tick(): Promise<void> {
    const list = await kubectlJsonAsync(['get', 'pods'], { namespace: this.namespace });
    for (const pod of list.items as any[]) {
      if (this.opts.pods && !this.opts.pods(pod)) continue;
      if (pod.metadata.deletionTimestamp) continue;
      this.opts.onPod?.(pod);
      const name = pod.metadata.name;
      const starting = this.opts.startPods && !this.started.has(name) && !pod.status?.containerStatuses?.length;
      const status: StatusPatch = starting ? startedPodStatus(pod, { podIP: '10.244.0.20', initContainer: this.opts.initContainer }) : {};
      // A container that already has a status was handled before this stand-in started.
      const known = new Set((pod.status?.ephemeralContainerStatuses ?? []).map((s: any) => s.name));
      const fresh: any[] = (pod.spec.ephemeralContainers ?? []).filter((c: any) => !this.done.has(`${name}/${c.name}`) && !known.has(c.name));
      const entries = fresh.map((c) => ({ c, s: containerStatus(c, this.opts.ephemeral?.(pod, c) ?? RUNNING) })).filter((e) => e.s);
      if (entries.length) {
        const kept = (pod.status?.ephemeralContainerStatuses ?? []).filter((s: any) => !entries.some((e) => e.c.name === s.name));
        status.ephemeralContainerStatuses = [...kept, ...entries.map((e) => e.s!)];
      }
      if (Object.keys(status).length === 0) continue;
      await kubectlAsync(statusPatchArgs(name, status), { namespace: this.namespace });
      if (starting) this.started.add(name);
      const at = Date.now();
      for (const { c } of entries) {
        this.done.add(`${name}/${c.name}`);
        this.handled.push(`${name}/${c.name}`);
        this.markedAt.set(`${name}/${c.name}`, at);
      }
    }
  }
}
