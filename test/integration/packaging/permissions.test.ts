// A krew user has no checkout: the plugin itself prints the roles and bindings it needs, and the
// API server accepts them as printed (a server-side dry run: the shared test cluster's own roles
// are left alone). scripts/cluster/rbac.yaml is held to the same rules by a unit test.
import { kubectlResult } from '../../support/cluster';
import { expectExit, requireBuiltPlugin, runPlugin } from '../../support/plugin';
import { rbacDocuments } from '../../../src/plan/rbac-manifest';

jest.setTimeout(60_000);

describe('kubectl ephemeral permissions against the live API server', () => {
  beforeAll(requireBuiltPlugin);

  it.each(['yaml', 'json'])('-o %s | kubectl apply --dry-run=server -f - accepts every object (admin context)', async (format) => {
    const printed = await runPlugin(['permissions', '-o', format]);
    expectExit(printed, 0);
    const r = kubectlResult(['apply', '--dry-run=server', '-n', 'default', '-f', '-'], { context: 'admin', input: printed.stdout });
    expect({ ok: r.ok, stderr: r.stderr }).toEqual({ ok: true, stderr: '' });
    // One line per object, each a server dry run: created, configured or unchanged.
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.replace(/ (created|configured|unchanged) \(server dry run\)$/, ''))).toEqual(
      rbacDocuments().map(({ object: o }: { object: any }) => `${o.kind === 'ClusterRole' ? 'clusterrole' : o.kind === 'RoleBinding' ? 'rolebinding' : 'clusterrolebinding'}.rbac.authorization.k8s.io/${o.metadata.name}`),
    );
  });

  it('the API server refuses a role the plugin does not print (the dry run is a real check)', () => {
    const bad = JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'ke-platforms-bad' }, rules: [{ apiGroups: [''], resources: ['pods'] }] });
    const r = kubectlResult(['apply', '--dry-run=server', '-f', '-'], { context: 'admin', input: bad });
    expect(r.ok).toBe(false);
    expect(r.stderr).toMatch(/verbs/);
  });
});
