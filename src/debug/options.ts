import { PluginError, usageError } from '../errors/plugin-error.js';
import { parseRunAsText, type Preset, type RunAs } from '../presets/preset.js';

// The options of a preset command and their Complete and Validate steps are in ./request.ts.
export type { DebugOptions } from './request.js';

/** Parses --run-as: root, target, a uid, or uid:gid. */
export function parseRunAs(text: string): RunAs {
  const runAs = parseRunAsText(text);
  if (!runAs) throw usageError(`invalid --run-as "${text}"; use root, target, a uid or uid:gid`);
  return runAs;
}

/** Refuses a run without --reason when the preset requires one (sessions and collect alike). */
export function checkReason(preset: Preset, reason: string | undefined): void {
  if (preset.requireReason && !reason?.trim())
    throw new PluginError('config', `preset "${preset.name}" requires --reason "..." (${preset.source}); say why you are debugging this pod`);
}
