/** The workload kinds a pod reference may name, with where the API serves them. */
export const WORKLOAD_KINDS = {
  deployment: { group: 'apps', resource: 'deployments' },
  statefulset: { group: 'apps', resource: 'statefulsets' },
  daemonset: { group: 'apps', resource: 'daemonsets' },
  replicaset: { group: 'apps', resource: 'replicasets' },
  job: { group: 'batch', resource: 'jobs' },
} as const;

/** A kind of workload the plugin resolves to one of its pods. */
export type WorkloadKind = keyof typeof WORKLOAD_KINDS;
