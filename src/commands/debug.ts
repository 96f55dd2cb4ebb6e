import type { V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import type { CommandContext, Connection } from '../context.js';
import { PluginError } from '../errors/plugin-error.js';
import { containerState, describeState, ephemeralState } from '../plan/container-state.js';
import { chooseTargetContainer } from '../plan/debug-container.js';
import { failingContainers } from '../plan/failing-container.js';
import { chooseReusable } from '../plan/reuse-choice.js';
import { ephemeralContainerPatch } from '../kube/ephemeral-patch.js';
import type { ContainerRequest } from '../plan/debug-container.js';
import { planForLevel, type LevelPlan } from '../plan/level-form.js';
import { checkContainerBeforeCreate, checkFlagValues } from '../presets/validate.js';
import { enforcedLevel, type PodSecurityLevel } from '../plan/pod-security.js';
import type { Preset } from '../presets/preset.js';
import { quietPrinter } from '../output/printer.js';
import { waitProgress } from '../output/progress.js';
import { render } from '../output/render.js';
import { auditEntry, recordAudit, withTrailAnchor } from '../debug/audit.js';
import { debugCopy } from '../debug/copy-session.js';
import { printCrashSummary } from '../debug/crash-summary.js';
import { enterSession } from '../debug/enter-session.js';
import { buildDebugRequest, containerRequestFor, type DebugOptions, type DebugRequest } from '../debug/request.js';
import { EarlySession } from '../terminal/attach/early-session.js';
import type { HeadStart } from '../terminal/attach/head-start.js';
import { attachAhead, sessionShape } from '../debug/attach-ahead.js';
import { checkPodSecurity, presetLevelFix } from '../debug/pod-security-gate.js';
import { checkPreflight, runPreflight, type Preflight } from '../debug/preflight.js';
import { resolveTargetPod } from '../debug/target-pod.js';
import { requireStarted, waitForContainer } from '../debug/wait-for-container.js';
import { startingContainer } from '../debug/abandoned-container.js';

export type { DebugOptions } from '../debug/request.js';

/** `kubectl ephemeral <preset> POD`: complete and validate the request, preflight, add the container, wait for it, attach. Resolves with the exit code. */
export async function runDebug(ctx: CommandContext, opts: DebugOptions): Promise<number> {
  const registry = await ctx.presets();
  // Values the cluster would refuse or never run are refused before anything is sent.
  checkFlagValues(opts);
  const req = await buildDebugRequest(opts, registry.get(opts.preset), ctx.isTerminal.stdin);
  // A session that cannot be recorded as asked must fail before its container exists (issue 25).
  const record = req.session.record ?? req.preset.record;
  if (req.session.attach && !req.dryRun && record !== false) (await import('../terminal/recording.js')).checkRecordingTarget(record, ctx.env);
  if (req.session.quiet) ctx = { ...ctx, printer: quietPrinter(ctx.printer) };
  if (req.node !== undefined) return (await import('../debug/node-session.js')).runNodeDebug(ctx, req, req.node);
  if (req.session.warning && !req.dryRun) ctx.printer.info(req.session.warning);
  const conn = await ctx.connect(req.kube);
  try {
    return await debugWith(ctx, conn, req);
  } finally {
    conn.close();
  }
}

/** A pod session's request against its pod: everything decided before the PATCH. */
interface PodSessionPlan {
  pod: V1Pod;
  /** The pod's name (POD may have named a workload). */
  podName: string;
  preflight: Preflight | undefined;
  level: PodSecurityLevel;
  container: ContainerRequest;
  plan: LevelPlan;
}

/** The pod session (or copy, or dry run) of a request, once connected. */
export async function debugWith(ctx: CommandContext, conn: Connection, req: DebugRequest): Promise<number> {
  const suffix = ctx.suffix();
  const planned = planPodSession(ctx, conn, req, suffix);
  // The session's kubectl attach starts while the pod is read (attach-ahead.ts); it is killed unseen
  // when no session takes it.
  const ahead = attachAhead(ctx, conn, req, suffix).catch(() => undefined);
  try {
    return await sessionFor(ctx, conn, req, await planned, ahead);
  } finally {
    void ahead.then((started) => started?.discard());
  }
}

async function sessionFor(ctx: CommandContext, conn: Connection, req: DebugRequest, s: PodSessionPlan, ahead: Promise<HeadStart | undefined>): Promise<number> {
  const { printer } = ctx;
  const ns = conn.target.namespace;
  const { pod, podName, preflight, plan } = s;
  if (req.copy) return debugCopy(ctx, conn, pod, req, plan.target, preflight);

  // Ephemeral containers cannot be removed (k/k #84764): attach to the user's own running one
  // rather than pile up another. A custom command or --name asks for a container of its own.
  if (!req.dryRun && !req.new && !req.container.name && !req.container.command?.length) {
    const choice = chooseReusable(pod, plan.container);
    if (choice.reuse) {
      const { name, image } = choice.reuse;
      printer.info(`reusing your running debug container "${name}" (${req.preset.name}, ${image}) in pod "${podName}": ephemeral containers cannot be removed; --new adds another`);
      void ahead.then((started) => started?.discard());
      return enterSession(ctx, conn, req, { pod: podName, container: choice.reuse, state: ephemeralState(pod, name), user: preflight?.user });
    }
    printer.debug(`no debug container to reuse: ${choice.why}`);
  }
  if (preflight)
    checkPodSecurity(pod, plan.container, preflight.level, ns, presetLevelFix(preflight.level, { privileged: req.container.privileged, runAs: req.container.runAs !== undefined, level: req.level?.flag }));

  if (req.dryRun) {
    let sent = plan.container;
    if (req.dryRun === 'server') {
      const answer = await conn.api.addEphemeralContainer(ns, podName, plan.container, true);
      sent = answer.spec?.ephemeralContainers?.find((c) => c.name === plan.container.name) ?? sent;
    }
    printer.out(await render(ephemeralContainerPatch(sent), req.output ?? 'yaml'));
    return 0;
  }
  return startPodSession(ctx, conn, req, s, ahead);
}

/**
 * The target pod (POD may name a workload, or nothing for crashloop), the preflight and the
 * container in the form the namespace's level admits; notices and the form's line printed.
 */
async function planPodSession(ctx: CommandContext, conn: Connection, req: DebugRequest, suffix: string): Promise<PodSessionPlan> {
  const { api } = conn;
  const ns = conn.target.namespace;
  const { printer } = ctx;
  const clientDryRun = req.dryRun === 'client';
  // The pod and every preflight answer are fetched at once: preflight adds no round trip.
  // A client dry run skips preflight but still asks who the user is and the namespace's level: the
  // creator stamp and the form chosen are part of the container it prints, which must be exactly
  // the one a real run sends.
  const [pod, preflight, dryRunUser, dryRunNamespace] = await Promise.all([
    resolveTargetPod(ctx, conn, req.pod, { preferFailing: req.preset.crashSummary, command: req.preset.name }),
    clientDryRun ? undefined : runPreflight(conn, { attach: req.session.attach && !req.dryRun, copy: req.copy !== undefined }),
    clientDryRun ? api.whoAmI() : undefined,
    clientDryRun ? api.getNamespace(ns) : undefined,
  ]);
  const level = preflight?.level ?? enforcedLevel(dryRunNamespace?.metadata?.labels);
  const podName = pod.metadata!.name!;
  if (!req.copy && !req.dryRun) refuseFinishedPod(pod, req.preset);
  const target = req.container.container ?? (req.preset.crashSummary ? failingTarget(ctx, pod) : undefined);
  const container = containerRequestFor(req, target, preflight?.user ?? dryRunUser);
  const plan = planWithAnchor(pod, container, level, suffix, req);
  if (preflight) checkPreflight(preflight, ns);
  [...(preflight?.notices ?? []), ...plan.notices].forEach((n) => printer.info(`note: ${n}`));
  if (plan.choice && !req.copy) printer.info(plan.choice);

  // Nothing failing and no -c: the summary of a healthy container would only be noise.
  if (req.preset.crashSummary && !req.dryRun && target) await printCrashSummary(ctx, conn, pod, plan.target);
  const state = containerState(pod, plan.target);
  if ((req.preset.targetProcesses || req.container.targetProcesses) && state.phase !== 'running' && !req.copy) {
    const problem = `container "${plan.target}" of pod "${podName}" is ${describeState(state)}: the runtime needs it running to share its processes; use "kubectl ephemeral crashloop ${podName} --copy", or the shell preset`;
    if (!req.dryRun) throw new PluginError('usage', problem);
    printer.info(`warning: ${problem}`);
  }
  return { pod, podName, preflight, level, container, plan };
}

/**
 * The container in the level's form, checked as built (nothing the cluster would refuse or never
 * run is sent) and with the pod's audit trail pinned in it (dry runs show it): see withTrailAnchor.
 */
function planWithAnchor(pod: V1Pod, container: ContainerRequest, level: PodSecurityLevel, suffix: string, req: DebugRequest): LevelPlan {
  const plan = planForLevel(pod, container, level, suffix, req.level?.level, req.level?.flag);
  checkContainerBeforeCreate(plan.container);
  return { ...plan, container: withTrailAnchor(plan.container, pod) };
}

/** Adds the planned container, waits for it (the session may start while it does) and attaches. */
async function startPodSession(ctx: CommandContext, conn: Connection, req: DebugRequest, s: PodSessionPlan, ahead: Promise<HeadStart | undefined>): Promise<number> {
  const { api } = conn;
  const ns = conn.target.namespace;
  const { printer } = ctx;
  const { pod, preflight } = s;
  const opts = { pod: s.podName, name: req.container.name, attach: req.session.attach };
  const v = { preset: req.preset, timeoutMs: req.timeoutMs };
  let plan = s.plan;
  // From the PATCH until a session attaches, a signal ends the container (abandoned-container.ts).
  if (ctx.signal.aborted) throw new PluginError('cancelled', `cancelled before adding a debug container to pod "${opts.pod}"`);
  const starting = startingContainer(ctx, conn, req.kube, opts.pod);
  let added: (name: string | undefined) => void = () => {};
  starting.adding(new Promise((resolve) => (added = resolve)));
  const shape = sessionShape(req);
  const waitsForStdin = shape.waitsForStdin;
  const early = new EarlySession(conn.api.http?.firstExchangeMs(), waitsForStdin);
  let progress: ReturnType<typeof waitProgress> | undefined;
  early.onLanded(() => {
    starting.taken();
    progress?.stop();
  });
  early.onAbandoned(() => starting.abandon());
  // On a terminal the session itself starts with the PATCH: kubectl attach's own start-up, its
  // connection and its read of the pod (a few round trips to a far server) overlap the PATCH and the
  // container's start; its attempts that come too soon (the pod it read does not list the container
  // yet, or the kubelet does not have it) are run again unseen, and the terminal is taken when one
  // lands. The wait goes on beside it and settles the early session: its failure ends the session
  // before that. The attempts are spaced by what the first request cost on the wire. The first one
  // may have started with the run's first request (attach-ahead.ts).
  const headStart = shape.early ? await ahead : undefined;
  const begin = (c: V1EphemeralContainer) => enterSession(ctx, conn, req, { pod: opts.pod, container: c, state: { phase: 'running' }, user: preflight?.user }, { early, headStart });
  let session = shape.early ? begin(plan.container) : undefined;
  // Awaited below (or returned); a failure before that must not count as unhandled.
  session?.catch(() => undefined);
  // Ends the early session unseen (it never touched the terminal): no container of that name runs.
  const endEarly = async () => {
    early.settle(false);
    await session?.catch(() => undefined);
    session = undefined;
  };
  // Name clashes (another user picked the same random name) are retried with a new suffix; the
  // session that began for the name taken ends, and the one for the new name begins after the wait.
  let updated: V1Pod | undefined;
  for (let attempt = 0; !updated; attempt++) {
    try {
      updated = await api.addEphemeralContainer(ns, opts.pod, plan.container);
    } catch (err) {
      const duplicate = err instanceof PluginError && err.reason === 'name-taken';
      await endEarly();
      if (!duplicate || opts.name || attempt >= 4) throw (added(undefined), starting.release(), err);
      plan = planWithAnchor(pod, s.container, s.level, ctx.suffix(), req);
    }
  }
  added(plan.container.name);
  const name = plan.container.name;
  printer.info(`added ephemeral container "${name}" (${v.preset.name}, ${plan.container.image}) to pod "${opts.pod}" in namespace "${ns}"`);
  const entry = auditEntry(ctx, plan.container, v.preset, preflight?.user, req.reason);
  const ref = { pod: opts.pod, container: name, ephemeral: true };
  const shown = waitProgress(printer, name, ctx.now);
  progress = shown;
  let state: ReturnType<typeof requireStarted>;
  try {
    // The audit entry is written while the container starts: it costs no wall-clock time.
    const [result] = await Promise.all([
      waitForContainer(conn, ref, {
        until: 'started',
        timeoutMs: v.timeoutMs,
        now: ctx.now,
        resourceVersion: updated.metadata?.resourceVersion,
        signal: ctx.signal,
        onWaiting: shown.onWaiting,
        onEvent: shown.onEvent,
        startedEarly: waitsForStdin
          ? {
              // Not with stdinOnce (a pipe's session): the runtime closes the container's stdin when
              // the first attach ends, even one that asked for no stdin (seen here: the shell got EOF).
              attachable: plan.container.stdinOnce ? undefined : () => conn.api.attachable(ns, opts.pod, name, plan.container.tty === true),
              attached: early.attached,
            }
          : undefined,
      }).finally(() => shown.stop()),
      recordAudit(ctx, conn, opts.pod, entry, preflight, updated),
    ]);
    if (result.early) printer.debug(`the kubelet has "${name}" (${{ event: 'its Started event', probe: 'an attach probe', attached: 'the session attached' }[result.early]}, ${Math.round(performance.now())} ms after start): before the pod status says running`);
    state = requireStarted(result, ref, ns, plan.container.image);
  } catch (err) {
    // The container will not run (or Ctrl-C): the early session ends without touching the terminal.
    early.settle(false);
    await session?.catch(() => undefined);
    // Ctrl-C (or a signal) while it started: the container is being ended, and that says why.
    if (starting.abandoned) return starting.abandoned;
    starting.release();
    throw err;
  }
  if (!session || state.phase === 'terminated') {
    early.settle(false);
    // An attach that landed before the status said terminated was the session: its result stands.
    if (session && early.landed) return session;
    await session?.catch(() => undefined);
    const after = EarlySession.running();
    after.onLanded(() => starting.taken());
    after.onAbandoned(() => starting.abandon());
    return enterSession(ctx, conn, req, { pod: opts.pod, container: plan.container, state, user: preflight?.user }, { early: after }).finally(starting.release);
  }
  early.settle(true);
  return session.finally(starting.release);
}

/**
 * crashloop's default target: the container that is failing (an init container or sidecar
 * included), else the pod's default container, said in one line.
 */
function failingTarget(ctx: CommandContext, pod: V1Pod): string | undefined {
  const [failing] = failingContainers(pod);
  if (failing) return failing.name;
  const fallback = chooseTargetContainer(pod).name;
  ctx.printer.info(`note: no container of pod "${pod.metadata?.name}" is failing (none waiting in a back-off, exited with an error or restarted after one); debugging "${fallback}"`);
  return undefined;
}

/**
 * The kubelet starts nothing more in a finished pod (an init container that failed with
 * restartPolicy Never: Init:Error): an ephemeral container would wait there until --timeout.
 */
function refuseFinishedPod(pod: V1Pod, preset: Preset): void {
  const phase = pod.status?.phase;
  if (phase !== 'Failed' && phase !== 'Succeeded') return;
  const name = pod.metadata?.name;
  const fix = preset.copy ? `debug a copy: kubectl ephemeral ${preset.name} ${name} --copy` : 'debug a copy with kubectl ephemeral crashloop POD --copy';
  throw new PluginError('usage', `pod "${name}" has finished (${phase}): no container can start in it any more; ${fix}`);
}
