import type { V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import type { KubeFlags } from '../kube/kube-flags.js';
import { formatTable } from '../output/printer.js';
import { render } from '../output/render.js';
import { containerState, describeState, ephemeralState, type ContainerState } from '../plan/container-state.js';
import { NODE_DEBUG_LABEL } from '../plan/node-debug-pod.js';
import { STAMP_ENV } from '../plan/debug-container.js';
import { formatAge } from '../input/duration.js';
import { AUDIT_ANNOTATION, verifyAuditTrail, type AuditCheck } from '../plan/audit-trail.js';
import type { CommandContext } from '../context.js';

/** Options of `kubectl ephemeral list`. */
export interface ListOptions {
  pod?: string;
  allNamespaces: boolean;
  output?: 'wide' | 'json' | 'yaml';
  kube: KubeFlags;
}

/** One ephemeral container as `list` shows it. */
export interface DebugContainerRow {
  namespace: string;
  pod: string;
  container: string;
  preset: string;
  image: string;
  target: string;
  state: ContainerState;
  startedAt?: string;
  createdBy: string;
  reason?: string;
  /** How the pod's audit annotation shows this session (undefined: not started by the plugin). */
  audit?: AuditCheck;
}

/** A pod's debug containers and what is wrong with its audit trail. */
export interface PodRows {
  rows: DebugContainerRow[];
  auditProblems: string[];
}

/**
 * Every ephemeral container of a pod, with preset and creator read from the plugin's env stamp
 * (else managedFields), each stamped session checked against the pod's audit annotation; for a
 * node debug pod, its container, targeting node/NAME (no annotation to check).
 */
export function debugContainerRows(pod: V1Pod): PodRows {
  const managers = (pod.metadata?.managedFields ?? []).filter((f) => f.subresource === 'ephemeralcontainers').map((f) => f.manager ?? '');
  const node = pod.metadata?.annotations?.[NODE_DEBUG_LABEL];
  const statuses = node ? pod.status?.containerStatuses : pod.status?.ephemeralContainerStatuses;
  const stamped = (node ? [] : (pod.spec?.ephemeralContainers ?? [])).flatMap((c) => {
    const env = new Map((c.env ?? []).map((e) => [e.name, e.value ?? '']));
    const preset = env.get(STAMP_ENV.preset);
    return preset === undefined ? [] : [{ name: c.name, preset, image: c.image ?? '', user: env.get(STAMP_ENV.user), reason: env.get(STAMP_ENV.reason) }];
  });
  const verdict = node ? { byContainer: new Map<string, AuditCheck>(), problems: [] } : verifyAuditTrail(pod.metadata?.annotations?.[AUDIT_ANNOTATION], stamped);
  const rows = ((node ? pod.spec?.containers : pod.spec?.ephemeralContainers) ?? []).map((c): DebugContainerRow => {
    const env = new Map((c.env ?? []).map((e) => [e.name, e.value ?? '']));
    const state = (node ? containerState : ephemeralState)(pod, c.name);
    const started = state.phase === 'running' ? state.startedAt : statuses?.find((s) => s.name === c.name)?.state?.terminated?.startedAt;
    return {
      namespace: pod.metadata?.namespace ?? '',
      pod: pod.metadata?.name ?? '',
      container: c.name,
      preset: env.get(STAMP_ENV.preset) ?? '-',
      image: c.image ?? '',
      target: node ? `node/${node}` : ((c as V1EphemeralContainer).targetContainerName ?? '-'),
      state,
      startedAt: started ? String(started) : undefined,
      createdBy: env.get(STAMP_ENV.user) ?? (managers.length ? `(${[...new Set(managers)].join(',')})` : '-'),
      reason: env.get(STAMP_ENV.reason),
      audit: verdict.byContainer.get(c.name),
    };
  });
  return { rows, auditProblems: verdict.problems };
}

/** `kubectl ephemeral list`: ephemeral containers of one pod, a namespace, or all namespaces (paged). */
export async function runList(ctx: CommandContext, opts: ListOptions): Promise<number> {
  const conn = await ctx.connect(opts.kube);
  try {
    const ns = conn.target.namespace;
    const rows: DebugContainerRow[] = [];
    const problems: string[] = [];
    const add = (pod: V1Pod) => {
      const found = debugContainerRows(pod);
      rows.push(...found.rows);
      for (const p of found.auditProblems) problems.push(`warning: audit trail of pod "${pod.metadata?.name}" in namespace "${pod.metadata?.namespace}": ${p}`);
    };
    if (opts.pod) add(await conn.api.getPod(ns, opts.pod));
    else await conn.api.listPods(opts.allNamespaces ? undefined : ns, { limit: 500 }, (pods) => pods.forEach(add));
    // The trail is checked where it is shown: -o wide and -o json|yaml (the plain table stays short).
    if (opts.output) problems.forEach((p) => ctx.printer.info(p));
    if (opts.output === 'json' || opts.output === 'yaml') {
      ctx.printer.out(await render(rows.map((r) => ({ ...r, state: describeState(r.state) })), opts.output));
      return 0;
    }
    if (rows.length === 0) {
      ctx.printer.info(opts.pod ? `pod "${opts.pod}" has no ephemeral containers` : `no ephemeral containers found${opts.allNamespaces ? '' : ` in namespace "${ns}"`}`);
      return 0;
    }
    const now = ctx.now();
    const wide = opts.output === 'wide';
    const headers = [...(opts.allNamespaces ? ['NAMESPACE'] : []), 'POD', 'CONTAINER', 'PRESET', 'IMAGE', 'TARGET', 'STATE', 'AGE', 'CREATED-BY', ...(wide ? ['AUDIT', 'REASON'] : [])];
    ctx.printer.out(
      formatTable(
        headers,
        rows.map((r) => [
          ...(opts.allNamespaces ? [r.namespace] : []),
          r.pod,
          r.container,
          r.preset,
          r.image,
          r.target,
          describeState(r.state),
          r.startedAt ? formatAge(now - Date.parse(r.startedAt)) : '-',
          r.createdBy,
          ...(wide ? [r.audit ?? '-', r.reason ?? ''] : []),
        ]),
      ),
    );
    return 0;
  } finally {
    conn.close();
  }
}
