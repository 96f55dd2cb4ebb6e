import { formatTable } from '../output/printer.js';
import { describeForm, describeLevel } from '../presets/describe.js';
import { presetForm, type Preset } from '../presets/preset.js';
import { toPresetFile } from '../presets/user-presets.js';
import { render } from '../output/render.js';
import type { CommandContext } from '../context.js';

/** Options of `kubectl ephemeral presets`. */
export interface PresetsOptions {
  output?: 'wide' | 'json' | 'yaml';
}

/** How a preset's own (privileged) form reads in one cell. */
export function describeSecurity(p: Preset): string {
  return [describeForm(presetForm(p, 'privileged')), p.readOnlyRootFilesystem ? 'own root fs read-only' : ''].filter(Boolean).join(', ');
}

/** `kubectl ephemeral presets`: the registry as a table, or as a preset file (-o yaml|json) to copy from. */
export async function runPresets(ctx: CommandContext, opts: PresetsOptions): Promise<number> {
  const registry = await ctx.presets();
  if (opts.output === 'json' || opts.output === 'yaml') {
    ctx.printer.out(await render(toPresetFile(registry.presets), opts.output));
    return 0;
  }
  const wide = opts.output === 'wide';
  const headers = ['NAME', 'ALIASES', 'IMAGE', 'TARGETS', ...(wide ? ['PRIVILEGED', 'BASELINE', 'RESTRICTED', 'RECORD', 'SOURCE'] : ['SECURITY']), 'SUMMARY'];
  const rows = registry.presets.map((p) => [
    p.name,
    p.aliases.join(',') || '-',
    p.image,
    p.targetProcesses ? 'processes' : p.mirrorTarget ? 'volumes+env' : '-',
    ...(wide ? [describeLevel(p, 'privileged'), describeLevel(p, 'baseline'), describeLevel(p, 'restricted'), p.record ? 'yes' : 'no', p.source] : [describeSecurity(p)]),
    p.summary,
  ]);
  ctx.printer.out(formatTable(headers, rows));
  return 0;
}
