// The RBAC objects a cluster admin applies for kubectl-ephemeral, generated from the one table of
// permissions (access-rules.ts): the ClusterRoles and a binding template. `kubectl ephemeral
// permissions -o yaml` prints them; a unit test holds scripts/cluster/rbac.yaml (the local test
// cluster's copy, with its test users) to the same rules.
import { PERMISSIONS, ROLES, ROLE_USE, type RoleName } from '../kube/access-rules.js';

/** A rule of a ClusterRole. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** The label every generated object carries (cleanup: kubectl delete clusterrole -l ...). */
export const RBAC_LABELS = { 'app.kubernetes.io/name': 'kubectl-ephemeral' } as const;

/** The subject the binding template names until the admin replaces it. */
export const TEMPLATE_SUBJECT = 'YOUR-USER';

/**
 * A role's rules: one per API group and resource, verbs in table order; resources of one group
 * with the same verbs share a rule (deployments, statefulsets ... get).
 */
export function rulesOf(role: RoleName): PolicyRule[] {
  const byResource = new Map<string, { group: string; resource: string; verbs: string[] }>();
  for (const p of PERMISSIONS.filter((x) => x.role === role)) {
    const key = `${p.group ?? ''}/${p.resource}`;
    const entry = byResource.get(key) ?? { group: p.group ?? '', resource: p.resource, verbs: [] };
    if (!entry.verbs.includes(p.verb)) entry.verbs.push(p.verb);
    byResource.set(key, entry);
  }
  const rules: PolicyRule[] = [];
  for (const { group, resource, verbs } of byResource.values()) {
    const same = rules.find((r) => r.apiGroups[0] === group && r.verbs.join() === verbs.join());
    if (same && group !== '') same.resources.push(resource);
    else rules.push({ apiGroups: [group], resources: [resource], verbs });
  }
  return rules;
}

/** The ClusterRole of one shipped role. */
export function clusterRole(role: RoleName): Record<string, unknown> {
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: role, labels: { ...RBAC_LABELS } }, rules: rulesOf(role) };
}

/** Where a role is bound: namespaced roles by RoleBinding, the node role cluster-wide. */
function bindingKind(role: RoleName): 'RoleBinding' | 'ClusterRoleBinding' {
  return role === ROLES.nodeDebugger ? 'ClusterRoleBinding' : 'RoleBinding';
}

/** A binding of one role to the template subject (RoleBindings land in `kubectl apply -n`'s namespace). */
export function bindingTemplate(role: RoleName): Record<string, unknown> {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: bindingKind(role),
    metadata: { name: `${role}-${TEMPLATE_SUBJECT.toLowerCase()}`, labels: { ...RBAC_LABELS } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: TEMPLATE_SUBJECT }],
  };
}

/** One document of the printed manifest, with the comment that goes above it. */
export interface RbacDocument {
  comment: string;
  object: Record<string, unknown>;
}

/** Every ClusterRole, then one binding per role: what `permissions -o yaml` prints. */
export function rbacDocuments(): RbacDocument[] {
  const roles = Object.values(ROLES) as RoleName[];
  return [
    ...roles.map((role) => ({ comment: `ClusterRole for ${ROLE_USE[role]}.`, object: clusterRole(role) })),
    ...roles.map((role) => ({
      comment:
        bindingKind(role) === 'ClusterRoleBinding'
          ? `Binding template (${ROLE_USE[role]}): nodes are cluster-scoped, so a ClusterRoleBinding.`
          : `Binding template (${ROLE_USE[role]}): a RoleBinding in the namespace you apply it to; a ClusterRoleBinding grants it everywhere.`,
      object: bindingTemplate(role),
    })),
  ];
}
