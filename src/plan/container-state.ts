import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

/** A container's state reduced to what the plugin acts on. */
export type ContainerState =
  | { phase: 'absent' }
  | { phase: 'waiting'; reason: string; message: string }
  | { phase: 'running'; startedAt?: string }
  | { phase: 'terminated'; exitCode: number; reason: string; message: string };

/** Waiting reasons that will not fix themselves: the wait ends at once with the kubelet's message. */
export const FATAL_WAITING_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

function fromStatus(status: V1ContainerStatus | undefined): ContainerState {
  if (!status?.state) return { phase: 'absent' };
  const { running, terminated, waiting } = status.state;
  if (running) return { phase: 'running', startedAt: running.startedAt ? String(running.startedAt) : undefined };
  if (terminated)
    return { phase: 'terminated', exitCode: terminated.exitCode, reason: terminated.reason ?? '', message: terminated.message ?? '' };
  return { phase: 'waiting', reason: waiting?.reason ?? 'Waiting', message: waiting?.message ?? '' };
}

/** The state of an ephemeral container by name. */
export function ephemeralState(pod: V1Pod, name: string): ContainerState {
  return fromStatus(pod.status?.ephemeralContainerStatuses?.find((s) => s.name === name));
}

/** The state of a regular or init container by name. */
export function containerState(pod: V1Pod, name: string): ContainerState {
  const all = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  return fromStatus(all.find((s) => s.name === name));
}

/**
 * Whether the pod has a node yet, and when not, the scheduler's word on why (the PodScheduled
 * condition `kubectl describe pod` shows: reason Unschedulable and the same message as its
 * FailedScheduling event); no reason when no scheduler has looked at it.
 */
export function podScheduling(pod: V1Pod): { bound: true } | { bound: false; reason?: string; message?: string } {
  if (pod.spec?.nodeName) return { bound: true };
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  return scheduled ? { bound: false, reason: scheduled.reason ?? 'Unschedulable', message: scheduled.message ?? '' } : { bound: false };
}

/** The last termination of a container (current if terminated, else lastState), for the crash summary. */
export function lastTermination(pod: V1Pod, name: string): { exitCode: number; reason: string; finishedAt?: string; restarts: number } | undefined {
  const s = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((c) => c.name === name);
  const t = s?.state?.terminated ?? s?.lastState?.terminated;
  if (!s || !t) return undefined;
  return { exitCode: t.exitCode, reason: t.reason ?? '', finishedAt: t.finishedAt ? String(t.finishedAt) : undefined, restarts: s.restartCount ?? 0 };
}

/** One short word-phrase for tables: running, waiting (Reason), terminated (exit N). */
export function describeState(state: ContainerState): string {
  switch (state.phase) {
    case 'absent':
      return 'pending';
    case 'running':
      return 'running';
    case 'waiting':
      return `waiting (${state.reason})`;
    case 'terminated':
      return `terminated (exit ${state.exitCode}${state.reason && state.reason !== 'Completed' && state.reason !== 'Error' ? `, ${state.reason}` : ''})`;
  }
}
