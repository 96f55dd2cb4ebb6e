import type { V1Pod } from '@kubernetes/client-node';
import type { CommandContext, Connection } from '../context.js';
import { PluginError } from '../errors/plugin-error.js';
import { describeState, podScheduling } from '../plan/container-state.js';
import { buildEphemeralContainer } from '../plan/debug-container.js';
import { buildPodCopy } from '../plan/pod-copy.js';
import { clusterLine } from '../output/printer.js';
import { render } from '../output/render.js';
import { pasteableCommand } from './attach-debug-container.js';
import { auditEntry, recordAudit } from './audit.js';
import { enterSession } from './enter-session.js';
import { containerRequestFor, type DebugRequest } from './request.js';
import { checkPodSecurity } from './pod-security-gate.js';
import type { Preflight } from './preflight.js';
import { withTemporaryPod } from './temporary-pod.js';
import { waitProgress } from '../output/progress.js';
import { requireStarted, waitForContainer } from './wait-for-container.js';

/**
 * crashloop --copy: a copy of the pod with the crashing (main, init or sidecar) container's command
 * replaced, debugged, then deleted; kept with --keep, and with --no-attach (nobody is attached yet).
 */
export async function debugCopy(ctx: CommandContext, conn: Connection, pod: V1Pod, req: DebugRequest, target: string, preflight: Preflight | undefined): Promise<number> {
  const ns = conn.target.namespace;
  const { printer } = ctx;
  const asked = req.copy!;
  const { keepPod: keep, replace, ...copyRequest } = asked;
  const { pod: copy, notices } = buildPodCopy(pod, { container: target, ...copyRequest }, ctx.suffix());
  notices.forEach((n) => printer.info(`note: ${n}`));
  const copyName = copy.metadata!.name!;
  const containerRequest = containerRequestFor(req, target, preflight?.user);
  // In the copy the crashing container runs the keep-alive: the debug container always shares its processes.
  const planFor = (p: V1Pod) => buildEphemeralContainer(p, { ...containerRequest, targetProcesses: true }, ctx.suffix());
  if (req.dryRun) {
    // --dry-run=server: the API server validates and defaults the copy without creating it.
    const sent = req.dryRun === 'server' ? await conn.api.dryRunCreatePod(ns, copy) : copy;
    printer.out(await render(sent, req.output ?? 'yaml'));
    return 0;
  }
  checkPodSecurity(copy, undefined, preflight?.level ?? 'privileged', ns, 'debug in a namespace whose level allows the pod, or fix the pod');
  const deleteCommand = pasteableCommand(['kubectl', 'delete', 'pod', copyName], ns, req.kube);
  // --no-attach keeps the copy only once its debug container runs: a run that failed before leaves nothing.
  return withTemporaryPod(ctx, conn, copy, { what: 'pod copy', keep: keep }, async (created, temporary) => {
    printer.info(`created pod copy "${copyName}" of "${pod.metadata!.name}" with "${target}" running: ${asked.keepalive.join(' ')}`);
    if (replace) {
      // kubectl debug --replace: the original goes once its copy exists (at once, as kubectl's grace period 0).
      await conn.api.deletePod(ns, pod.metadata!.name!);
      printer.info(`deleted the original pod "${pod.metadata!.name}" (--replace); the copy stays: delete it when done with ${deleteCommand}`);
    }
    const ref = { pod: copyName, container: target, ephemeral: false };
    // The scheduler's word (FailedScheduling and its reason) shows in the progress line as it comes.
    const progress = waitProgress(printer, target, ctx.now);
    const started = await waitForContainer(conn, ref, {
      until: 'started',
      timeoutMs: req.timeoutMs,
      now: ctx.now,
      resourceVersion: created.metadata?.resourceVersion,
      signal: ctx.signal,
      onWaiting: progress.onWaiting,
      onEvent: progress.onEvent,
    }).finally(() => progress.stop());
    if (!started.state) await explainUnscheduled(conn, copyName, pod);
    const app = requireStarted(started, ref, ns, undefined);
    if (app.phase === 'terminated')
      throw new PluginError('usage', `container "${target}" of pod copy "${copyName}" exited (${describeState(app)}) even with --keepalive "${asked.keepalive.join(' ')}"; pass a keep-alive the image has`);
    const plan = planFor(started.pod!);
    const updated = await conn.api.addEphemeralContainer(ns, copyName, plan.container);
    const entry = { ...auditEntry(ctx, plan.container, req.preset, preflight?.user, req.reason), copy: copyName };
    const debugRef = { pod: copyName, container: plan.container.name, ephemeral: true };
    const [result] = await Promise.all([
      waitForContainer(conn, debugRef, { until: 'started', timeoutMs: req.timeoutMs, now: ctx.now, resourceVersion: updated.metadata?.resourceVersion, signal: ctx.signal }),
      recordAudit(ctx, conn, pod.metadata!.name!, entry, preflight),
    ]);
    const state = requireStarted(result, debugRef, ns, plan.container.image);
    if (!req.session.attach) temporary.keep();
    if ((keep && !replace) || !req.session.attach) printer.info(`the copy stays (${keep ? '--keep' : '--no-attach'}): delete it when done with ${deleteCommand}`);
    // Detached (or the attach failed) with the debug container running: the copy is kept, since
    // "attach again" must have something to attach to, and the user is told how to delete it.
    const onLeftRunning = () => {
      if (keep) return;
      temporary.keep();
      printer.info(`the copy "${copyName}" stays while you may attach again: delete it when done with ${deleteCommand}`);
    };
    return await enterSession(ctx, conn, req, { pod: copyName, container: plan.container, state, user: preflight?.user }, { onLeftRunning });
  });
}

/**
 * After a timeout: a copy no node took gets its own line, since without --same-node the scheduler
 * places it (taints, resources, a cluster without a scheduler) and the fix differs from a slow image.
 */
async function explainUnscheduled(conn: Connection, copyName: string, original: V1Pod): Promise<void> {
  const ns = conn.target.namespace;
  const copy = await conn.api.getPod(ns, copyName).catch(() => undefined);
  if (copy) {
    const error = unscheduledCopyError(copy, original, ns);
    if (error) throw error;
  }
}

/** The timeout of a copy that never got a node, naming the scheduler's reason (its FailedScheduling message); undefined for a copy on a node. */
export function unscheduledCopyError(copy: V1Pod, original: V1Pod, ns: string): PluginError | undefined {
  const scheduling = podScheduling(copy);
  if (scheduling.bound) return undefined;
  const copyName = copy.metadata?.name ?? '';
  const why = scheduling.reason
    ? `the scheduler found no node for it (${clusterLine(scheduling.reason)}: ${clusterLine(scheduling.message || 'no message')})`
    : 'no scheduler has looked at it (none runs?)';
  const node = original.spec?.nodeName;
  return new PluginError(
    'timeout',
    `pod copy "${copyName}" was never scheduled within --timeout: ${why}; ${node ? `pass --same-node to run it on node "${node}" like the original, or see` : 'see'} kubectl describe pod ${copyName} -n ${ns}`,
  );
}
