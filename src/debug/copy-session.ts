import type { V1Pod } from '@kubernetes/client-node';
import type { CommandContext, Connection } from '../context.js';
import { PluginError } from '../errors/plugin-error.js';
import { describeState } from '../plan/container-state.js';
import { buildEphemeralContainer } from '../plan/debug-container.js';
import { buildPodCopy } from '../plan/pod-copy.js';
import { render } from '../output/render.js';
import { auditEntry, recordAudit } from './audit.js';
import { enterSession } from './enter-session.js';
import type { DebugOptions, ValidatedDebug } from './options.js';
import { checkPodSecurity } from './pod-security-gate.js';
import type { Preflight } from './preflight.js';
import { requireStarted, waitForContainer } from './wait-for-container.js';

/** crashloop --copy: a copy of the pod with the crashing command replaced, debugged, then deleted. */
export async function debugCopy(ctx: CommandContext, conn: Connection, pod: V1Pod, opts: DebugOptions, v: ValidatedDebug, target: string, preflight: Preflight | undefined): Promise<number> {
  const ns = conn.target.namespace;
  const { printer } = ctx;
  const { pod: copy, notices } = buildPodCopy(pod, { container: target, keepalive: v.keepalive, sameNode: true }, ctx.suffix());
  notices.forEach((n) => printer.info(`note: ${n}`));
  const copyName = copy.metadata!.name!;
  const planFor = (p: V1Pod) =>
    buildEphemeralContainer(p, { preset: { ...v.preset, targetProcesses: true }, container: target, image: opts.image, name: opts.name, command: opts.command, privileged: opts.privileged, runAs: v.runAs, stdin: v.streams.stdin, tty: v.streams.tty, stamp: { user: preflight?.user, reason: opts.reason } }, ctx.suffix());
  if (opts.dryRun) {
    printer.out(await render(copy, opts.output ?? 'yaml'));
    return 0;
  }
  checkPodSecurity(copy, undefined, preflight?.level ?? 'privileged', ns, 'debug in a namespace whose level allows the pod, or fix the pod');
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
    const created = await conn.api.createPod(ns, copy);
    printer.info(`created pod copy "${copyName}" of "${opts.pod}" with "${target}" running: ${v.keepalive.join(' ')}`);
    const ref = { pod: copyName, container: target, ephemeral: false };
    const started = await waitForContainer(conn, ref, { until: 'started', timeoutMs: v.timeoutMs, now: ctx.now, resourceVersion: created.metadata?.resourceVersion, signal: ctx.signal });
    const app = requireStarted(started, ref, ns, undefined);
    if (app.phase === 'terminated')
      throw new PluginError('usage', `container "${target}" of pod copy "${copyName}" exited (${describeState(app)}) even with --keepalive "${v.keepalive.join(' ')}"; pass a keep-alive the image has`);
    const plan = planFor(started.pod!);
    const updated = await conn.api.addEphemeralContainer(ns, copyName, plan.container);
    const entry = { ...auditEntry(ctx, plan.container, v.preset, preflight?.user, opts.reason), copy: copyName };
    const debugRef = { pod: copyName, container: plan.container.name, ephemeral: true };
    const [result] = await Promise.all([
      waitForContainer(conn, debugRef, { until: 'started', timeoutMs: v.timeoutMs, now: ctx.now, resourceVersion: updated.metadata?.resourceVersion, signal: ctx.signal }),
      recordAudit(ctx, conn, opts.pod, entry, preflight),
    ]);
    const state = requireStarted(result, debugRef, ns, plan.container.image);
    if (opts.keep) printer.info(`the copy stays (--keep): delete it with kubectl delete pod ${copyName} -n ${ns}`);
    return await enterSession(ctx, conn, opts, v.preset, copyName, plan.container, state, preflight?.user);
  } finally {
    unregister();
    // After a signal the interrupt handler reports a failed deletion; otherwise it is this run's error.
    if (ctx.signal.aborted) await remove().catch(() => undefined);
    else await remove();
  }
}
