import type { V1LabelSelector, V1Pod } from '@kubernetes/client-node';
import { usageError } from '../errors/plugin-error.js';
import { failingContainers } from './failing-container.js';

import { WORKLOAD_KINDS, type WorkloadKind } from '../kube/workload-kinds.js';

export { WORKLOAD_KINDS, type WorkloadKind } from '../kube/workload-kinds.js';

/** What a POD argument names: a pod, or a workload whose pods are chosen from. */
export type PodRef = { kind: 'pod'; name: string } | { kind: WorkloadKind; name: string };

// kubectl's short names and plural forms, each accepted alone or qualified by its API group
// (deployments.apps, deployment.v1.apps), as `kubectl exec deploy/web` and `kubectl logs` take them.
const ALIASES: Record<string, PodRef['kind']> = {
  po: 'pod',
  pod: 'pod',
  pods: 'pod',
  deploy: 'deployment',
  deployment: 'deployment',
  deployments: 'deployment',
  sts: 'statefulset',
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  ds: 'daemonset',
  daemonset: 'daemonset',
  daemonsets: 'daemonset',
  rs: 'replicaset',
  replicaset: 'replicaset',
  replicasets: 'replicaset',
  job: 'job',
  jobs: 'job',
};

/** The TYPE/ prefixes accepted (for help text and completion). */
export const POD_REF_PREFIXES = ['pod', 'deploy', 'sts', 'ds', 'rs', 'job'] as const;

/** Parses POD, pod/NAME, deploy/NAME, deployment.apps/NAME, sts/NAME, ds/NAME, rs/NAME or job/NAME. */
export function parsePodRef(text: string): PodRef {
  const slash = text.indexOf('/');
  if (slash < 0) return { kind: 'pod', name: text };
  const type = text.slice(0, slash).toLowerCase();
  const name = text.slice(slash + 1);
  const [base, ...qualifier] = type.split('.');
  const kind = ALIASES[base ?? ''];
  // The group may follow the kind, with or without a version: deployments.apps, deployments.v1.apps.
  const group = qualifier[qualifier.length - 1];
  const known = kind && (qualifier.length === 0 || (qualifier.length <= 2 && group === (kind === 'pod' ? '' : WORKLOAD_KINDS[kind].group)));
  if (!known) throw usageError(`cannot debug "${text}": use a pod name or pod/, deploy/, sts/, ds/, rs/ or job/ followed by a name`);
  if (!name || name.includes('/')) throw usageError(`"${text}" names no ${kind}; use ${type}/NAME`);
  return { kind, name };
}

/** A label selector in the query syntax (`app=web,tier in (a,b),!legacy`); undefined when it selects nothing. */
export function selectorQuery(selector: V1LabelSelector | undefined): string | undefined {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = `(${(e.values ?? []).join(',')})`;
    if (e.operator === 'In') parts.push(`${e.key} in ${values}`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin ${values}`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  // An empty selector selects every pod of the namespace: never what a workload means.
  return parts.length ? parts.join(',') : undefined;
}

/** Whether a pod's Ready condition is True. */
export function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * The pod of a workload to debug, or undefined when none is live: pods being deleted and finished
 * ones (Succeeded, Failed) are left out, since ephemeral containers cannot start there. Ready
 * running pods come first (ready for longer, then fewer restarts), then running, then pending, as
 * kubectl exec chooses;
 * with preferFailing (crashloop) a pod with a failing container comes before all of them.
 */
export function choosePod(pods: V1Pod[], opts: { preferFailing?: boolean } = {}): V1Pod | undefined {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  const rank = (p: V1Pod) => {
    if (opts.preferFailing && failingContainers(p).length) return 0;
    if (p.status?.phase === 'Running') return isReady(p) ? 1 : 2;
    return 3;
  };
  const created = (p: V1Pod) => String(p.metadata?.creationTimestamp ?? '');
  const order = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  // A Ready condition without a time sorts after every time ('~' is after the digits in code points).
  const readySince = (p: V1Pod) => String(p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? '~');
  const restarts = (p: V1Pod) => [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].reduce((n, s) => n + (s.restartCount ?? 0), 0);
  // kubectl exec's order (the reverse of ActivePods): ready for longer, fewer restarts, older.
  // Among failing pods, the one failing most (more restarts) first.
  return live.sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (rank(a) === 1 ? order(readySince(a), readySince(b)) : 0) ||
      (rank(a) === 0 ? restarts(b) - restarts(a) : restarts(a) - restarts(b)) ||
      order(created(a), created(b)) ||
      order(a.metadata?.name ?? '', b.metadata?.name ?? ''),
  )[0];
}
