import { formatTable } from '../output/printer.js';
import type { Preset } from '../presets/preset.js';
import { render } from '../output/render.js';
import type { CommandContext } from '../context.js';

/** Options of `kubectl ephemeral presets`. */
export interface PresetsOptions {
  output?: 'wide' | 'json' | 'yaml';
}

/** How a preset's security posture reads in one cell. */
export function describeSecurity(p: Preset): string {
  const user = p.runAs.kind === 'root' ? 'root' : p.runAs.kind === 'target' ? 'target user' : `uid ${p.runAs.uid}`;
  const caps = p.capabilities.length ? `+${p.capabilities.join(',')}` : 'no caps';
  return [user, caps, p.readOnlyRootFilesystem ? 'read-only' : ''].filter(Boolean).join(', ');
}

/** `kubectl ephemeral presets`: the registry as a table, or as data. */
export async function runPresets(ctx: CommandContext, opts: PresetsOptions): Promise<number> {
  const registry = await ctx.presets();
  if (opts.output === 'json' || opts.output === 'yaml') {
    ctx.printer.out(await render(registry.presets, opts.output));
    return 0;
  }
  const wide = opts.output === 'wide';
  const headers = ['NAME', 'ALIASES', 'IMAGE', 'TARGETS', 'SECURITY', ...(wide ? ['RECORD', 'SOURCE'] : []), 'SUMMARY'];
  const rows = registry.presets.map((p) => [
    p.name,
    p.aliases.join(',') || '-',
    p.image,
    p.targetProcesses ? 'processes' : p.mirrorTarget ? 'volumes+env' : '-',
    describeSecurity(p),
    ...(wide ? [p.record ? 'yes' : 'no', p.source] : []),
    p.summary,
  ]);
  ctx.printer.out(formatTable(headers, rows));
  return 0;
}
