import type { KubeFlags } from '../kube/kube-flags.js';
import { ContainerExit, PluginError } from '../errors/plugin-error.js';
import { describeState, ephemeralState, FATAL_WAITING_REASONS, type ContainerState } from '../plan/container-state.js';
import { requireStarted, waitForContainer } from '../debug/wait-for-container.js';
import { STAMP_ENV } from '../plan/debug-container.js';
import { attachDebugContainer } from '../debug/attach-debug-container.js';
import { EarlySession } from '../terminal/attach/early-session.js';
import type { CommandContext } from '../context.js';
import { quietPrinter } from '../output/printer.js';
import type { SessionFlags } from '../debug/session-streams.js';

/** Options of `kubectl ephemeral attach POD [CONTAINER]`. */
export interface AttachOptions extends SessionFlags {
  pod: string;
  container?: string;
  kube: KubeFlags;
}

// How long attach waits for a container that is still being started.
const START_WAIT_MS = 60_000;

/** Running, or on its way there: no status yet, or waiting for a reason that is not a failure. */
function startingOrRunning(state: ContainerState): boolean {
  if (state.phase === 'running' || state.phase === 'absent') return true;
  return state.phase === 'waiting' && !FATAL_WAITING_REASONS.has(state.reason);
}

/** `kubectl ephemeral attach`: attach again to a running debug container instead of piling up new ones. */
export async function runAttach(ctx: CommandContext, opts: AttachOptions): Promise<number> {
  if (opts.quiet) ctx = { ...ctx, printer: quietPrinter(ctx.printer) };
  const conn = await ctx.connect(opts.kube);
  try {
    const ns = conn.target.namespace;
    // The recording's header names who attached (as a new session's does).
    const [pod, user] = await Promise.all([conn.api.getPod(ns, opts.pod), opts.record ? conn.api.whoAmI().catch(() => undefined) : undefined]);
    const all = pod.spec?.ephemeralContainers ?? [];
    // A container added a moment ago (--no-attach returns as soon as the kubelet runs it) may still
    // say ContainerCreating, or have no status yet: it counts as running, and is waited for below.
    const running = all.filter((c) => startingOrRunning(ephemeralState(pod, c.name)));
    let name = opts.container;
    if (!name) {
      if (running.length !== 1)
        throw new PluginError(
          'usage',
          running.length === 0
            ? `pod "${opts.pod}" has no running ephemeral container; start one with kubectl ephemeral <preset> ${opts.pod}`
            : `pod "${opts.pod}" has ${running.length} running ephemeral containers (${running.map((c) => c.name).join(', ')}); name one: kubectl ephemeral attach ${opts.pod} NAME`,
        );
      name = running[0]!.name;
    }
    const container = all.find((c) => c.name === name);
    if (!container)
      throw new PluginError('not-found', `ephemeral container "${name}" not found in pod "${opts.pod}"; list them with kubectl ephemeral list ${opts.pod}`);
    let state = ephemeralState(pod, name);
    if (state.phase !== 'running' && startingOrRunning(state)) {
      ctx.printer.info(`waiting for container "${name}": ${describeState(state)}`);
      const ref = { pod: opts.pod, container: name, ephemeral: true };
      const waited = await waitForContainer(conn, ref, {
        until: 'started',
        timeoutMs: START_WAIT_MS,
        now: ctx.now,
        resourceVersion: pod.metadata?.resourceVersion,
        signal: ctx.signal,
        // As for a new session: attachable once the runtime runs it (never probed with stdinOnce).
        startedEarly: container.stdin && !container.stdinOnce ? { attachable: () => conn.api.attachable(ns, opts.pod, name, container.tty === true) } : undefined,
      });
      state = requireStarted(waited, ref, ns, container.image);
    }
    if (state.phase !== 'running')
      throw new PluginError('usage', `ephemeral container "${name}" of pod "${opts.pod}" is ${describeState(state)} and cannot be attached; start a new one`);
    const preset = container.env?.find((e) => e.name === STAMP_ENV.preset)?.value;
    // kubectl attach to a TTY container from a pipe ends in "error stream protocol error".
    if (container.tty && !ctx.isTerminal.stdin)
      throw new PluginError('usage', `ephemeral container "${name}" of pod "${opts.pod}" has a TTY and stdin is not a terminal; attach from a terminal, or pipe into a new session (kubectl ephemeral <preset> ${opts.pod} < FILE)`);
    const code = await attachDebugContainer(ctx, conn, opts.kube, {
      pod: opts.pod,
      container: name,
      preset,
      image: container.image,
      user,
      record: opts.record ?? false,
      recordInput: opts.recordInput,
      stdin: container.stdin === true,
      tty: container.tty === true,
      detachKeys: opts.detachKeys,
      early: EarlySession.running(),
    });
    if (code !== 0) throw new ContainerExit(code);
    return 0;
  } finally {
    conn.close();
  }
}
