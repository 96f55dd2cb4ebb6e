import { PluginError, usageError } from '../errors/plugin-error.js';
import type { KubeFlags } from '../kube/kube-flags.js';
import { checkAllowedImage } from '../plan/debug-container.js';
import { parseDuration } from '../plan/duration.js';
import { noNodeProfile } from '../plan/node-debug-pod.js';
import { parseRunAsText, type PodSecurityLevel, type Preset, type RunAs } from '../presets/preset.js';
import { resolveSessionStreams, type SessionFlags, type SessionStreams } from './session-streams.js';

/** Options of `kubectl ephemeral <preset> POD`, as parsed by the CLI layer. */
export interface DebugOptions extends SessionFlags {
  preset: string;
  /** POD, pod/NAME or a workload reference (deploy/NAME, ...); absent: pick a crash-looping pod (crashloop only). */
  pod?: string;
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
  /** --copy --same-node: keep the original's node instead of letting the scheduler place the copy. */
  sameNode?: boolean;
  /** --copy --share-processes: the copy's containers share one process namespace. */
  shareProcesses?: boolean;
  /** --new: add a container even when a running one of the same user, preset and image could be reused. */
  new?: boolean;
  reason?: string;
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
  /** What the container gets (stdin, tty) and the warning to print when -t cannot be honoured. */
  streams: SessionStreams;
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

/** Checks flags against the preset before any request (kubectl's Validate step); `target` says whether POD was node/NAME. */
export function validateDebugOptions(opts: DebugOptions, preset: Preset, target: 'pod' | 'node' = 'pod', stdinIsTerminal = true): ValidatedDebug {
  if (target === 'pod' && !preset.pods) throw usageError(`preset "${preset.name}" debugs nodes only (${preset.source}); pass node/NAME`);
  if (target === 'node') {
    if (!preset.node) throw noNodeProfile(preset);
    if (opts.container) throw usageError('-c/--container picks a container of a pod; a node session has none to target: drop -c');
    if (opts.copy) throw usageError('--copy copies a pod; drop it for node/NAME');
    if (!opts.attach)
      throw usageError('--no-attach does not apply to node/NAME: the node debug pod lives as long as its session; attach, or run a command after --');
  }
  if (opts.output && !opts.dryRun) throw usageError('-o/--output applies to --dry-run only; add --dry-run or drop -o');
  if (!preset.copy) {
    const copyFlag = opts.copy ? 'copy' : opts.keep ? 'keep' : opts.keepalive !== 'sleep infinity' ? 'keepalive' : opts.sameNode ? 'same-node' : opts.shareProcesses ? 'share-processes' : undefined;
    if (copyFlag) throw usageError(`--${copyFlag} is for crashloop only (preset "${preset.name}" has no copy mode); use kubectl ephemeral crashloop ${opts.pod} --copy`);
  }
  if ((opts.keep || opts.keepalive !== 'sleep infinity') && !opts.copy) throw usageError('--keep and --keepalive apply to --copy only');
  if ((opts.sameNode || opts.shareProcesses) && !opts.copy) throw usageError(`--${opts.sameNode ? 'same-node' : 'share-processes'} applies to --copy only; add --copy, or use a preset that targets the container's processes`);
  if (opts.new && opts.copy) throw usageError('--new and --copy conflict: a copy always gets a new debug container; drop --new');
  if (opts.pod === undefined && !preset.crashSummary) throw usageError(`preset "${preset.name}" needs a POD; only crashloop picks a crash-looping pod when none is named`);
  checkReason(preset, opts.reason);
  if (opts.privileged && opts.runAs) throw usageError('--privileged and --run-as conflict; --privileged already runs as root');
  checkAllowedImage(preset, opts.image ?? preset.image);
  const keepalive = opts.keepalive.trim().split(/\s+/).filter(Boolean);
  if (keepalive.length === 0) throw usageError('--keepalive needs a command, such as "sleep infinity"');
  const streams = resolveSessionStreams(opts, stdinIsTerminal, opts.attach);
  return { preset, timeoutMs: parseDuration(opts.timeout, '--timeout'), runAs: opts.runAs ? parseRunAs(opts.runAs) : undefined, keepalive, streams };
}
