import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const REPO = join(__dirname, '..', '..', '..');
const roles = (text: string) =>
  Object.fromEntries(
    parseAllDocuments(text)
      .map((d) => d.toJSON())
      .filter((d) => d?.kind === 'ClusterRole' && /node/.test(d.metadata?.name))
      .map((d) => [d.metadata.name, d.rules]),
  );

describe('node session roles', () => {
  // The suites bind the roles of scripts/cluster/rbac.yaml; docs/permissions.md must show the same rules.
  it('docs/permissions.md shows the rules of scripts/cluster/rbac.yaml', () => {
    const readme = readFileSync(join(REPO, 'docs', 'permissions.md'), 'utf8');
    const block = /```yaml\n(apiVersion: rbac\.authorization\.k8s\.io\/v1\nkind: ClusterRole\nmetadata:\n  name: kubectl-ephemeral-node-session[\s\S]*?)```/.exec(readme)![1]!;
    const fromFile = roles(readFileSync(join(REPO, 'scripts', 'cluster', 'rbac.yaml'), 'utf8'));
    expect(Object.keys(fromFile).sort()).toEqual(['kubectl-ephemeral-node-debugger', 'kubectl-ephemeral-node-session']);
    expect(roles(block)).toEqual(fromFile);
  });
});
