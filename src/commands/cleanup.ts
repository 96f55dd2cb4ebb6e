import { spawn } from 'node:child_process';
import type { V1Pod } from '@kubernetes/client-node';
import type { KubeFlags } from '../kube/kube-flags.js';
import { kubectlArgs } from '../kube/kube-flags.js';
import { formatTable } from '../output/printer.js';
import { ephemeralState } from '../plan/container-state.js';
import { STAMP_ENV } from '../plan/debug-container.js';
import { COPY_LABEL } from '../plan/pod-copy.js';
import { labelValue } from '../plan/names.js';
import { NODE_DEBUG_LABEL, nodeRefName } from '../plan/node-debug-pod.js';
import type { CommandContext, Connection } from '../context.js';

/** Options of `kubectl ephemeral cleanup [POD]`. */
export interface CleanupOptions {
  pod?: string;
  allNamespaces: boolean;
  dryRun: boolean;
  kube: KubeFlags;
}

/** One thing cleanup does. */
export interface CleanupAction {
  kind: 'stop-container' | 'delete-copy' | 'delete-node-pod';
  namespace: string;
  pod: string;
  container?: string;
}

/**
 * Ends a debug shell the way a user would: through an attach, Ctrl-C then `exit` on its terminal
 * (twice: bash refuses the first exit when jobs are stopped). Needs only pods/attach, and never
 * touches the target's processes, whose PID namespace the debug container may share.
 */
const END_KEYS = '\x03\x03\rexit\rexit\r';

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

/** Debug containers this plugin started (env stamp) that still run. */
export function runningDebugContainers(pod: V1Pod): string[] {
  return (pod.spec?.ephemeralContainers ?? [])
    .filter((c) => c.env?.some((e) => e.name === STAMP_ENV.preset) && ephemeralState(pod, c.name).phase === 'running')
    .map((c) => c.name);
}

function runKubectl(ctx: CommandContext, args: string[], timeoutMs = 15_000): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(ctx.kubectl, args, { env: ctx.env, stdio: ['ignore', 'ignore', ctx.printer.verbose ? 'inherit' : 'ignore'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', () => resolve(127));
    child.on('close', (code) => (clearTimeout(timer), resolve(code ?? 1)));
  });
}

async function stopContainer(ctx: CommandContext, conn: Connection, flags: KubeFlags, ns: string, pod: string, name: string): Promise<string> {
  const args = [pod, '-c', name, ...kubectlArgs(flags, ns)];
  const stopped = async () => ephemeralState(await conn.api.getPod(ns, pod), name).phase !== 'running';
  const { sendKeysThroughAttach } = await import('../terminal/send-keys.js');
  await sendKeysThroughAttach(ctx.kubectl, args, END_KEYS, ctx.env, 10_000);
  const deadline = ctx.now() + 5000;
  while (ctx.now() < deadline) {
    if (await stopped()) return 'ended through attach (Ctrl-C, exit)';
    await new Promise((r) => setTimeout(r, 300));
  }
  const exec = await conn.api.canI(ns, 'create', 'pods', 'exec');
  if (!exec.allowed) return 'still running: the shell ignored exit and you may not create pods/exec to signal it';
  await runKubectl(ctx, ['exec', ...args, '--', 'sh', '-c', KILL_SCRIPT]);
  for (let i = 0; i < 10; i++) {
    if (await stopped()) return 'ended by signalling its main process (exec)';
    await new Promise((r) => setTimeout(r, 300));
  }
  return 'still running after attach and exec; it ends when its process exits or the pod is replaced';
}

/** `kubectl ephemeral cleanup`: stop running debug containers of a pod and delete pod copies. */
export async function runCleanup(ctx: CommandContext, opts: CleanupOptions): Promise<number> {
  const conn = await ctx.connect(opts.kube);
  try {
    const ns = conn.target.namespace;
    const actions: CleanupAction[] = [];
    let entries = 0;
    // `cleanup node/NAME`: only the node debug pods of that node.
    const node = opts.pod === undefined ? undefined : nodeRefName(opts.pod);
    if (opts.pod && node === undefined) {
      const pod = await conn.api.getPod(ns, opts.pod);
      entries = pod.spec?.ephemeralContainers?.length ?? 0;
      for (const c of runningDebugContainers(pod)) actions.push({ kind: 'stop-container', namespace: ns, pod: opts.pod, container: c });
    }
    const where = opts.allNamespaces ? undefined : ns;
    if (node === undefined) {
      const selector = opts.pod ? `${COPY_LABEL}=${opts.pod.slice(0, 63)}` : COPY_LABEL;
      await conn.api.listPods(where, { labelSelector: selector }, (pods) =>
        pods.forEach((p) => actions.push({ kind: 'delete-copy', namespace: p.metadata!.namespace!, pod: p.metadata!.name! })),
      );
    }
    // Node debug pods outlive their session only when the plugin was killed (SIGKILL, a crash).
    if (!opts.pod || node !== undefined) {
      const selector = node ? `${NODE_DEBUG_LABEL}=${labelValue(node)}` : NODE_DEBUG_LABEL;
      await conn.api.listPods(where, { labelSelector: selector }, (pods) =>
        pods.forEach((p) => actions.push({ kind: 'delete-node-pod', namespace: p.metadata!.namespace!, pod: p.metadata!.name! })),
      );
    }
    const label = { 'stop-container': 'stop debug container', 'delete-copy': 'delete pod copy', 'delete-node-pod': 'delete node debug pod' } as const;
    const rows = actions.map((a) => [label[a.kind], a.namespace, a.pod, a.container ?? '-']);
    if (actions.length === 0) ctx.printer.info('nothing to clean up: no running debug container started by kubectl-ephemeral, no pod copy and no node debug pod');
    else if (opts.dryRun) ctx.printer.out(formatTable(['ACTION', 'NAMESPACE', 'POD', 'CONTAINER'], rows));
    if (!opts.dryRun) {
      for (const a of actions) {
        if (a.kind !== 'stop-container') {
          await conn.api.deletePod(a.namespace, a.pod);
          ctx.printer.out(`deleted ${a.kind === 'delete-copy' ? 'pod copy' : 'node debug pod'} ${a.namespace}/${a.pod}`);
        } else {
          ctx.printer.out(`debug container ${a.container} of ${a.namespace}/${a.pod}: ${await stopContainer(ctx, conn, opts.kube, a.namespace, a.pod, a.container!)}`);
        }
      }
    }
    if (opts.pod && entries > 0)
      ctx.printer.info(
        `note: pod "${opts.pod}" keeps its ${entries} ephemeral container entr${entries === 1 ? 'y' : 'ies'} (terminated ones included) until the pod is replaced: the API forbids removing them`,
      );
    return 0;
  } finally {
    conn.close();
  }
}
