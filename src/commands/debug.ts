import type { V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import { ContainerExit, PluginError, usageError } from '../errors/plugin-error.js';
import type { KubeFlags } from '../kube/kube-flags.js';
import { containerState, describeState, ephemeralState, FATAL_WAITING_REASONS, lastTermination, type ContainerState } from '../plan/container-state.js';
import { buildEphemeralContainer, checkAllowedImage, ephemeralContainerPatch, type DebugRequest } from '../plan/debug-container.js';
import { parseDuration } from '../plan/duration.js';
import { buildPodCopy } from '../plan/pod-copy.js';
import { enforcedLevel, evaluatePodSecurity, type PodSecurityLevel } from '../plan/pod-security.js';
import type { Preset, RunAs } from '../presets/preset.js';
import { rulesAllow } from '../plan/access-rules.js';
import { appendAuditEntry, AUDIT_ANNOTATION, type AuditEntry } from '../plan/audit-trail.js';
import { attachCommand, attachDebugContainer } from '../session/attach-debug-container.js';
import { render } from '../output/render.js';
import type { CommandContext, Connection } from './context.js';

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
  kube: KubeFlags;
}

/** Validated options: everything that can be checked before talking to the cluster. */
interface Validated {
  preset: Preset;
  timeoutMs: number;
  runAs?: RunAs;
  keepalive: string[];
}

/** Parses --run-as: root, a uid, or uid:gid. */
export function parseRunAs(text: string): RunAs {
  if (text === 'root') return { kind: 'root' };
  if (text === 'target') return { kind: 'target' };
  const m = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!m) throw usageError(`invalid --run-as "${text}"; use root, target, a uid or uid:gid`);
  return { kind: 'uid', uid: Number(m[1]), ...(m[2] ? { gid: Number(m[2]) } : {}) };
}

/** Checks flags against the preset before any request. */
export function validateDebugOptions(opts: DebugOptions, preset: Preset): Validated {
  if (opts.output && !opts.dryRun) throw usageError('-o/--output applies to --dry-run only; add --dry-run or drop -o');
  if (opts.copy && !preset.copy) throw usageError(`preset "${preset.name}" has no --copy mode; use crashloop --copy`);
  if ((opts.keep || opts.keepalive !== 'sleep infinity') && !opts.copy) throw usageError('--keep and --keepalive apply to --copy only');
  if (preset.requireReason && !opts.reason?.trim())
    throw new PluginError('config', `preset "${preset.name}" requires --reason "..." (${preset.source}); say why you are debugging this pod`);
  if (opts.privileged && opts.runAs) throw usageError('--privileged and --run-as conflict; --privileged already runs as root');
  checkAllowedImage(preset, opts.image ?? preset.image);
  const keepalive = opts.keepalive.trim().split(/\s+/).filter(Boolean);
  if (keepalive.length === 0) throw usageError('--keepalive needs a command, such as "sleep infinity"');
  return { preset, timeoutMs: parseDuration(opts.timeout), runAs: opts.runAs ? parseRunAs(opts.runAs) : undefined, keepalive };
}

/** `kubectl ephemeral <preset> POD`: preflight, add the container, wait for it, attach. Resolves with the exit code. */
export async function runDebug(ctx: CommandContext, opts: DebugOptions): Promise<number> {
  const registry = await ctx.presets();
  const v = validateDebugOptions(opts, registry.get(opts.preset));
  const conn = await ctx.connect(opts.kube);
  try {
    return await debugWith(ctx, conn, opts, v);
  } finally {
    conn.close();
  }
}

async function debugWith(ctx: CommandContext, conn: Connection, opts: DebugOptions, v: Validated): Promise<number> {
  const { api } = conn;
  const ns = conn.target.namespace;
  const { printer } = ctx;
  const clientDryRun = opts.dryRun === 'client';
  // The pod and every preflight answer are fetched at once: preflight adds no round trip.
  // A client dry run skips preflight but still asks who the user is: the creator stamp is part of
  // the container it prints, which must be exactly the one a real run sends.
  const [pod, preflight, dryRunUser] = await Promise.all([
    api.getPod(ns, opts.pod),
    clientDryRun ? undefined : runPreflight(conn, opts),
    clientDryRun ? api.whoAmI() : undefined,
  ]);
  const req: DebugRequest = {
    preset: v.preset,
    container: opts.container,
    image: opts.image,
    name: opts.name,
    command: opts.command,
    privileged: opts.privileged,
    runAs: v.runAs,
    stamp: { user: preflight?.user ?? dryRunUser, reason: opts.reason },
  };
  let plan = buildEphemeralContainer(pod, req, ctx.suffix());
  if (preflight) checkPreflight(preflight, opts, ns);
  plan.notices.forEach((n) => printer.info(`note: ${n}`));

  if (v.preset.crashSummary && !opts.dryRun) await printCrashSummary(ctx, conn, pod, plan.target);
  const target = containerState(pod, plan.target);
  if (v.preset.targetProcesses && target.phase !== 'running' && !opts.copy) {
    const problem = `container "${plan.target}" of pod "${opts.pod}" is ${describeState(target)}: the runtime needs it running to share its processes; use "kubectl ephemeral crashloop ${opts.pod} --copy", or the shell preset`;
    if (!opts.dryRun) throw new PluginError('usage', problem);
    printer.info(`warning: ${problem}`);
  }
  if (opts.copy) return debugCopy(ctx, conn, pod, opts, v, plan.target, preflight);
  if (preflight) checkPodSecurity(pod, plan.container, preflight.level, ns, opts.pod);

  if (opts.dryRun) {
    let sent = plan.container;
    if (opts.dryRun === 'server') {
      const answer = await api.addEphemeralContainer(ns, opts.pod, plan.container, true);
      sent = answer.spec?.ephemeralContainers?.find((c) => c.name === plan.container.name) ?? sent;
    }
    printer.out(await render(ephemeralContainerPatch(sent), opts.output ?? 'yaml'));
    return 0;
  }

  // Name clashes (another user picked the same random name) are retried with a new suffix.
  let updated: V1Pod | undefined;
  for (let attempt = 0; !updated; attempt++) {
    try {
      updated = await api.addEphemeralContainer(ns, opts.pod, plan.container);
    } catch (err) {
      const duplicate = err instanceof PluginError && /Duplicate value/i.test(err.message);
      if (!duplicate || opts.name || attempt >= 4) throw err;
      plan = buildEphemeralContainer(pod, req, ctx.suffix());
    }
  }
  const name = plan.container.name;
  printer.info(`added ephemeral container "${name}" (${v.preset.name}, ${plan.container.image}) to pod "${opts.pod}" in namespace "${ns}"`);
  const entry = auditEntry(ctx, plan.container, v.preset, preflight?.user, opts.reason);
  // The audit entry is written while the container starts: it costs no wall-clock time.
  const [state] = await Promise.all([
    waitForDebugContainer(ctx, conn, opts.pod, name, plan.container.image!, updated.metadata?.resourceVersion, v.timeoutMs),
    recordAudit(ctx, conn, opts.pod, entry, preflight, updated),
  ]);
  return enterSession(ctx, conn, opts, v.preset, opts.pod, plan.container, state, preflight?.user);
}

/** The audit trail entry for a debug container this run adds. */
function auditEntry(ctx: CommandContext, container: V1EphemeralContainer, preset: Preset, user: string | undefined, reason: string | undefined): AuditEntry {
  return { container: container.name, preset: preset.name, image: container.image ?? '', user: user ?? '', time: new Date(ctx.now()).toISOString(), ...(reason ? { reason } : {}) };
}

/** Appends the session to the pod's audit annotation; a user without `patch pods` gets a notice instead. */
async function recordAudit(ctx: CommandContext, conn: Connection, pod: string, entry: AuditEntry, preflight: Preflight | undefined, known?: V1Pod): Promise<void> {
  if (preflight?.allowed.get('patch pods') === false) {
    ctx.printer.info(`note: audit annotation ${AUDIT_ANNOTATION} not written (no "patch pods" permission); the container env still records preset, user and reason`);
    return;
  }
  await conn.api.updateAnnotation(conn.target.namespace, pod, AUDIT_ANNOTATION, (current) => appendAuditEntry(current, entry), known);
}

interface Preflight {
  serverVersion: { major: number; minor: number; gitVersion: string };
  /** "verb resource" → allowed, for every permission this run needs. */
  allowed: Map<string, boolean>;
  level: PodSecurityLevel;
  user?: string;
}

/** The permissions a run needs, as [verb, resource] pairs; the audit annotation's is optional. */
function neededPermissions(opts: DebugOptions): Array<[string, string]> {
  const needs: Array<[string, string]> = [['patch', 'pods/ephemeralcontainers'], ['patch', 'pods']];
  if (opts.attach && !opts.dryRun) needs.push(['create', 'pods/attach']);
  if (opts.copy) needs.push(['create', 'pods'], ['delete', 'pods']);
  return needs;
}

/** Version, permissions (one SelfSubjectRulesReview), Pod Security level and identity, all at once. */
async function runPreflight(conn: Connection, opts: DebugOptions): Promise<Preflight> {
  const { api } = conn;
  const ns = conn.target.namespace;
  const [serverVersion, rules, namespace, user] = await Promise.all([api.serverVersion(), api.rules(ns), api.getNamespace(ns), api.whoAmI()]);
  const allowed = new Map<string, boolean>();
  for (const [verb, resource] of neededPermissions(opts)) {
    let ok = rulesAllow(rules.rules, verb, resource);
    // Some authorizers (webhooks) cannot list rules: ask about that one permission directly.
    if (!ok && rules.incomplete) {
      const [res, sub] = resource.split('/');
      ok = (await api.canI(ns, verb, res!, sub)).allowed;
    }
    allowed.set(`${verb} ${resource}`, ok);
  }
  return { serverVersion, allowed, level: enforcedLevel(namespace?.metadata?.labels), user };
}

function checkPreflight(p: Preflight, opts: DebugOptions, ns: string): void {
  const { major, minor, gitVersion } = p.serverVersion;
  if (major === 1 && minor < 23)
    throw new PluginError(
      'cluster-too-old',
      `the cluster runs ${gitVersion}: ephemeral containers are off before 1.23 (1.16-1.21 also used the legacy EphemeralContainers kind); upgrade, or use kubectl debug --copy-to`,
    );
  const who = p.user ? `user "${p.user}"` : 'this identity';
  const denied = (perm: string) => p.allowed.get(perm) === false;
  if (denied('create pods') || denied('delete pods'))
    throw new PluginError('forbidden', `${who} cannot create and delete pods in namespace "${ns}" (needed by --copy); ask for "create, delete pods" or debug without --copy`);
  if (denied('patch pods/ephemeralcontainers'))
    throw new PluginError('forbidden', `${who} cannot patch pods/ephemeralcontainers in namespace "${ns}"; ask for the kubectl-ephemeral RBAC rules (README: permissions)`);
  if (denied('create pods/attach'))
    throw new PluginError('forbidden', `${who} cannot create pods/attach in namespace "${ns}"; ask for it, or pass --no-attach`);
}

/** Refuses what Pod Security admission would refuse, naming the policy and the field, before sending. */
function checkPodSecurity(pod: V1Pod, container: V1EphemeralContainer | undefined, level: PodSecurityLevel, ns: string, podName: string): void {
  const violations = evaluatePodSecurity(pod, container, level);
  if (violations.length === 0) return;
  const earlier = violations.filter((x) => !x.isNew && x.container && pod.spec?.ephemeralContainers?.some((e) => e.name === x.container));
  if (earlier.length) {
    const names = [...new Set(earlier.map((x) => x.container))].join(', ');
    throw new PluginError(
      'policy-rejected',
      `pod "${podName}" already holds ephemeral container ${names} that violates Pod Security "${level}" of namespace "${ns}" (${earlier[0]!.message}, ${earlier[0]!.field}); Pod Security checks the whole pod, so every new debug container is rejected until the pod is replaced; debug a new replica or a copy (crashloop --copy)`,
    );
  }
  const mine = violations.filter((x) => x.isNew);
  const first = mine[0] ?? violations[0]!;
  throw new PluginError(
    'policy-rejected',
    `namespace "${ns}" enforces Pod Security "${level}": ${mine.length ? 'the debug container' : `pod "${podName}"`} violates ${first.check} (${first.field}: ${first.message}); use a preset this level allows (shell, forensics${level === 'restricted' ? '' : ', process'}) or debug in a namespace with a laxer level`,
  );
}

/** Watches until the container runs; image and config errors end the wait at once. */
async function waitForDebugContainer(ctx: CommandContext, conn: Connection, pod: string, name: string, image: string, rv: string | undefined, timeoutMs: number): Promise<ContainerState> {
  const ns = conn.target.namespace;
  let lastReason = '';
  const state = await conn.api.watchPod(ns, pod, rv, ctx.now() + timeoutMs, (p) => {
    if (ctx.signal.aborted) throw new PluginError('cancelled', `cancelled while waiting for container "${name}" of pod "${pod}"`);
    const s = ephemeralState(p, name);
    if (s.phase === 'waiting') {
      if (FATAL_WAITING_REASONS.has(s.reason)) return s;
      if (s.reason !== lastReason) ctx.printer.info(`waiting for container "${name}": ${s.reason}${s.message ? `: ${s.message}` : ''}`);
      lastReason = s.reason;
      return undefined;
    }
    return s.phase === 'absent' ? undefined : s;
  });
  if (!state)
    throw new PluginError(
      'timeout',
      `container "${name}" of pod "${pod}" did not start within --timeout (last state: ${lastReason || 'no status yet'}); check the node with kubectl describe pod ${pod} -n ${ns}, or raise --timeout`,
    );
  if (state.phase === 'waiting') {
    throw new PluginError('image-pull', `container "${name}" cannot start: ${state.reason} for image "${image}": ${state.message || 'no message from the kubelet'}; check the image name and pull access, or pass --image`);
  }
  return state;
}

/** Prints the crash summary a user would otherwise chase by hand: last state, previous logs, events. */
async function printCrashSummary(ctx: CommandContext, conn: Connection, pod: V1Pod, container: string): Promise<void> {
  const ns = conn.target.namespace;
  const name = pod.metadata!.name!;
  const { printer } = ctx;
  // The summary is a courtesy: logs the API server cannot fetch (kubelet unreachable, previous
  // instance gone, no pods/log permission) or events it will not list must not end the session.
  const unavailable = (what: string) => (err: unknown) => {
    printer.debug(`${what} unavailable: ${(err as Error).message}`);
    return undefined;
  };
  // A container that is terminated now (the kubelet has not restarted it yet) crashed in its current
  // instance; --previous would name the one before, which the kubelet has already removed.
  const previous = containerState(pod, container).phase !== 'terminated';
  const [logs, events] = await Promise.all([
    conn.api.logs(ns, name, container, { previous, tailLines: 20 }).catch(unavailable('previous logs')),
    conn.api.podEvents(ns, name).catch(unavailable('events')),
  ]);
  const last = lastTermination(pod, container);
  printer.info(`== container "${container}" of pod "${name}"`);
  printer.info(
    last
      ? `last exit: code ${last.exitCode}, reason ${last.reason || 'unknown'}${last.finishedAt ? `, at ${last.finishedAt}` : ''}, ${last.restarts} restart(s); now ${describeState(containerState(pod, container))}`
      : `no termination recorded; now ${describeState(containerState(pod, container))}`,
  );
  printer.info(`== previous logs (last 20 lines)`);
  printer.info(logs?.trimEnd() || (logs === undefined ? '(none: the API server could not fetch them; -v shows why)' : '(none)'));
  printer.info(`== recent events`);
  const recent = (events ?? []).slice(-10);
  printer.info(recent.length ? recent.map((e) => `${e.type ?? ''} ${e.reason ?? ''}: ${e.message ?? ''}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`).join('\n') : '(none)');
}

/** crashloop --copy: a copy of the pod with the crashing command replaced, debugged, then deleted. */
async function debugCopy(ctx: CommandContext, conn: Connection, pod: V1Pod, opts: DebugOptions, v: Validated, target: string, preflight: Preflight | undefined): Promise<number> {
  const ns = conn.target.namespace;
  const { printer } = ctx;
  const { pod: copy, notices } = buildPodCopy(pod, { container: target, keepalive: v.keepalive, sameNode: true }, ctx.suffix());
  notices.forEach((n) => printer.info(`note: ${n}`));
  const copyName = copy.metadata!.name!;
  const planFor = (p: V1Pod) =>
    buildEphemeralContainer(p, { preset: { ...v.preset, targetProcesses: true }, container: target, image: opts.image, name: opts.name, command: opts.command, privileged: opts.privileged, runAs: v.runAs, stamp: { user: preflight?.user, reason: opts.reason } }, ctx.suffix());
  if (opts.dryRun) {
    printer.out(await render(copy, opts.output ?? 'yaml'));
    return 0;
  }
  checkPodSecurity(copy, undefined, preflight?.level ?? 'privileged', ns, copyName);
  // One deletion, shared by the interrupt handler and the finally below: the finally must wait for
  // a deletion the handler started, or closing the connection would cut its request off.
  let removal: Promise<void> | undefined;
  const remove = (): Promise<void> => {
    if (opts.keep) return Promise.resolve();
    removal ??= conn.api.deletePod(ns, copyName).then(() => printer.info(`deleted pod copy "${copyName}"`));
    return removal;
  };
  const unregister = ctx.onInterrupt(remove);
  try {
    await conn.api.createPod(ns, copy);
    printer.info(`created pod copy "${copyName}" of "${opts.pod}" with "${target}" running: ${v.keepalive.join(' ')}`);
    const running = await conn.api.watchPod(ns, copyName, undefined, ctx.now() + v.timeoutMs, (p) => {
      if (ctx.signal.aborted) throw new PluginError('cancelled', `cancelled while waiting for pod copy "${copyName}"`);
      const s = containerState(p, target);
      if (s.phase === 'waiting' && FATAL_WAITING_REASONS.has(s.reason))
        throw new PluginError('image-pull', `container "${target}" of pod copy "${copyName}" cannot start: ${s.reason}: ${s.message}`);
      if (s.phase === 'terminated')
        throw new PluginError('usage', `container "${target}" of pod copy "${copyName}" exited (${describeState(s)}) even with --keepalive "${v.keepalive.join(' ')}"; pass a keep-alive the image has`);
      return s.phase === 'running' ? p : undefined;
    });
    if (!running) throw new PluginError('timeout', `pod copy "${copyName}" did not start within --timeout; check kubectl describe pod ${copyName} -n ${ns}`);
    const plan = planFor(running);
    const updated = await conn.api.addEphemeralContainer(ns, copyName, plan.container);
    const entry = { ...auditEntry(ctx, plan.container, v.preset, preflight?.user, opts.reason), copy: copyName };
    const [state] = await Promise.all([
      waitForDebugContainer(ctx, conn, copyName, plan.container.name, plan.container.image!, updated.metadata?.resourceVersion, v.timeoutMs),
      recordAudit(ctx, conn, opts.pod, entry, preflight),
    ]);
    if (opts.keep) printer.info(`the copy stays (--keep): delete it with kubectl delete pod ${copyName} -n ${ns}`);
    return await enterSession(ctx, conn, opts, v.preset, copyName, plan.container, state, preflight?.user);
  } finally {
    unregister();
    // After a signal the interrupt handler reports a failed deletion; otherwise it is this run's error.
    if (ctx.signal.aborted) await remove().catch(() => undefined);
    else await remove();
  }
}

/** Attaches (or prints how to), passing the session's exit code through. */
async function enterSession(ctx: CommandContext, conn: Connection, opts: DebugOptions, preset: Preset, pod: string, container: V1EphemeralContainer, state: ContainerState, user: string | undefined): Promise<number> {
  const ns = conn.target.namespace;
  const cmd = attachCommand(ns, pod, container.name, opts.kube);
  if (!opts.attach) {
    ctx.printer.out(container.name);
    ctx.printer.info(`attach with: ${cmd}`);
    return 0;
  }
  if (state.phase === 'terminated') {
    ctx.printer.info(`container "${container.name}" already exited (${describeState(state)}); its output:`);
    ctx.printer.out(await conn.api.logs(ns, pod, container.name));
    if (state.exitCode !== 0) throw new ContainerExit(state.exitCode);
    return 0;
  }
  if (preset.banner.length) ctx.printer.info(`${preset.name}: try\n${preset.banner.map((l) => `  ${l}`).join('\n')}`);
  ctx.printer.info(`attaching to "${container.name}" (exit the shell to end; re-attach with: ${cmd})`);
  const record = opts.record ?? preset.record;
  const code = await attachDebugContainer(ctx, conn, opts.kube, { pod, container: container.name, preset: preset.name, image: container.image, user, record });
  if (code !== 0) throw new ContainerExit(code);
  return 0;
}

