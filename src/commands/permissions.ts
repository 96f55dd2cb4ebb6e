import type { CommandContext } from '../context.js';
import { formatTable } from '../output/printer.js';
import { render } from '../output/render.js';
import { PERMISSIONS, ROLE_USE } from '../kube/access-rules.js';
import { rbacDocuments, TEMPLATE_SUBJECT } from '../plan/rbac-manifest.js';

/** Options of `kubectl ephemeral permissions`. */
export interface PermissionsOptions {
  output?: 'json' | 'yaml';
}

/** The head of the YAML output: how to use it, since the reader has no checkout to look in. */
const YAML_HEAD = [
  '# RBAC for kubectl-ephemeral, printed by `kubectl ephemeral permissions -o yaml`.',
  '# The ClusterRoles are safe to apply as they are. The bindings are a template: replace',
  `# ${TEMPLATE_SUBJECT} with the user (or make the subject a Group or ServiceAccount), keep the`,
  '# bindings you want and apply with -n NAMESPACE. With RoleBindings only, `list -A` and',
  '# `cleanup -A` fail and the Pod Security preflight cannot read namespace labels (namespaces are',
  '# cluster-scoped): bind the core role with a ClusterRoleBinding for those.',
];

/** `kubectl ephemeral permissions`: what each role grants and why, or the roles themselves (-o yaml|json). */
export async function runPermissions(ctx: CommandContext, opts: PermissionsOptions): Promise<number> {
  if (opts.output === 'json') {
    ctx.printer.out(await render({ apiVersion: 'v1', kind: 'List', items: rbacDocuments().map((d) => d.object) }, 'json'));
    return 0;
  }
  if (opts.output === 'yaml') {
    const docs = await Promise.all(rbacDocuments().map(async (d) => `# ${d.comment}\n${await render(d.object, 'yaml')}`));
    ctx.printer.out(`${YAML_HEAD.join('\n')}\n${docs.join('\n---\n')}`);
    return 0;
  }
  const rows = PERMISSIONS.map((p) => [p.role, ROLE_USE[p.role], p.verb, p.group ? `${p.resource}.${p.group}` : p.resource, p.purpose]);
  ctx.printer.out(formatTable(['CLUSTERROLE', 'FOR', 'VERB', 'RESOURCE', 'PURPOSE'], rows));
  return 0;
}
