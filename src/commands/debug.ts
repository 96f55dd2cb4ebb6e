import type { V1Pod } from '@kubernetes/client-node';
import type { CommandContext, Connection } from '../context.js';
import { PluginError } from '../errors/plugin-error.js';
import { containerState, describeState } from '../plan/container-state.js';
import { ephemeralContainerPatch, type DebugRequest } from '../plan/debug-container.js';
import { planForLevel } from '../plan/level-form.js';
import { enforcedLevel } from '../plan/pod-security.js';
import { render } from '../output/render.js';
import { auditEntry, recordAudit } from '../debug/audit.js';
import { debugCopy } from '../debug/copy-session.js';
import { printCrashSummary } from '../debug/crash-summary.js';
import { enterSession } from '../debug/enter-session.js';
import { validateDebugOptions, type DebugOptions, type ValidatedDebug } from '../debug/options.js';
import { checkPodSecurity, presetLevelFix } from '../debug/pod-security-gate.js';
import { checkPreflight, runPreflight } from '../debug/preflight.js';
import { requireStarted, waitForContainer } from '../debug/wait-for-container.js';

export type { DebugOptions } from '../debug/options.js';

/** `kubectl ephemeral <preset> POD`: validate, preflight, add the container, wait for it, attach. Resolves with the exit code. */
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

async function debugWith(ctx: CommandContext, conn: Connection, opts: DebugOptions, v: ValidatedDebug): Promise<number> {
  const { api } = conn;
  const ns = conn.target.namespace;
  const { printer } = ctx;
  const clientDryRun = opts.dryRun === 'client';
  // The pod and every preflight answer are fetched at once: preflight adds no round trip.
  // A client dry run skips preflight but still asks who the user is and the namespace's level: the
  // creator stamp and the form chosen are part of the container it prints, which must be exactly
  // the one a real run sends.
  const [pod, preflight, dryRunUser, dryRunNamespace] = await Promise.all([
    api.getPod(ns, opts.pod),
    clientDryRun ? undefined : runPreflight(conn, { attach: opts.attach && !opts.dryRun, copy: opts.copy }),
    clientDryRun ? api.whoAmI() : undefined,
    clientDryRun ? api.getNamespace(ns) : undefined,
  ]);
  const level = preflight?.level ?? enforcedLevel(dryRunNamespace?.metadata?.labels);
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
  let plan = planForLevel(pod, req, level, ctx.suffix(), opts.level);
  if (preflight) checkPreflight(preflight, ns);
  plan.notices.forEach((n) => printer.info(`note: ${n}`));
  if (plan.choice && !opts.copy) printer.info(plan.choice);

  if (v.preset.crashSummary && !opts.dryRun) await printCrashSummary(ctx, conn, pod, plan.target);
  const target = containerState(pod, plan.target);
  if (v.preset.targetProcesses && target.phase !== 'running' && !opts.copy) {
    const problem = `container "${plan.target}" of pod "${opts.pod}" is ${describeState(target)}: the runtime needs it running to share its processes; use "kubectl ephemeral crashloop ${opts.pod} --copy", or the shell preset`;
    if (!opts.dryRun) throw new PluginError('usage', problem);
    printer.info(`warning: ${problem}`);
  }
  if (opts.copy) return debugCopy(ctx, conn, pod, opts, v, plan.target, preflight);
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

  // Name clashes (another user picked the same random name) are retried with a new suffix.
  let updated: V1Pod | undefined;
  for (let attempt = 0; !updated; attempt++) {
    try {
      updated = await api.addEphemeralContainer(ns, opts.pod, plan.container);
    } catch (err) {
      const duplicate = err instanceof PluginError && /Duplicate value/i.test(err.message);
      if (!duplicate || opts.name || attempt >= 4) throw err;
      plan = planForLevel(pod, req, level, ctx.suffix(), opts.level);
    }
  }
  const name = plan.container.name;
  printer.info(`added ephemeral container "${name}" (${v.preset.name}, ${plan.container.image}) to pod "${opts.pod}" in namespace "${ns}"`);
  const entry = auditEntry(ctx, plan.container, v.preset, preflight?.user, opts.reason);
  const ref = { pod: opts.pod, container: name, ephemeral: true };
  // The audit entry is written while the container starts: it costs no wall-clock time.
  const [result] = await Promise.all([
    waitForContainer(conn, ref, {
      until: 'started',
      timeoutMs: v.timeoutMs,
      now: ctx.now,
      resourceVersion: updated.metadata?.resourceVersion,
      signal: ctx.signal,
      onWaiting: (s) => printer.info(`waiting for container "${name}": ${s.reason}${s.message ? `: ${s.message}` : ''}`),
    }),
    recordAudit(ctx, conn, opts.pod, entry, preflight, updated),
  ]);
  const state = requireStarted(result, ref, ns, plan.container.image);
  return enterSession(ctx, conn, opts, v.preset, opts.pod, plan.container, state, preflight?.user);
}
