import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { PERMISSIONS, ROLES, type RoleName } from '../../../src/kube/access-rules';
import { bindingTemplate, clusterRole, rbacDocuments, rulesOf, TEMPLATE_SUBJECT, type PolicyRule } from '../../../src/plan/rbac-manifest';

// scripts/cluster/rbac.yaml is the local test cluster's copy of the roles (with its test users and
// comments): the roles `kubectl ephemeral permissions -o yaml` generates must grant exactly what it does.
const fileDocs = parseAllDocuments(readFileSync(join(__dirname, '..', '..', '..', 'scripts', 'cluster', 'rbac.yaml'), 'utf8')).map((d) => d.toJS());
const grants = (rules: PolicyRule[]) => rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g || 'core'} ${v} ${res}`)))).sort();

describe('the ClusterRoles generated from the table of permissions', () => {
  it.each(Object.values(ROLES))('%s is the ClusterRole of scripts/cluster/rbac.yaml: same name, labels and grants', (role) => {
    const inFile = fileDocs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === role);
    const generated = clusterRole(role) as { metadata: unknown; rules: PolicyRule[] };
    expect(generated.metadata).toEqual(inFile.metadata);
    expect(grants(generated.rules)).toEqual(grants(inFile.rules));
  });

  it('one rule per resource, verbs in table order; resources of one API group with the same verbs share a rule', () => {
    expect(rulesOf(ROLES.core)).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods/ephemeralcontainers'], verbs: ['patch', 'get'] },
      { apiGroups: [''], resources: ['pods/attach'], verbs: ['create', 'get'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      { apiGroups: [''], resources: ['events'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectrulesreviews'], verbs: ['create'] },
      { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'], verbs: ['get'] },
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] },
    ]);
  });

  it('every permission of the table is in exactly one generated role', () => {
    const all = (Object.values(ROLES) as RoleName[]).flatMap((role) => grants(rulesOf(role)).map((g) => `${role} ${g}`)).sort();
    expect(all).toEqual(PERMISSIONS.map((p) => `${p.role} ${p.group ?? 'core'} ${p.verb} ${p.resource}`).sort());
  });
});

describe('the binding template', () => {
  it('binds each role to the placeholder user: a RoleBinding for namespaced work, a ClusterRoleBinding for nodes', () => {
    expect(bindingTemplate(ROLES.core)).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'kubectl-ephemeral-debugger-your-user', labels: { 'app.kubernetes.io/name': 'kubectl-ephemeral' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: ROLES.core },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: TEMPLATE_SUBJECT }],
    });
    expect(bindingTemplate(ROLES.nodeDebugger)).toMatchObject({ kind: 'ClusterRoleBinding' });
    expect(bindingTemplate(ROLES.nodeSession)).toMatchObject({ kind: 'RoleBinding' });
  });

  it('the documents: the six ClusterRoles, then a binding of each', () => {
    expect(rbacDocuments().map((d) => `${(d.object as any).kind} ${(d.object as any).metadata.name}`)).toEqual([
      ...Object.values(ROLES).map((r) => `ClusterRole ${r}`),
      ...Object.values(ROLES).map((r) => `${r === ROLES.nodeDebugger ? 'ClusterRoleBinding' : 'RoleBinding'} ${r}-your-user`),
    ]);
  });
});
