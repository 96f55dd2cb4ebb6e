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
import { COPY_KEEP_DEFAULTS, type CopyKeeps, type PodCopyRequest } from '../plan/pod-copy.js';
import { presetForm, type DebugProfile, type IMAGE_PULL_POLICIES, type PodSecurityLevel, type Preset } from '../presets/preset.js';
import { readCustomSpec } from './custom-spec.js';
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
  /** --target: the container whose processes the debug container shares (kubectl's --target). */
  target?: string;
  /** --env NAME=VALUE, as typed (each may hold several pairs separated by commas, as kubectl's). */
  env?: string[];
  imagePullPolicy?: (typeof IMAGE_PULL_POLICIES)[number];
  /** --custom FILE: a partial container spec (JSON or YAML). */
  custom?: string;
  /** --profile: kubectl debug's profile name, mapped onto the preset's forms. */
  profile?: DebugProfile;
  /** --arguments-only: the words after -- are args, the preset's command stays. */
  argumentsOnly?: boolean;
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
  /** --copy-to NAME: a copy with this name (implies --copy). */
  copyTo?: string;
  /** --set-image NAME=IMAGE, as typed (pairs may be separated by commas). */
  setImage?: string[];
  /** --replace: delete the original once the copy exists. */
  replace?: boolean;
  /** --keep-labels ... --keep-init-containers. */
  keepFields?: CopyKeeps;
  /** --new: add a container even when a running one of the same user, preset and image could be reused. */
  new?: boolean;
  reason?: string;
  /** --level: build the preset's form for this Pod Security level instead of choosing one. */
  level?: PodSecurityLevel;
  kube: KubeFlags;
}

/** The debug container as asked for; the target pod adds the rest (its level's form, the target's user, the creator). */
export type ContainerAsked = Omit<ContainerRequest, 'preset' | 'form' | 'level' | 'stamp'>;

/** What a copy (crashloop --copy or --copy-to) is made with; absent without one. */
export interface CopyAsked extends Omit<PodCopyRequest, 'container' | 'keep'> {
  keep: CopyKeeps;
  /** --keep (or --replace): the copy stays after the session. */
  keepPod: boolean;
  /** --replace: the original is deleted once the copy exists. */
  replace: boolean;
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
export async function buildDebugRequest(opts: DebugOptions, preset: Preset, stdinIsTerminal = true): Promise<DebugRequest> {
  return validateRequest(await completeRequest(opts, preset, stdinIsTerminal));
}

/**
 * kubectl's Complete: the flags checked against each other and against where they apply (pod,
 * copy, node), parsed (the --custom file read), and put together into the request.
 */
export async function completeRequest(opts: DebugOptions, preset: Preset, stdinIsTerminal = true): Promise<DebugRequest> {
  const node = nodeRefName(opts.pod);
  checkFlagPlaces(opts, preset, node);
  const streams = resolveSessionStreams(opts, stdinIsTerminal, opts.attach);
  const keepalive = opts.keepalive.trim().split(/\s+/).filter(Boolean);
  if (keepalive.length === 0) throw usageError('--keepalive needs a command, such as "sleep infinity"');
  const profile = profileForm(opts, preset, node !== undefined);
  const custom = opts.custom !== undefined ? await readCustomSpec(opts.custom) : undefined;
  const target = targetOf(opts);
  const container: ContainerAsked = {
    ...(target !== undefined ? { container: target } : {}),
    ...(opts.target !== undefined ? { targetProcesses: true } : {}),
    ...(opts.image !== undefined ? { image: opts.image } : {}),
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    command: opts.command,
    ...(opts.argumentsOnly ? { argumentsOnly: true } : {}),
    privileged: opts.privileged || profile.privileged === true,
    ...(opts.runAs ? { runAs: parseRunAs(opts.runAs) } : {}),
    stdin: streams.stdin,
    tty: streams.tty,
    specs: [...containerSpecsOf(opts), ...(custom ? [custom] : [])],
  };
  const level = opts.level ? { level: opts.level, flag: '--level' } : profile.level;
  return {
    preset,
    ...(node !== undefined ? { node } : opts.pod !== undefined ? { pod: opts.pod } : {}),
    container,
    ...(level ? { level } : {}),
    ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
    new: opts.new === true,
    ...(opts.copy || opts.copyTo !== undefined ? { copy: copyOf(opts, keepalive) } : {}),
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

/** -c and --target name the same thing here (kubectl's -c names the debug container; ours stays the target). */
function targetOf(opts: DebugOptions): string | undefined {
  if (opts.target !== undefined && opts.container !== undefined && opts.target !== opts.container)
    throw usageError(`-c ${opts.container} and --target ${opts.target} name different containers; pass one (both pick the container to debug)`);
  return opts.target ?? opts.container;
}

/** The copy's part of the request, with kubectl debug's --keep-* defaults. */
function copyOf(opts: DebugOptions, keepalive: string[]): CopyAsked {
  const setImages = opts.setImage?.length ? parsePairs(opts.setImage, '--set-image', 'NAME=IMAGE') : undefined;
  return {
    keepalive,
    sameNode: opts.sameNode === true,
    ...(opts.shareProcesses ? { shareProcesses: true } : {}),
    ...(opts.copyTo !== undefined ? { name: opts.copyTo } : {}),
    ...(setImages ? { setImages: Object.fromEntries(setImages.map((p) => [p.name, p.value])) } : {}),
    keep: { ...COPY_KEEP_DEFAULTS, ...opts.keepFields },
    // The original is gone with --replace: the copy is all there is, so it stays.
    keepPod: opts.keep || opts.replace === true,
    replace: opts.replace === true,
  };
}

/**
 * kubectl debug's --profile as the preset form it maps to: general and legacy are the preset's own
 * choice, baseline and restricted that level's form (as --level), sysadmin --privileged, netadmin
 * the preset's own form where it adds NET_ADMIN; anything else is refused naming what to use instead.
 */
function profileForm(opts: DebugOptions, preset: Preset, node: boolean): { level?: { level: PodSecurityLevel; flag: string }; privileged?: boolean } {
  const profile = opts.profile;
  if (profile === undefined || profile === 'general' || profile === 'legacy') return {};
  if (profile === 'baseline' || profile === 'restricted') {
    if (node) throw usageError(`--profile ${profile} does not apply to node/NAME: a node session shares the host's namespaces, which only Pod Security "privileged" admits; drop --profile`);
    if (opts.level && opts.level !== profile) throw usageError(`--profile ${profile} and --level ${opts.level} ask for different forms; pass one`);
    return { level: { level: profile, flag: '--profile' } };
  }
  if (profile === 'sysadmin') {
    if (opts.runAs) throw usageError('--profile sysadmin and --run-as conflict; sysadmin (--privileged) already runs as root');
    return { privileged: true };
  }
  if (presetForm(preset, 'privileged').capabilities.includes('NET_ADMIN')) return {};
  throw usageError(`--profile netadmin: preset "${preset.name}" does not add NET_ADMIN; use the network preset (kubectl ephemeral network ${opts.pod ?? 'POD'}), whose own form adds NET_ADMIN and NET_RAW`);
}

/** What the container flags amount to, as partial container specs merged over the preset's container in this order. */
function containerSpecsOf(opts: DebugOptions): PartialContainer[] {
  const specs: PartialContainer[] = [];
  if (opts.env?.length) specs.push({ env: parsePairs(opts.env, '--env', 'NAME=VALUE') });
  if (opts.imagePullPolicy) specs.push({ imagePullPolicy: opts.imagePullPolicy });
  return specs;
}

/** kubectl's string-to-string flags (--env, --set-image): NAME=VALUE pairs, comma-separated or repeated; a later NAME wins. */
function parsePairs(words: string[], flag: string, shape: string): Array<{ name: string; value: string }> {
  const pairs = new Map<string, string>();
  for (const pair of words.flatMap((w) => w.split(','))) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError(`invalid ${flag} "${pair}"; use ${shape} (repeat ${flag} for more, or separate pairs with commas)`);
    pairs.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return [...pairs].map(([name, value]) => ({ name, value }));
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
    if (opts.target) throw usageError('--target picks a container of a pod; a node session has none to target: drop --target');
    if (opts.copy || opts.copyTo !== undefined) throw usageError(`--${opts.copy ? 'copy' : 'copy-to'} copies a pod; drop it for node/NAME`);
    if (!opts.attach) throw usageError('--no-attach does not apply to node/NAME: the node debug pod lives as long as its session; attach, or run a command after --');
    if (!node) throw new PluginError('usage', 'node/ needs a node name: node/NAME (list them with kubectl get nodes)');
  }
  if (opts.output && !opts.dryRun) throw usageError('-o/--output applies to --dry-run only; add --dry-run or drop -o');
  const copy = opts.copy || opts.copyTo !== undefined;
  const given = copy ? (opts.copy ? 'copy' : 'copy-to') : opts.keep ? 'keep' : opts.keepalive !== 'sleep infinity' ? 'keepalive' : copyFlagGiven(opts);
  if (!preset.copy && given) throw usageError(`--${given} is for crashloop only (preset "${preset.name}" has no copy mode); use kubectl ephemeral crashloop ${opts.pod} --copy`);
  if ((opts.keep || opts.keepalive !== 'sleep infinity') && !copy) throw usageError('--keep and --keepalive apply to --copy only');
  const copyOnly = copyFlagGiven(opts);
  if (copyOnly && !copy) throw usageError(`--${copyOnly} applies to --copy only; add --copy${copyOnly === 'same-node' || copyOnly === 'share-processes' ? ", or use a preset that targets the container's processes" : ''}`);
  if (opts.new && copy) throw usageError('--new and --copy conflict: a copy always gets a new debug container; drop --new');
  // kubectl's own rule: in a copy, processes are shared by --share-processes instead.
  if (opts.target !== undefined && copy) throw usageError("--target is incompatible with --copy; the copy's debug container already shares the processes of the container it debugs (-c)");
  if (opts.pod === undefined && !preset.crashSummary) throw usageError(`preset "${preset.name}" needs a POD; only crashloop picks a crash-looping pod when none is named`);
}

/** The first copy-only flag given (besides --copy, --copy-to, --keep and --keepalive), by its name. */
function copyFlagGiven(opts: DebugOptions): string | undefined {
  const k = opts.keepFields;
  const given: Array<[string, boolean | undefined]> = [
    ['same-node', opts.sameNode],
    ['share-processes', opts.shareProcesses],
    ['set-image', (opts.setImage?.length ?? 0) > 0],
    ['replace', opts.replace],
    ['keep-labels', k?.labels],
    ['keep-annotations', k?.annotations],
    ['keep-liveness', k?.liveness],
    ['keep-readiness', k?.readiness],
    ['keep-startup', k?.startup],
    ['keep-init-containers=false', k !== undefined && !k.initContainers],
  ];
  return given.find(([, on]) => on)?.[0];
}

/** The debug container's whole request against one pod: the asked-for container, the preset, and who creates it. */
export function containerRequestFor(req: DebugRequest, target: string | undefined, user: string | undefined): ContainerRequest {
  const { container: _asked, ...asked } = req.container;
  return { ...asked, preset: req.preset, ...(target !== undefined ? { container: target } : {}), stamp: { user, reason: req.reason } };
}
