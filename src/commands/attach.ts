import type { KubeFlags } from '../kube/kube-flags.js';
import { ContainerExit, PluginError } from '../errors/plugin-error.js';
import { describeState, ephemeralState } from '../plan/container-state.js';
import { STAMP_ENV } from '../plan/debug-container.js';
import { attachDebugContainer } from '../debug/attach-debug-container.js';
import type { CommandContext } from '../context.js';
import { quietPrinter } from '../output/printer.js';
import type { SessionFlags } from '../debug/session-streams.js';

/** Options of `kubectl ephemeral attach POD [CONTAINER]`. */
export interface AttachOptions extends SessionFlags {
  pod: string;
  container?: string;
  kube: KubeFlags;
}

/** `kubectl ephemeral attach`: attach again to a running debug container instead of piling up new ones. */
export async function runAttach(ctx: CommandContext, opts: AttachOptions): Promise<number> {
  if (opts.quiet) ctx = { ...ctx, printer: quietPrinter(ctx.printer) };
  const conn = await ctx.connect(opts.kube);
  try {
    const ns = conn.target.namespace;
    const pod = await conn.api.getPod(ns, opts.pod);
    const all = pod.spec?.ephemeralContainers ?? [];
    const running = all.filter((c) => ephemeralState(pod, c.name).phase === 'running');
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
    const state = ephemeralState(pod, name);
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
      record: opts.record ?? false,
      recordInput: opts.recordInput,
      stdin: container.stdin === true,
      tty: container.tty === true,
      detachKeys: opts.detachKeys,
    });
    if (code !== 0) throw new ContainerExit(code);
    return 0;
  } finally {
    conn.close();
  }
}
