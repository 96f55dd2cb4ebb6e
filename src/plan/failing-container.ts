import type { V1Container, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { FATAL_WAITING_REASONS } from './container-state.js';

/** Where a container sits in the pod spec: a classic init container, a sidecar (restartable init container) or a main container. */
export type ContainerKind = 'init' | 'sidecar' | 'main';

/** A container that is failing, with what `kubectl get pods` would show for it. */
export interface FailingContainer {
  name: string;
  kind: ContainerKind;
  /** kubectl's STATUS column for the pod as this container makes it: Init:CrashLoopBackOff, Error, ... */
  status: string;
  restarts: number;
  /** The last termination's exit code and reason, when one is recorded. */
  lastExit?: { exitCode: number; reason: string };
}

/** Waiting reasons that mean the container cannot run now (its own failure, not the pod's start-up): the back-off, and what will not fix itself. */
const failingWait = (reason: string) => reason === 'CrashLoopBackOff' || FATAL_WAITING_REASONS.has(reason);

interface Candidate {
  container: V1Container;
  kind: ContainerKind;
  status: V1ContainerStatus | undefined;
}

function candidates(pod: V1Pod): Candidate[] {
  const statusOf = (list: V1ContainerStatus[] | undefined, name: string) => list?.find((s) => s.name === name);
  const init = (pod.spec?.initContainers ?? []).map<Candidate>((c) => ({
    container: c,
    kind: c.restartPolicy === 'Always' ? 'sidecar' : 'init',
    status: statusOf(pod.status?.initContainerStatuses, c.name),
  }));
  const main = (pod.spec?.containers ?? []).map<Candidate>((c) => ({ container: c, kind: 'main', status: statusOf(pod.status?.containerStatuses, c.name) }));
  // Classic init containers run first and block everything after them: a failing one is the cause.
  return [...init.filter((c) => c.kind === 'init'), ...init.filter((c) => c.kind === 'sidecar'), ...main];
}

/** How badly a container fails: 2 not running now (back-off, error exit), 1 running again after a failed run, 0 not failing. */
function severity(c: Candidate): number {
  const s = c.status;
  if (!s?.state) return 0;
  const { waiting, terminated, running } = s.state;
  if (waiting?.reason && failingWait(waiting.reason)) return 2;
  // A classic init container that exits 0 is done; any container exiting non-zero failed.
  if (terminated) return terminated.exitCode !== 0 ? 2 : 0;
  const lastFailed = (s.lastState?.terminated?.exitCode ?? 0) !== 0;
  if (running && lastFailed && (s.restartCount ?? 0) > 0) return 1;
  if (waiting && lastFailed) return 2;
  return 0;
}

function toFailing(c: Candidate): FailingContainer {
  const s = c.status!;
  const t = s.state?.terminated ?? s.lastState?.terminated;
  const now = s.state?.waiting?.reason ?? (s.state?.terminated ? (s.state.terminated.reason ?? 'Error') : 'Running');
  return {
    name: c.container.name,
    kind: c.kind,
    status: c.kind === 'main' ? now : `Init:${now}`,
    restarts: s.restartCount ?? 0,
    ...(t ? { lastExit: { exitCode: t.exitCode, reason: t.reason ?? '' } } : {}),
  };
}

/**
 * The pod's failing containers, the one to debug first: classic init containers (they block the
 * rest), then sidecars, then main containers; within each, those not running now before those
 * running again after a failure. Empty when nothing fails.
 */
export function failingContainers(pod: V1Pod): FailingContainer[] {
  return candidates(pod)
    .map((c, order) => ({ c, order, severity: severity(c) }))
    .filter((x) => x.severity > 0)
    .sort((a, b) => b.severity - a.severity || a.order - b.order)
    .map((x) => toFailing(x.c));
}

/** A one-phrase account of a failing container for notices and the pod picker: `init container "x": Init:CrashLoopBackOff, exit 1 (Error), 4 restarts`. */
export function describeFailing(f: FailingContainer): string {
  const what = f.kind === 'main' ? 'container' : f.kind === 'init' ? 'init container' : 'sidecar';
  const exit = f.lastExit ? `, last exit ${f.lastExit.exitCode}${f.lastExit.reason ? ` (${f.lastExit.reason})` : ''}` : '';
  return `${what} "${f.name}": ${f.status}${exit}, ${f.restarts} restart(s)`;
}

/** The pods with a failing container, each with the container to debug first, in name order (pods being deleted left out). */
export function podsWithFailingContainers(pods: V1Pod[]): Array<{ pod: V1Pod; failing: FailingContainer }> {
  return pods
    .filter((p) => !p.metadata?.deletionTimestamp)
    .flatMap((pod) => {
      const [first] = failingContainers(pod);
      return first ? [{ pod, failing: first }] : [];
    })
    .sort((a, b) => (a.pod.metadata?.name ?? '').localeCompare(b.pod.metadata?.name ?? ''));
}
