import type { V1Pod } from '@kubernetes/client-node';
import type { CommandContext, Connection } from '../context.js';
import { PluginError } from '../errors/plugin-error.js';
import { containerState, describeState, ephemeralState } from '../plan/container-state.js';
import { chooseTargetContainer } from '../plan/debug-container.js';
import { failingContainers } from '../plan/failing-container.js';
import { chooseReusable } from '../plan/reuse-choice.js';
import { ephemeralContainerPatch, type DebugRequest } from '../plan/debug-container.js';
import { planForLevel } from '../plan/level-form.js';
import { enforcedLevel } from '../plan/pod-security.js';
import { nodeRefName } from '../plan/node-debug-pod.js';
import { quietPrinter } from '../output/printer.js';
import { waitProgress } from '../output/progress.js';
import { render } from '../output/render.js';
import { auditEntry, recordAudit } from '../debug/audit.js';
import { debugCopy } from '../debug/copy-session.js';
import { printCrashSummary } from '../debug/crash-summary.js';
import { enterSession } from '../debug/enter-session.js';
import { validateDebugOptions, type DebugOptions, type ValidatedDebug } from '../debug/options.js';
import { checkPodSecurity, presetLevelFix } from '../debug/pod-security-gate.js';
import { checkPreflight, runPreflight } from '../debug/preflight.js';
import { resolveTargetPod } from '../debug/target-pod.js';
import { requireStarted, waitForContainer } from '../debug/wait-for-container.js';
import { startingContainer } from '../debug/abandoned-container.js';

export type { DebugOptions } from '../debug/options.js';

/** `kubectl ephemeral <preset> POD`: validate, preflight, add the container, wait for it, attach. Resolves with the exit code. */
export async function runDebug(ctx: CommandContext, opts: DebugOptions): Promise<number> {
  if (opts.quiet) ctx = { ...ctx, printer: quietPrinter(ctx.printer) };
  const node = nodeRefName(opts.pod);
  if (node !== undefined) return (await import('../debug/node-session.js')).runNodeDebug(ctx, opts, node);
  const registry = await ctx.presets();
  const v = validateDebugOptions(opts, registry.get(opts.preset), 'pod', ctx.isTerminal.stdin);
  if (v.streams.warning && !opts.dryRun) ctx.printer.info(v.streams.warning);
  const conn = await ctx.connect(opts.kube);
  try {
    return await debugWith(ctx, conn, opts, v);
  } finally {
    conn.close();
  }
}

async function debugWith(ctx: CommandContext, conn: Connection, asked: DebugOptions, v: ValidatedDebug): Promise<number> {
  const { api } = conn;
  const ns = conn.target.namespace;
  const { printer } = ctx;
  const clientDryRun = asked.dryRun === 'client';
  // The pod and every preflight answer are fetched at once: preflight adds no round trip.
  // A client dry run skips preflight but still asks who the user is and the namespace's level: the
  // creator stamp and the form chosen are part of the container it prints, which must be exactly
  // the one a real run sends.
  // The POD argument may name a workload (deploy/web), or nothing at all for crashloop.
  const [pod, preflight, dryRunUser, dryRunNamespace] = await Promise.all([
    resolveTargetPod(ctx, conn, asked.pod, { preferFailing: v.preset.crashSummary, command: v.preset.name }),
    clientDryRun ? undefined : runPreflight(conn, { attach: asked.attach && !asked.dryRun, copy: asked.copy }),
    clientDryRun ? api.whoAmI() : undefined,
    clientDryRun ? api.getNamespace(ns) : undefined,
  ]);
  const level = preflight?.level ?? enforcedLevel(dryRunNamespace?.metadata?.labels);
  const opts: DebugOptions & { pod: string } = { ...asked, pod: pod.metadata!.name! };
  if (!opts.copy && !opts.dryRun) refuseFinishedPod(pod, v);
  const container = opts.container ?? (v.preset.crashSummary ? failingTarget(ctx, pod) : undefined);
  const req: DebugRequest = {
    preset: v.preset,
    container,
    image: opts.image,
    name: opts.name,
    command: opts.command,
    privileged: opts.privileged,
    runAs: v.runAs,
    stdin: v.streams.stdin,
    tty: v.streams.tty,
    stamp: { user: preflight?.user ?? dryRunUser, reason: opts.reason },
  };
  let plan = planForLevel(pod, req, level, ctx.suffix(), opts.level);
  if (preflight) checkPreflight(preflight, ns);
  [...(preflight?.notices ?? []), ...plan.notices].forEach((n) => printer.info(`note: ${n}`));
  if (plan.choice && !opts.copy) printer.info(plan.choice);

  // Nothing failing and no -c: the summary of a healthy container would only be noise.
  if (v.preset.crashSummary && !opts.dryRun && container) await printCrashSummary(ctx, conn, pod, plan.target);
  const target = containerState(pod, plan.target);
  if (v.preset.targetProcesses && target.phase !== 'running' && !opts.copy) {
    const problem = `container "${plan.target}" of pod "${opts.pod}" is ${describeState(target)}: the runtime needs it running to share its processes; use "kubectl ephemeral crashloop ${opts.pod} --copy", or the shell preset`;
    if (!opts.dryRun) throw new PluginError('usage', problem);
    printer.info(`warning: ${problem}`);
  }
  if (opts.copy) return debugCopy(ctx, conn, pod, opts, v, plan.target, preflight);

  // Ephemeral containers cannot be removed (k/k #84764): attach to the user's own running one
  // rather than pile up another. A custom command or --name asks for a container of its own.
  if (!opts.dryRun && !opts.new && !opts.name && !opts.command.length) {
    const choice = chooseReusable(pod, plan.container);
    if (choice.reuse) {
      const { name, image } = choice.reuse;
      printer.info(`reusing your running debug container "${name}" (${v.preset.name}, ${image}) in pod "${opts.pod}": ephemeral containers cannot be removed; --new adds another`);
      return enterSession(ctx, conn, opts, v.preset, opts.pod, choice.reuse, ephemeralState(pod, name), preflight?.user);
    }
    printer.debug(`no debug container to reuse: ${choice.why}`);
  }
  if (preflight)
    checkPodSecurity(pod, plan.container, preflight.level, ns, presetLevelFix(preflight.level, { privileged: opts.privileged, runAs: opts.runAs !== undefined, level: opts.level !== undefined }));

  if (opts.dryRun) {
    let sent = plan.container;
    if (opts.dryRun === 'server') {
      const answer = await api.addEphemeralContainer(ns, opts.pod, plan.container, true);
      sent = answer.spec?.ephemeralContainers?.find((c) => c.name === plan.container.name) ?? sent;
    }
    printer.out(await render(ephemeralContainerPatch(sent), opts.output ?? 'yaml'));
    return 0;
  }

  // From the PATCH until a session attaches, a signal ends the container (abandoned-container.ts).
  if (ctx.signal.aborted) throw new PluginError('cancelled', `cancelled before adding a debug container to pod "${opts.pod}"`);
  const starting = startingContainer(ctx, conn, opts.kube, opts.pod);
  let added: (name: string | undefined) => void = () => {};
  starting.adding(new Promise((resolve) => (added = resolve)));
  // Name clashes (another user picked the same random name) are retried with a new suffix.
  let updated: V1Pod | undefined;
  for (let attempt = 0; !updated; attempt++) {
    try {
      updated = await api.addEphemeralContainer(ns, opts.pod, plan.container);
    } catch (err) {
      const duplicate = err instanceof PluginError && /Duplicate value/i.test(err.message);
      if (!duplicate || opts.name || attempt >= 4) throw (added(undefined), starting.release(), err);
      plan = planForLevel(pod, req, level, ctx.suffix(), opts.level);
    }
  }
  added(plan.container.name);
  const name = plan.container.name;
  printer.info(`added ephemeral container "${name}" (${v.preset.name}, ${plan.container.image}) to pod "${opts.pod}" in namespace "${ns}"`);
  const entry = auditEntry(ctx, plan.container, v.preset, preflight?.user, opts.reason);
  const ref = { pod: opts.pod, container: name, ephemeral: true };
  const progress = waitProgress(printer, name, ctx.now);
  // The preset's own shell waits for its stdin: it can be attached the moment the runtime runs it.
  // Not with --no-attach: what it prints next (the container's name) is for commands that read the
  // pod status (cleanup, list, kubectl get), which says running only at the kubelet's next relist.
  const waitsForStdin = opts.attach && v.streams.stdin && opts.command.length === 0 && v.preset.command !== undefined;
  // On a terminal the session itself starts now: kubectl attach's own start-up (~0.1 s) overlaps
  // the container's, its attempts that come too soon are run again unseen, and the terminal is
  // taken when one lands. The wait goes on beside it: its failure ends the session before that.
  let settle: (runs: boolean) => void = () => {};
  let landed: () => void = () => {};
  const attached = new Promise<void>((resolve) => (landed = resolve));
  const session =
    waitsForStdin && v.streams.tty
      ? enterSession(ctx, conn, opts, v.preset, opts.pod, plan.container, { phase: 'running' }, preflight?.user, {
          early: {
            started: new Promise<boolean>((resolve) => (settle = resolve)),
            onLanded: () => {
              starting.taken();
              progress.stop();
              landed();
            },
            onAbandoned: () => starting.abandon(),
          },
        })
      : undefined;
  // Awaited below (or returned); a failure before that must not count as unhandled.
  session?.catch(() => undefined);
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
        onWaiting: progress.onWaiting,
        onEvent: progress.onEvent,
        startedEarly: waitsForStdin
          ? {
              // Not with stdinOnce (a pipe's session): the runtime closes the container's stdin when
              // the first attach ends, even one that asked for no stdin (seen here: the shell got EOF).
              attachable: plan.container.stdinOnce ? undefined : () => conn.api.attachable(ns, opts.pod, name, plan.container.tty === true),
              attached,
            }
          : undefined,
      }).finally(() => progress.stop()),
      recordAudit(ctx, conn, opts.pod, entry, preflight, updated),
    ]);
    if (result.early) printer.debug(`the kubelet has "${name}" (${{ event: 'its Started event', probe: 'an attach probe', attached: 'the session attached' }[result.early]}, ${Math.round(performance.now())} ms after start): before the pod status says running`);
    state = requireStarted(result, ref, ns, plan.container.image);
  } catch (err) {
    // The container will not run (or Ctrl-C): the early session ends without touching the terminal.
    settle(false);
    await session?.catch(() => undefined);
    // Ctrl-C (or a signal) while it started: the container is being ended, and that says why.
    if (starting.abandoned) return starting.abandoned;
    starting.release();
    throw err;
  }
  if (!session || state.phase === 'terminated') {
    settle(false);
    await session?.catch(() => undefined);
    const early = { started: Promise.resolve(true), onLanded: starting.taken, onAbandoned: starting.abandon };
    return enterSession(ctx, conn, opts, v.preset, opts.pod, plan.container, state, preflight?.user, { early }).finally(starting.release);
  }
  settle(true);
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
function refuseFinishedPod(pod: V1Pod, v: ValidatedDebug): void {
  const phase = pod.status?.phase;
  if (phase !== 'Failed' && phase !== 'Succeeded') return;
  const name = pod.metadata?.name;
  const fix = v.preset.copy ? `debug a copy: kubectl ephemeral ${v.preset.name} ${name} --copy` : 'debug a copy with kubectl ephemeral crashloop POD --copy';
  throw new PluginError('usage', `pod "${name}" has finished (${phase}): no container can start in it any more; ${fix}`);
}
