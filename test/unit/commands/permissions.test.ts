import { parseAllDocuments } from 'yaml';
import { parseCommandLine } from '../../../src/cli/root';
import { runPermissions, type PermissionsOptions } from '../../../src/commands/permissions';
import type { CommandContext } from '../../../src/context';
import { PERMISSIONS, PERMISSIONS_COMMAND } from '../../../src/kube/access-rules';
import { rbacDocuments } from '../../../src/plan/rbac-manifest';
import { PresetRegistry } from '../../../src/presets/registry';

const printed = async (opts: PermissionsOptions) => {
  const out: string[] = [];
  const ctx = { printer: { out: (t: string) => out.push(t) } } as unknown as CommandContext;
  expect(await runPermissions(ctx, opts)).toBe(0);
  return out.join('\n');
};

describe('kubectl ephemeral permissions', () => {
  it('parses -o yaml and -o json, and refuses another format', async () => {
    const parse = (args: string[]) => parseCommandLine(args, PresetRegistry.from(), () => undefined);
    expect(await parse(['permissions', '-o', 'yaml'])).toEqual({ command: 'permissions', options: { output: 'yaml' } });
    expect(await parse(['permissions'])).toEqual({ command: 'permissions', options: { output: undefined } });
    await expect(parse(['permissions', '-o', 'wide'])).rejects.toMatchObject({ kind: 'usage' });
  });

  it('the command refusals point to is this one (what a krew user has instead of a checkout)', async () => {
    const [kubectl, plugin, ...args] = PERMISSIONS_COMMAND.split(' ');
    expect([kubectl, plugin]).toEqual(['kubectl', 'ephemeral']);
    expect(await parseCommandLine(args, PresetRegistry.from(), () => undefined)).toEqual({ command: 'permissions', options: { output: undefined } });
  });

  it('prints one line per permission: the ClusterRole, what it is for, verb, resource and purpose', async () => {
    const lines = (await printed({})).split('\n');
    expect(lines[0]).toMatch(/^CLUSTERROLE +FOR +VERB +RESOURCE +PURPOSE$/);
    expect(lines).toHaveLength(PERMISSIONS.length + 1);
    expect(lines.some((l) => /^kubectl-ephemeral-copy +crashloop --copy +create +pods +crashloop --copy: create the pod copy$/.test(l))).toBe(true);
    expect(lines.some((l) => /^kubectl-ephemeral-debugger .* get +deployments\.apps /.test(l))).toBe(true);
  });

  it('-o yaml prints the generated documents, each under its comment, after a head that says how to use them', async () => {
    const text = await printed({ output: 'yaml' });
    expect(text).toMatch(/^# RBAC for kubectl-ephemeral, printed by `kubectl ephemeral permissions -o yaml`\./);
    expect(parseAllDocuments(text).map((d) => d.toJS())).toEqual(rbacDocuments().map((d) => d.object));
    for (const d of rbacDocuments()) expect(text).toContain(`# ${d.comment}\n`);
  });

  it('-o json prints them as one v1 List', async () => {
    expect(JSON.parse(await printed({ output: 'json' }))).toEqual({ apiVersion: 'v1', kind: 'List', items: rbacDocuments().map((d) => d.object) });
  });
});
