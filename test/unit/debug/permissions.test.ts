import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { neededPermissions } from '../../../src/debug/preflight';
import { PERMISSIONS, ROLES, rolesGranting } from '../../../src/kube/access-rules';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
const documents = parseAllDocuments(readFileSync(join(__dirname, '..', '..', '..', 'scripts', 'cluster', 'rbac.yaml'), 'utf8')).map((d) => d.toJS());
const grantsOf = (role: string) =>
  documents
    .filter((d) => d.kind === 'ClusterRole' && d.metadata.name === role)
    .flatMap((d) => d.rules as Rule[])
    .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g || 'core'} ${v} ${res}`))))
    .sort();

describe('the shipped roles (scripts/cluster/rbac.yaml) and the code\'s list of permissions', () => {
  it.each(Object.values(ROLES))('%s grants exactly what the code says it is for, no more', (role) => {
    const expected = PERMISSIONS.filter((p) => p.role === role).map((p) => `${p.group ?? 'core'} ${p.verb} ${p.resource}`).sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(grantsOf(role)).toEqual(expected);
  });

  it('the core role cannot change a pod, create or delete one, or exec into one', () => {
    const core = grantsOf(ROLES.core);
    for (const forbidden of ['core patch pods', 'core update pods', 'core create pods', 'core delete pods', 'core create pods/exec']) expect(core).not.toContain(forbidden);
  });

  it('the test cluster binds debugger to every role and core-only to the core role alone', () => {
    const bound = (user: string) =>
      documents
        .filter((d) => d.kind === 'ClusterRoleBinding' && (d.subjects as Array<{ name: string }>).some((s) => s.name === user))
        .map((d) => d.roleRef.name as string)
        .sort();
    // Node sessions' roles are bound by the suites that run them, in their own namespaces.
    expect(bound('debugger')).toEqual([ROLES.core, ROLES.copy, ROLES.cleanup, ROLES.audit].sort());
    expect(bound('core-only')).toEqual([ROLES.core]);
  });

  it('a debug run checks the permissions of the roles it needs; a node session those of the node-session role', () => {
    expect(neededPermissions({ attach: true, copy: false, node: true }).map((p) => `${p.verb} ${p.resource} (${p.role})`)).toEqual([
      'create pods (kubectl-ephemeral-node-session)',
      'delete pods (kubectl-ephemeral-node-session)',
      'create pods/attach (kubectl-ephemeral-node-session)',
    ]);
    const names = (attach: boolean, copy: boolean) => neededPermissions({ attach, copy }).map((p) => `${p.verb} ${p.resource} (${p.role})`);
    expect(names(true, false)).toEqual([
      'patch pods/ephemeralcontainers (kubectl-ephemeral-debugger)',
      'create pods/attach (kubectl-ephemeral-debugger)',
      'patch pods (kubectl-ephemeral-audit)',
    ]);
    expect(names(false, true)).toEqual([
      'patch pods/ephemeralcontainers (kubectl-ephemeral-debugger)',
      'create pods (kubectl-ephemeral-copy)',
      'delete pods (kubectl-ephemeral-copy)',
      'patch pods (kubectl-ephemeral-audit)',
    ]);
  });
});

describe('rolesGranting (what a 403 names)', () => {
  it.each([
    ['list', 'pods', 'the ClusterRole kubectl-ephemeral-debugger'],
    ['delete', 'pods', 'the ClusterRole kubectl-ephemeral-copy or kubectl-ephemeral-cleanup'],
    ['patch', 'pods', 'the ClusterRole kubectl-ephemeral-audit'],
    ['get', 'nodes', 'the ClusterRole kubectl-ephemeral-node-debugger'],
    // As a 403 on a workload names it: the resource with its group.
    ['get', 'deployments.apps', 'the ClusterRole kubectl-ephemeral-debugger'],
    ['get', 'deployments', undefined],
    ['escalate', 'roles', undefined],
  ])('%s %s: %s', (verb, resource, expected) => expect(rolesGranting(verb, resource)).toBe(expected));
});
