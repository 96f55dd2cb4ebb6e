import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { CommandContext, Connection } from '../context.js';
import { PluginError } from '../errors/plugin-error.js';
import { render } from '../output/render.js';
import { AUDIT_ANNOTATION } from '../plan/audit-trail.js';
import { buildNodeDebugPod, buildNodeSessionEvent, nodeNotReady, type NodeDebugRequest } from '../plan/node-debug-pod.js';
import { enterSession } from './enter-session.js';
import { validateDebugOptions, type DebugOptions, type ValidatedDebug } from './options.js';
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
export async function runNodeDebug(ctx: CommandContext, opts: DebugOptions, nodeName: string): Promise<number> {
  const registry = await ctx.presets();
  const v = validateDebugOptions(opts, registry.get(opts.preset), 'node', ctx.isTerminal.stdin);
  if (!nodeName) throw new PluginError('usage', 'node/ needs a node name: node/NAME (list them with kubectl get nodes)');
  const conn = await ctx.connect(opts.kube);
  try {
    return await nodeSession(ctx, conn, opts, v, nodeName);
  } finally {
    conn.close();
  }
}

async function nodeSession(ctx: CommandContext, conn: Connection, opts: DebugOptions, v: ValidatedDebug, nodeName: string): Promise<number> {
  const { api } = conn;
  const ns = conn.target.namespace;
  const { printer } = ctx;
  const clientDryRun = opts.dryRun === 'client';
  // The node and every preflight answer at once; a client dry run still asks who the user is, as
  // the pod it prints must be exactly the one a real run sends.
  const [node, preflight, dryRunUser] = await Promise.all([
    api.getNode(nodeName),
    clientDryRun ? undefined : runPreflight(conn, { attach: true, copy: false, node: true }),
    clientDryRun ? api.whoAmI() : undefined,
  ]);
  const notReady = nodeNotReady(node);
  if (notReady && !opts.dryRun) throw new PluginError('usage', `node "${nodeName}" is not Ready: ${notReady}; pick a Ready node (kubectl get nodes)`);
  if (preflight) checkNodePreflight(preflight, ns);
  const user = preflight?.user ?? dryRunUser;
  const time = new Date(ctx.now());
  const req: NodeDebugRequest = {
    image: opts.image,
    name: opts.name,
    command: opts.command,
    privileged: opts.privileged,
    runAs: v.runAs,
    stamp: { user, reason: opts.reason },
    namespace: ns,
    time: time.toISOString(),
  };
  const { pod, notices } = buildNodeDebugPod(node, v.preset, req, ctx.suffix());
  notices.forEach((n) => printer.info(`note: ${n}`));
  // Host namespaces and hostPath pass only "privileged": anything else refuses every node session.
  if (preflight && preflight.level !== 'privileged') checkPodSecurity(pod, undefined, preflight.level, ns, await privilegedNamespaceHint(conn, ns));

  if (opts.dryRun) {
    const sent = opts.dryRun === 'server' ? await api.dryRunCreatePod(ns, pod) : pod;
    printer.out(await render(sent, opts.output ?? 'yaml'));
    return 0;
  }

  const podName = pod.metadata!.name!;
  const container = pod.spec!.containers[0]!;
  let created = false;
  return withTemporaryPod(ctx, conn, pod, { what: 'node debug pod' }, async (stored) => {
    created = true;
    printer.info(`created pod "${podName}" on node "${nodeName}" in namespace "${ns}" (${v.preset.name}, ${container.image}); it is deleted when the session ends`);
    const ref = { pod: podName, container: container.name, ephemeral: false };
    const progress = waitProgress(printer, container.name, ctx.now);
    // The event is written while the container starts: it costs no wall-clock time.
    const [result] = await Promise.all([
      waitForContainer(conn, ref, {
        until: 'started',
        timeoutMs: v.timeoutMs,
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
    const preset = { ...v.preset, banner: v.preset.node!.banner };
    return enterSession(ctx, conn, opts, preset, podName, container, state, user, { ephemeral: false, node: nodeName });
  }).catch(async (err: unknown) => {
    // Admission refused the pod although the preflight could not tell (the namespace was not readable).
    if (created || !(err instanceof PluginError && err.kind === 'policy-rejected')) throw err;
    throw new PluginError('policy-rejected', `${err.message.replace(/; use a preset the namespace level allows, or ask for an exemption$/, '')}; ${await privilegedNamespaceHint(conn, ns)}`);
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
