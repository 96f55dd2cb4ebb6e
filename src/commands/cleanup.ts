import type { V1Pod } from '@kubernetes/client-node';
import type { KubeFlags } from '../kube/kube-flags.js';
import { kubectlArgs } from '../kube/kube-flags.js';
import { PluginError, usageError } from '../errors/plugin-error.js';
import { formatTable } from '../output/printer.js';
import { ROLES } from '../kube/access-rules.js';
import { ephemeralState } from '../plan/container-state.js';
import { STAMP_ENV } from '../plan/debug-container.js';
import { COPY_LABEL } from '../plan/pod-copy.js';
import { labelValue } from '../plan/names.js';
import { NODE_DEBUG_LABEL, nodeRefName } from '../plan/node-debug-pod.js';
import { waitForContainer } from '../debug/wait-for-container.js';
import type { CommandContext, Connection } from '../context.js';

/** Options of `kubectl ephemeral cleanup [POD|node/NAME]`. */
export interface CleanupOptions {
  /** A pod, or node/NAME for the node debug pods of one node. */
  pod?: string;
  allNamespaces: boolean;
  /** Also other users' sessions (asks first unless `yes`). */
  allUsers: boolean;
  yes: boolean;
  dryRun: boolean;
  kube: KubeFlags;
}

/** One thing cleanup does. */
export interface CleanupAction {
  kind: 'stop-container' | 'delete-copy' | 'delete-node-pod';
  namespace: string;
  pod: string;
  container?: string;
  /** Who started it (the env stamp), when known. */
  user?: string;
}

/** What cleanup will do, and what it leaves because it belongs to someone else. */
export interface CleanupPlan {
  actions: CleanupAction[];
  /** Other users' running sessions and copies, left alone without --all-users. */
  othersLeft: CleanupAction[];
}

/**
 * Ends a debug shell the way a user would: through an attach, Ctrl-C then `exit` on its terminal
 * (twice: bash refuses the first exit when jobs are stopped). Needs only pods/attach, and never
 * touches the target's processes, whose PID namespace the debug container may share.
 */
export const END_KEYS = '\x03\x03\rexit\rexit\r';

/**
 * If the shell ignores that (or the container has no terminal, like a capture), an exec signals
 * the processes that started before it in the debug container, children first: TERM, HUP, then
 * KILL. In its own PID namespace that is every one of them; when it shares the target's (PID 1 is
 * then the app, in another mount namespace), only those in the debug container's mount namespace.
 */
export const KILL_SCRIPT =
  'me=$(readlink /proc/self/ns/mnt); own=; [ "$(readlink /proc/1/ns/mnt 2>/dev/null)" = "$me" ] && own=1; pids=""; ' +
  'for p in $(ls /proc | grep -E "^[0-9]+$" | sort -rn); do [ "$p" -lt "$$" ] || continue; ' +
  'if [ -n "$own" ] || [ "$(readlink /proc/$p/ns/mnt 2>/dev/null)" = "$me" ]; then pids="$pids $p"; fi; done; ' +
  '[ -n "$pids" ] || exit 1; kill -TERM $pids; kill -HUP $pids; sleep 1; kill -KILL $pids 2>/dev/null; echo $pids';

/** How long a debug container gets to end after the keys, and after the signals. */
const END_WAIT_MS = 5000;

const stampOf = (c: { env?: Array<{ name: string; value?: string }> }, key: string) => c.env?.find((e) => e.name === key)?.value;

/** Debug containers this plugin started (env stamp) that still run, with who started them. */
export function runningDebugContainers(pod: V1Pod): Array<{ name: string; user?: string }> {
  return (pod.spec?.ephemeralContainers ?? [])
    .filter((c) => stampOf(c, STAMP_ENV.preset) !== undefined && ephemeralState(pod, c.name).phase === 'running')
    .map((c) => ({ name: c.name, user: stampOf(c, STAMP_ENV.user) }));
}

/**
 * Plans cleanup over the pods found (pure): running debug containers are stopped, pod copies and
 * leftover node debug pods deleted (which ends the sessions inside them). Only the caller's own
 * unless allUsers: a session is someone else's when its stamp names another user; a copy or node
 * debug pod when the sessions in it all do.
 */
export function planCleanup(pods: V1Pod[], me: string | undefined, allUsers: boolean): CleanupPlan {
  const plan: CleanupPlan = { actions: [], othersLeft: [] };
  const mine = (user: string | undefined) => allUsers || user === undefined || user === me;
  for (const pod of pods) {
    const namespace = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const nodePod = pod.metadata?.labels?.[NODE_DEBUG_LABEL] !== undefined;
    if (nodePod || pod.metadata?.labels?.[COPY_LABEL] !== undefined) {
      // A node debug pod's session is its own container; a copy's sessions are its ephemeral containers.
      const sessions = nodePod ? (pod.spec?.containers ?? []) : (pod.spec?.ephemeralContainers ?? []);
      const users = [...new Set(sessions.map((c) => stampOf(c, STAMP_ENV.user)).filter((u): u is string => u !== undefined))];
      const action: CleanupAction = { kind: nodePod ? 'delete-node-pod' : 'delete-copy', namespace, pod: name, ...(users.length ? { user: users.join(',') } : {}) };
      (users.length === 0 || users.some(mine) ? plan.actions : plan.othersLeft).push(action);
      continue;
    }
    for (const c of runningDebugContainers(pod)) {
      const action: CleanupAction = { kind: 'stop-container', namespace, pod: name, container: c.name, ...(c.user ? { user: c.user } : {}) };
      (mine(c.user) ? plan.actions : plan.othersLeft).push(action);
    }
  }
  return plan;
}

/** What happened to one action: done, or left with the reason and the error kind it stands for. */
type Outcome = { done: string } | { left: string; kind: 'forbidden' | 'incomplete' };

/** `kubectl ephemeral cleanup`: stop running debug containers and delete pod copies; fails with what is left. */
export async function runCleanup(ctx: CommandContext, opts: CleanupOptions): Promise<number> {
  if (opts.yes && !opts.allUsers) throw usageError('--yes confirms --all-users; add --all-users or drop --yes');
  const conn = await ctx.connect(opts.kube);
  try {
    const ns = conn.target.namespace;
    const me = await conn.api.whoAmI();
    if (!me && !opts.allUsers)
      throw usageError('cannot tell who you are (the API server has no SelfSubjectReview), so not which sessions are yours; pass --all-users to end every session');
    const pods = await podsInScope(conn, opts, ns);
    const plan = planCleanup(pods, me, opts.allUsers);
    const label = (a: CleanupAction) =>
      a.kind === 'stop-container' ? `debug container ${a.container} of ${a.namespace}/${a.pod}` : `${a.kind === 'delete-copy' ? 'pod copy' : 'node debug pod'} ${a.namespace}/${a.pod}`;
    if (plan.othersLeft.length && !opts.allUsers)
      ctx.printer.info(`note: left alone: ${plan.othersLeft.length} session(s) or copies of other users (${[...new Set(plan.othersLeft.map((a) => a.user))].join(', ')}); --all-users ends them too`);
    if (plan.actions.length === 0) {
      ctx.printer.info(`nothing to clean up: no running debug container started by kubectl-ephemeral${opts.allUsers ? '' : ` as "${me}"`}, no pod copy and no node debug pod`);
    } else if (opts.dryRun) {
      const verb = { 'stop-container': 'stop debug container', 'delete-copy': 'delete pod copy', 'delete-node-pod': 'delete node debug pod' } as const;
      const rows = plan.actions.map((a) => [verb[a.kind], a.namespace, a.pod, a.container ?? '-', a.user ?? '-']);
      ctx.printer.out(formatTable(['ACTION', 'NAMESPACE', 'POD', 'CONTAINER', 'USER'], rows));
    } else {
      const others = plan.actions.filter((a) => a.user !== undefined && a.user !== me);
      if (others.length && !opts.yes && !(await ctx.confirm(`end ${others.length} session(s) or copies of other users (${[...new Set(others.map((a) => a.user))].join(', ')})?`)))
        throw usageError(`--all-users ends other users' live sessions: confirm on the terminal, or pass --yes`);
      const left: Array<{ action: CleanupAction; outcome: Extract<Outcome, { left: string }> }> = [];
      for (const a of plan.actions) {
        const outcome = a.kind === 'stop-container' ? await stopContainer(ctx, conn, opts.kube, a) : await deletePod(conn, a);
        if ('done' in outcome) ctx.printer.out(a.kind === 'stop-container' ? `${label(a)}: ${outcome.done}` : `deleted ${label(a)}`);
        else {
          left.push({ action: a, outcome });
          ctx.printer.info(`left: ${label(a)}: ${outcome.left}`);
        }
      }
      if (left.length) {
        const kind = left.some((l) => l.outcome.kind === 'forbidden') ? 'forbidden' : 'incomplete';
        throw new PluginError(kind, `cleanup left ${left.length} of ${plan.actions.length}: ${left.map((l) => label(l.action)).join(', ')} (why: above)`);
      }
    }
    if (opts.pod && nodeRefName(opts.pod) === undefined) {
      const entries = pods.find((p) => p.metadata?.name === opts.pod)?.spec?.ephemeralContainers?.length ?? 0;
      if (entries > 0)
        ctx.printer.info(
          `note: pod "${opts.pod}" keeps its ${entries} ephemeral container entr${entries === 1 ? 'y' : 'ies'} (terminated ones included) until the pod is replaced: the API forbids removing them`,
        );
    }
    return 0;
  } finally {
    conn.close();
  }
}

/**
 * The pod named (and its copies), node/NAME's node debug pods, else every pod of the namespace or,
 * with -A, of the cluster.
 */
async function podsInScope(conn: Connection, opts: CleanupOptions, ns: string): Promise<V1Pod[]> {
  const pods: V1Pod[] = [];
  const node = opts.pod === undefined ? undefined : nodeRefName(opts.pod);
  if (node !== undefined) {
    await conn.api.listPods(opts.allNamespaces ? undefined : ns, { labelSelector: `${NODE_DEBUG_LABEL}=${labelValue(node)}` }, (page) => pods.push(...page));
  } else if (opts.pod) {
    pods.push(await conn.api.getPod(ns, opts.pod));
    await conn.api.listPods(ns, { labelSelector: `${COPY_LABEL}=${opts.pod.slice(0, 63)}` }, (page) => pods.push(...page));
  } else {
    await conn.api.listPods(opts.allNamespaces ? undefined : ns, {}, (page) => pods.push(...page));
  }
  return pods;
}

async function deletePod(conn: Connection, a: CleanupAction): Promise<Outcome> {
  try {
    await conn.api.deletePod(a.namespace, a.pod);
    return { done: 'deleted' };
  } catch (err) {
    if (err instanceof PluginError && err.kind === 'forbidden') return { left: `you may not delete pods in namespace "${a.namespace}"; ask for the ClusterRole ${ROLES.cleanup}`, kind: 'forbidden' };
    throw err;
  }
}

async function stopContainer(ctx: CommandContext, conn: Connection, flags: KubeFlags, a: CleanupAction): Promise<Outcome> {
  const args = [a.pod, '-c', a.container!, ...kubectlArgs(flags, a.namespace)];
  const ref = { namespace: a.namespace, pod: a.pod, container: a.container!, ephemeral: true };
  const ended = async () => (await waitForContainer(conn, ref, { until: 'terminated', timeoutMs: END_WAIT_MS, now: ctx.now })).state?.phase === 'terminated';
  await ctx.runner.sendKeys(args, END_KEYS, 10_000);
  if (await ended()) return { done: 'ended through attach (Ctrl-C, exit)' };
  const exec = await conn.api.canI(a.namespace, 'create', 'pods', 'exec');
  if (!exec.allowed)
    return { left: `still running: it ignored Ctrl-C and exit, and you may not create pods/exec to signal it; ask for the ClusterRole ${ROLES.cleanup}`, kind: 'forbidden' };
  const killed = await ctx.runner.run(['exec', ...args, '--', 'sh', '-c', KILL_SCRIPT], 15_000);
  if (killed.code !== 0) ctx.printer.debug(`kubectl exec exited ${killed.code}: ${killed.stderr.trim()}`);
  if (await ended()) return { done: 'ended by signalling its processes (exec)' };
  return {
    left: 'still running: its main process ignores INT, TERM and HUP, and as PID 1 of its container it cannot be killed from inside; it ends when the pod is replaced',
    kind: 'incomplete',
  };
}
