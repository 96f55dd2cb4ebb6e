import { PluginError, usageError } from '../errors/plugin-error.js';
import type { KubeFlags } from '../kube/kube-flags.js';
import { checkAllowedImage } from '../plan/debug-container.js';
import { parseDuration } from '../plan/duration.js';
import type { Preset, RunAs } from '../presets/preset.js';
import { resolveSessionStreams, type SessionFlags, type SessionStreams } from './session-streams.js';

/** Options of `kubectl ephemeral <preset> POD`, as parsed by the CLI layer. */
export interface DebugOptions extends SessionFlags {
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
  kube: KubeFlags;
}

/** Validated options: everything that can be checked before talking to the cluster. */
export interface ValidatedDebug {
  preset: Preset;
  timeoutMs: number;
  runAs?: RunAs;
  keepalive: string[];
  /** What the container gets (stdin, tty) and the warning to print when -t cannot be honoured. */
  streams: SessionStreams;
}

/** Parses --run-as: root, target, a uid, or uid:gid. */
export function parseRunAs(text: string): RunAs {
  if (text === 'root') return { kind: 'root' };
  if (text === 'target') return { kind: 'target' };
  const m = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!m) throw usageError(`invalid --run-as "${text}"; use root, target, a uid or uid:gid`);
  return { kind: 'uid', uid: Number(m[1]), ...(m[2] ? { gid: Number(m[2]) } : {}) };
}

/** Checks flags against the preset before any request (kubectl's Validate step). */
export function validateDebugOptions(opts: DebugOptions, preset: Preset, stdinIsTerminal = true): ValidatedDebug {
  if (opts.output && !opts.dryRun) throw usageError('-o/--output applies to --dry-run only; add --dry-run or drop -o');
  if (opts.copy && !preset.copy) throw usageError(`preset "${preset.name}" has no --copy mode; use crashloop --copy`);
  if ((opts.keep || opts.keepalive !== 'sleep infinity') && !opts.copy) throw usageError('--keep and --keepalive apply to --copy only');
  if (preset.requireReason && !opts.reason?.trim())
    throw new PluginError('config', `preset "${preset.name}" requires --reason "..." (${preset.source}); say why you are debugging this pod`);
  if (opts.privileged && opts.runAs) throw usageError('--privileged and --run-as conflict; --privileged already runs as root');
  checkAllowedImage(preset, opts.image ?? preset.image);
  const keepalive = opts.keepalive.trim().split(/\s+/).filter(Boolean);
  if (keepalive.length === 0) throw usageError('--keepalive needs a command, such as "sleep infinity"');
  const streams = resolveSessionStreams(opts, stdinIsTerminal, opts.attach);
  return { preset, timeoutMs: parseDuration(opts.timeout), runAs: opts.runAs ? parseRunAs(opts.runAs) : undefined, keepalive, streams };
}
