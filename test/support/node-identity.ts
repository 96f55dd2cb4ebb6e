// A user with exactly the roles the README documents for node sessions: the debugger ClusterRole in
// the given namespaces and the node ClusterRole (read from scripts/cluster/rbac.yaml) cluster-wide.
// The suites act as that user through impersonation (--as) from the admin context.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { applyManifest, kubectlResult } from './cluster';

const RBAC_YAML = resolve(__dirname, '..', '..', 'scripts', 'cluster', 'rbac.yaml');
/** The ClusterRole node sessions need besides kubectl-ephemeral-debugger. */
export const NODE_ROLE = 'kubectl-ephemeral-node-debugger';

/** The node ClusterRole as scripts/cluster/rbac.yaml documents it. */
export function documentedNodeRole(): any {
  const docs = parseAllDocuments(readFileSync(RBAC_YAML, 'utf8')).map((d) => d.toJSON());
  const role = docs.find((d) => d?.kind === 'ClusterRole' && d.metadata?.name === NODE_ROLE);
  if (!role) throw new Error(`${RBAC_YAML} has no ClusterRole ${NODE_ROLE}`);
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
 * Grants `user` the node role cluster-wide and `namespaceRole` (default: the debugger role) in each
 * namespace; returns the function that removes the cluster-wide binding (namespaced ones go with
 * their namespace).
 */
export function grantNodeSessions(user: string, namespaces: string[], namespaceRole = 'kubectl-ephemeral-debugger'): () => void {
  applyManifest(documentedNodeRole());
  applyManifest(binding('ClusterRoleBinding', user, NODE_ROLE, user));
  for (const ns of namespaces) applyManifest(binding('RoleBinding', user, namespaceRole, user, ns));
  return () => void kubectlResult(['delete', 'clusterrolebinding', user, '--ignore-not-found']);
}
