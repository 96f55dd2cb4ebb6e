import type { CommandContext, Connection } from '../context.js';
import { kubectlArgs, type KubeFlags } from '../kube/kube-flags.js';
import { waitForContainer, type ContainerRef } from './wait-for-container.js';

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

/** How stopping went: ended (and how), or still running because pods/exec is refused, or because its main process ignores the signals. */
export type StopOutcome = { done: string } | { why: 'no-exec' | 'ignores-signals' };

/**
 * Stops a running debug container (the one way the plugin does it: cleanup, and a container the
 * user left before attaching): the keys through an attach, then signals through an exec.
 */
export async function stopDebugContainer(ctx: CommandContext, conn: Connection, flags: KubeFlags, ref: ContainerRef & { namespace: string }): Promise<StopOutcome> {
  const args = [ref.pod, '-c', ref.container, ...kubectlArgs(flags, ref.namespace)];
  const ended = async () => (await waitForContainer(conn, ref, { until: 'terminated', timeoutMs: END_WAIT_MS, now: ctx.now })).state?.phase === 'terminated';
  await ctx.runner.sendKeys(args, END_KEYS, 10_000);
  if (await ended()) return { done: 'ended through attach (Ctrl-C, exit)' };
  const exec = await conn.api.canI(ref.namespace, 'create', 'pods', 'exec');
  if (!exec.allowed) return { why: 'no-exec' };
  const killed = await ctx.runner.run(['exec', ...args, '--', 'sh', '-c', KILL_SCRIPT], 15_000);
  if (killed.code !== 0) ctx.printer.debug(`kubectl exec exited ${killed.code}: ${killed.stderr.trim()}`);
  if (await ended()) return { done: 'ended by signalling its processes (exec)' };
  return { why: 'ignores-signals' };
}
