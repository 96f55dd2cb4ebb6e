// A user with exactly the roles the README documents for node sessions, read from
// scripts/cluster/rbac.yaml: the node-session role in the given namespaces and the node role
// cluster-wide. The suites act as that user through impersonation (--as) from the admin context.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { applyManifest, kubectlResult } from './cluster';

const RBAC_YAML = resolve(__dirname, '..', '..', 'scripts', 'cluster', 'rbac.yaml');
/** The cluster-wide role of node sessions (get nodes, create events). */
export const NODE_ROLE = 'kubectl-ephemeral-node-debugger';
/** The namespaced role of node sessions (the pod: create, attach, delete). */
export const NODE_SESSION_ROLE = 'kubectl-ephemeral-node-session';

/** A ClusterRole as scripts/cluster/rbac.yaml documents it. */
export function documentedRole(name: string): any {
  const docs = parseAllDocuments(readFileSync(RBAC_YAML, 'utf8')).map((d) => d.toJSON());
  const role = docs.find((d) => d?.kind === 'ClusterRole' && d.metadata?.name === name);
  if (!role) throw new Error(`${RBAC_YAML} has no ClusterRole ${name}`);
  return role;
}

function binding(kind: 'RoleBinding' | 'ClusterRoleBinding', name: string, role: string, user: string, ns?: string): object {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: { name, ...(ns ? { namespace: ns } : {}), labels: { 'kubectl-ephemeral/test': 'true' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
  };
}

/**
 * Grants `user` the node role cluster-wide and the node-session role in each namespace; returns the
 * function that removes the cluster-wide binding (namespaced ones go with their namespace). The
 * roles come from the repository, never from what the shared cluster holds at the moment.
 */
export function grantNodeSessions(user: string, namespaces: string[]): () => void {
  applyManifest(documentedRole(NODE_ROLE));
  applyManifest(documentedRole(NODE_SESSION_ROLE));
  applyManifest(binding('ClusterRoleBinding', user, NODE_ROLE, user));
  for (const ns of namespaces) applyManifest(binding('RoleBinding', user, NODE_SESSION_ROLE, user, ns));
  return () => void kubectlResult(['delete', 'clusterrolebinding', user, '--ignore-not-found']);
}
