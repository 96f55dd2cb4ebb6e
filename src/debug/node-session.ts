import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { CommandContext, Connection } from '../context.js';
import { PluginError } from '../errors/plugin-error.js';
import { render } from '../output/render.js';
import { AUDIT_ANNOTATION } from '../plan/audit-trail.js';
import { buildNodeDebugPod, buildNodeSessionEvent, nodeNotReady, type NodeDebugRequest } from '../plan/node-debug-pod.js';
import { enterSession } from './enter-session.js';
import { containerRequestFor, type DebugRequest } from './request.js';
import { checkPodSecurity } from './pod-security-gate.js';
import { checkNodePreflight, runPreflight } from './preflight.js';
import { withTemporaryPod } from './temporary-pod.js';
import { requireStarted, waitForContainer } from './wait-for-container.js';
import { waitProgress } from '../output/progress.js';

/** The namespace label that lets a pod share host namespaces and mount hostPath volumes. */
const PRIVILEGED_LABEL = 'pod-security.kubernetes.io/enforce=privileged';

/**
 * `kubectl ephemeral <preset> node/NAME`: a pod on the node with the preset's host access,
 * attached like a pod session and deleted when the session ends, however it ends.
 */
export async function runNodeDebug(ctx: CommandContext, req: DebugRequest, nodeName: string): Promise<number> {
  if (req.session.warning && !req.dryRun) ctx.printer.info(req.session.warning);
  const conn = await ctx.connect(req.kube);
  try {
    return await nodeSession(ctx, conn, req, nodeName);
  } finally {
    conn.close();
  }
}

async function nodeSession(ctx: CommandContext, conn: Connection, req: DebugRequest, nodeName: string): Promise<number> {
  const { api } = conn;
  const ns = conn.target.namespace;
  const { printer } = ctx;
  const { preset } = req;
  const clientDryRun = req.dryRun === 'client';
  // The node and every preflight answer at once; a client dry run still asks who the user is, as
  // the pod it prints must be exactly the one a real run sends.
  const [node, preflight, dryRunUser] = await Promise.all([
    api.getNode(nodeName),
    clientDryRun ? undefined : runPreflight(conn, { attach: true, copy: false, node: true }),
    clientDryRun ? api.whoAmI() : undefined,
  ]);
  const notReady = nodeNotReady(node);
  if (notReady && !req.dryRun) throw new PluginError('usage', `node "${nodeName}" is not Ready: ${notReady}; pick a Ready node (kubectl get nodes)`);
  if (preflight) checkNodePreflight(preflight, ns);
  const user = preflight?.user ?? dryRunUser;
  const time = new Date(ctx.now());
  // stdin and tty stay the node pod's own (always a terminal session, as before the request existed).
  const { preset: _p, container: _target, targetProcesses: _t, stdin: _i, tty: _tty, ...asked } = containerRequestFor(req, undefined, user);
  const nodeReq: NodeDebugRequest = { ...asked, namespace: ns, time: time.toISOString() };
  const { pod, notices } = buildNodeDebugPod(node, preset, nodeReq, ctx.suffix());
  notices.forEach((n) => printer.info(`note: ${n}`));
  // Host namespaces and hostPath pass only "privileged": anything else refuses every node session.
  if (preflight && preflight.level !== 'privileged') checkPodSecurity(pod, undefined, preflight.level, ns, await privilegedNamespaceHint(conn, ns));

  if (req.dryRun) {
    const sent = req.dryRun === 'server' ? await api.dryRunCreatePod(ns, pod) : pod;
    printer.out(await render(sent, req.output ?? 'yaml'));
    return 0;
  }

  const podName = pod.metadata!.name!;
  const container = pod.spec!.containers[0]!;
  let created = false;
  return withTemporaryPod(ctx, conn, pod, { what: 'node debug pod' }, async (stored) => {
    created = true;
    printer.info(`created pod "${podName}" on node "${nodeName}" in namespace "${ns}" (${preset.name}, ${container.image}); it is deleted when the session ends`);
    const ref = { pod: podName, container: container.name, ephemeral: false };
    const progress = waitProgress(printer, container.name, ctx.now);
    // The event is written while the container starts: it costs no wall-clock time.
    const [result] = await Promise.all([
      waitForContainer(conn, ref, {
        until: 'started',
        timeoutMs: req.timeoutMs,
        now: ctx.now,
        resourceVersion: stored.metadata?.resourceVersion,
        signal: ctx.signal,
        // The same progress as a pod session's: one live line on a terminal, plain lines otherwise.
        onWaiting: progress.onWaiting,
        onEvent: progress.onEvent,
      }).finally(() => progress.stop()),
      recordNodeEvent(ctx, conn, node, stored, time),
    ]);
    const state = requireStarted(result, ref, ns, container.image);
    return enterSession(ctx, conn, req, { pod: podName, container, state, user }, { ephemeral: false, node: nodeName });
  }).catch(async (err: unknown) => {
    // Admission refused the pod although the preflight could not tell (the namespace was not readable):
    // the fix for a node session is another namespace, not another preset.
    if (created || !(err instanceof PluginError && err.reason === 'pod-security')) throw err;
    throw err.withFix(await privilegedNamespaceHint(conn, ns));
  });
}

/**
 * Records the session as an Event on the node. Never fails the session: a user who may not create
 * events (or an API error) gets a notice, and the pod's audit annotation still holds the record.
 */
async function recordNodeEvent(ctx: CommandContext, conn: Connection, node: V1Node, pod: V1Pod, time: Date): Promise<void> {
  try {
    await conn.api.createEvent(buildNodeSessionEvent(node, pod, time));
  } catch (err) {
    const why = err instanceof PluginError && err.kind === 'forbidden' ? 'no "create events" permission in namespace "default"' : (err as Error).message;
    ctx.printer.info(`note: no event recorded on node "${node.metadata?.name}" (${why}); the pod's ${AUDIT_ANNOTATION} annotation still records the session`);
  }
}

/** Where a node session can run instead: the namespaces labelled privileged, or the label one needs. */
async function privilegedNamespaceHint(conn: Connection, ns: string): Promise<string> {
  const names = (await conn.api.namespaceNames(PRIVILEGED_LABEL))?.filter((n) => n !== ns);
  const need = `a node session shares host namespaces and mounts the node's root, which only Pod Security "privileged" allows`;
  if (names === undefined) return `${need}: pass --namespace with a namespace labelled ${PRIVILEGED_LABEL} (ask an admin which one)`;
  if (names.length === 0) return `${need}: no namespace is labelled ${PRIVILEGED_LABEL}; ask an admin for one, then pass --namespace`;
  const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? ', ...' : '');
  return `${need}: pass --namespace ${names[0]} (namespaces labelled ${PRIVILEGED_LABEL}: ${shown})`;
}
