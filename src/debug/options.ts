import { PluginError, usageError } from '../errors/plugin-error.js';
import type { KubeFlags } from '../kube/kube-flags.js';
import { checkAllowedImage } from '../plan/debug-container.js';
import { parseDuration } from '../plan/duration.js';
import { parseRunAsText, type PodSecurityLevel, type Preset, type RunAs } from '../presets/preset.js';

/** Options of `kubectl ephemeral <preset> POD`, as parsed by the CLI layer. */
export interface DebugOptions {
  preset: string;
  pod: string;
  container?: string;
  image?: string;
  name?: string;
  command: string[];
  attach: boolean;
  dryRun?: 'client' | 'server';
  output?: 'json' | 'yaml';
  timeout: string;
  privileged: boolean;
  runAs?: string;
  copy: boolean;
  keepalive: string;
  keep: boolean;
  reason?: string;
  record?: boolean | string;
  /** --level: build the preset's form for this Pod Security level instead of choosing one. */
  level?: PodSecurityLevel;
  kube: KubeFlags;
}

/** Validated options: everything that can be checked before talking to the cluster. */
export interface ValidatedDebug {
  preset: Preset;
  timeoutMs: number;
  runAs?: RunAs;
  keepalive: string[];
}

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

/** Checks flags against the preset before any request (kubectl's Validate step). */
export function validateDebugOptions(opts: DebugOptions, preset: Preset): ValidatedDebug {
  if (opts.output && !opts.dryRun) throw usageError('-o/--output applies to --dry-run only; add --dry-run or drop -o');
  if (opts.copy && !preset.copy) throw usageError(`preset "${preset.name}" has no --copy mode; use crashloop --copy`);
  if ((opts.keep || opts.keepalive !== 'sleep infinity') && !opts.copy) throw usageError('--keep and --keepalive apply to --copy only');
  checkReason(preset, opts.reason);
  if (opts.privileged && opts.runAs) throw usageError('--privileged and --run-as conflict; --privileged already runs as root');
  checkAllowedImage(preset, opts.image ?? preset.image);
  const keepalive = opts.keepalive.trim().split(/\s+/).filter(Boolean);
  if (keepalive.length === 0) throw usageError('--keepalive needs a command, such as "sleep infinity"');
  return { preset, timeoutMs: parseDuration(opts.timeout), runAs: opts.runAs ? parseRunAs(opts.runAs) : undefined, keepalive };
}
