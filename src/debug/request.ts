// kubectl debug's Options -> Complete -> Validate, for every preset command: the parsed flags
// (DebugOptions) become one DebugRequest, which pod sessions, copies and node sessions consume and
// `--dry-run` prints the result of. A container-shaping flag is an option in cli/debug.command.ts,
// a line in containerSpecsOf below (a partial container spec, merged by plan/container-merge.ts)
// and a row in test/unit/debug/request.test.ts: nothing downstream changes.
import type { KubeFlags } from '../kube/kube-flags.js';
import { PluginError, usageError } from '../errors/plugin-error.js';
import type { PartialContainer } from '../plan/container-merge.js';
import { checkAllowedImage, type ContainerRequest } from '../plan/debug-container.js';
import { parseDuration } from '../input/duration.js';
import { noNodeProfile, nodeRefName } from '../plan/node-debug-pod.js';
import type { PodCopyRequest } from '../plan/pod-copy.js';
import type { PodSecurityLevel, Preset } from '../presets/preset.js';
import { checkReason, parseRunAs } from './options.js';
import { resolveSessionStreams, type SessionFlags } from './session-streams.js';

/** Options of `kubectl ephemeral <preset> POD`, as parsed by the CLI layer (kubectl's DebugOptions before Complete). */
export interface DebugOptions extends SessionFlags {
  preset: string;
  /** POD, pod/NAME, a workload reference (deploy/NAME, ...) or node/NAME; absent: pick a crash-looping pod (crashloop only). */
  pod?: string;
  container?: string;
  image?: string;
  name?: string;
  /** --env NAME=VALUE, as typed (each may hold several pairs separated by commas, as kubectl's). */
  env?: string[];
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

/** The debug container as asked for; the target pod adds the rest (its level's form, the target's user, the creator). */
export type ContainerAsked = Omit<ContainerRequest, 'preset' | 'form' | 'level' | 'stamp'>;

/** What a copy (crashloop --copy) is made with; absent without --copy. */
export interface CopyAsked extends Omit<PodCopyRequest, 'container'> {
  /** --keep: the copy stays after the session. */
  keep: boolean;
}

/** The session's side: how it attaches and what it records. */
export interface SessionAsked {
  attach: boolean;
  detachKeys: string;
  record?: boolean | string;
  recordInput: boolean;
  quiet: boolean;
  /** A line to print before attaching, when -t cannot be honoured as given. */
  warning?: string;
}

/** One debug request, built once from the flags (Complete) and checked (Validate) before any API call. */
export interface DebugRequest {
  preset: Preset;
  /** POD as typed (NAME, pod/NAME, deploy/NAME ...); absent: crashloop picks a failing pod. Unset for a node session. */
  pod?: string;
  /** node/NAME: a node session on this node. */
  node?: string;
  container: ContainerAsked;
  /** A forced form (--level): that level's form only, and the flag the user typed for it. */
  level?: { level: PodSecurityLevel; flag: string };
  reason?: string;
  /** --new: never reuse a running debug container. */
  new: boolean;
  copy?: CopyAsked;
  dryRun?: 'client' | 'server';
  output?: 'json' | 'yaml';
  timeoutMs: number;
  session: SessionAsked;
  kube: KubeFlags;
}

/** Complete, then Validate: the request a run of a preset command acts on. */
export function buildDebugRequest(opts: DebugOptions, preset: Preset, stdinIsTerminal = true): DebugRequest {
  return validateRequest(completeRequest(opts, preset, stdinIsTerminal));
}

/**
 * kubectl's Complete: the flags checked against each other and against where they apply (pod,
 * copy, node), parsed, and put together into the request.
 */
export function completeRequest(opts: DebugOptions, preset: Preset, stdinIsTerminal = true): DebugRequest {
  const node = nodeRefName(opts.pod);
  checkFlagPlaces(opts, preset, node);
  const streams = resolveSessionStreams(opts, stdinIsTerminal, opts.attach);
  const keepalive = opts.keepalive.trim().split(/\s+/).filter(Boolean);
  if (keepalive.length === 0) throw usageError('--keepalive needs a command, such as "sleep infinity"');
  const container: ContainerAsked = {
    ...(opts.container !== undefined ? { container: opts.container } : {}),
    ...(opts.image !== undefined ? { image: opts.image } : {}),
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    command: opts.command,
    privileged: opts.privileged,
    ...(opts.runAs ? { runAs: parseRunAs(opts.runAs) } : {}),
    stdin: streams.stdin,
    tty: streams.tty,
    specs: containerSpecsOf(opts),
  };
  return {
    preset,
    ...(node !== undefined ? { node } : opts.pod !== undefined ? { pod: opts.pod } : {}),
    container,
    ...(opts.level ? { level: { level: opts.level, flag: '--level' } } : {}),
    ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
    new: opts.new === true,
    ...(opts.copy ? { copy: { keepalive, keep: opts.keep, sameNode: opts.sameNode === true, ...(opts.shareProcesses ? { shareProcesses: true } : {}) } } : {}),
    ...(opts.dryRun ? { dryRun: opts.dryRun } : {}),
    ...(opts.output ? { output: opts.output } : {}),
    timeoutMs: parseDuration(opts.timeout, '--timeout'),
    session: {
      attach: opts.attach,
      detachKeys: opts.detachKeys,
      ...(opts.record !== undefined ? { record: opts.record } : {}),
      recordInput: opts.recordInput,
      quiet: opts.quiet,
      ...(streams.warning ? { warning: streams.warning } : {}),
    },
    kube: opts.kube,
  };
}

/** What the container flags amount to, as partial container specs merged over the preset's container in this order. */
function containerSpecsOf(opts: DebugOptions): PartialContainer[] {
  const specs: PartialContainer[] = [];
  if (opts.env?.length) specs.push({ env: parseEnv(opts.env) });
  return specs;
}

/** kubectl debug's --env (a string-to-string flag): NAME=VALUE pairs, comma-separated or repeated; a later NAME wins. */
function parseEnv(words: string[]): Array<{ name: string; value: string }> {
  const env = new Map<string, string>();
  for (const pair of words.flatMap((w) => w.split(','))) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError(`invalid --env "${pair}"; use NAME=VALUE (repeat --env for more, or separate pairs with commas)`);
    env.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return [...env].map(([name, value]) => ({ name, value }));
}

/**
 * kubectl's Validate: the checks on the request as a whole that can fail on local input, before
 * anything is sent (an ephemeral container can never be removed). The one place to add such a check.
 */
export function validateRequest(req: DebugRequest): DebugRequest {
  const { preset, container } = req;
  checkReason(preset, req.reason);
  if (container.privileged && container.runAs) throw usageError('--privileged and --run-as conflict; --privileged already runs as root');
  checkAllowedImage(preset, container.image ?? preset.image);
  return req;
}

/** Flags that apply to a pod, a copy or a node only, and the POD a preset needs: checked before anything is parsed. */
function checkFlagPlaces(opts: DebugOptions, preset: Preset, node: string | undefined): void {
  if (node === undefined && !preset.pods) throw usageError(`preset "${preset.name}" debugs nodes only (${preset.source}); pass node/NAME`);
  if (node !== undefined) {
    if (!preset.node) throw noNodeProfile(preset);
    if (opts.container) throw usageError('-c/--container picks a container of a pod; a node session has none to target: drop -c');
    if (opts.copy) throw usageError('--copy copies a pod; drop it for node/NAME');
    if (!opts.attach) throw usageError('--no-attach does not apply to node/NAME: the node debug pod lives as long as its session; attach, or run a command after --');
    if (!node) throw new PluginError('usage', 'node/ needs a node name: node/NAME (list them with kubectl get nodes)');
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
}

/** The debug container's whole request against one pod: the asked-for container, the preset, and who creates it. */
export function containerRequestFor(req: DebugRequest, target: string | undefined, user: string | undefined): ContainerRequest {
  const { container: _asked, ...asked } = req.container;
  return { ...asked, preset: req.preset, ...(target !== undefined ? { container: target } : {}), stamp: { user, reason: req.reason } };
}
