import type { V1EphemeralContainer } from '@kubernetes/client-node';
import type { CommandContext, Connection } from '../context.js';
import { ContainerExit } from '../errors/plugin-error.js';
import { describeState, type ContainerState } from '../plan/container-state.js';
import { reattachCommandLine, attachDebugContainer } from './attach-debug-container.js';
import type { DebugRequest } from './request.js';
import { EarlySession } from '../terminal/attach/early-session.js';
import type { HeadStart } from '../terminal/attach/head-start.js';

/** Where a session runs besides an ephemeral container: a node session's own pod. */
export interface SessionPlace {
  /** False for a regular container (a node debug pod's). */
  ephemeral?: boolean;
  /** The node of a node session, for the recording. */
  node?: string;
  /**
   * The session begins while the container may still be starting (the debug flow's EarlySession);
   * its banner and first line are printed when the attach lands.
   */
  early?: EarlySession;
  /** Its first kubectl attach, started ahead of it (see AttachSessionOptions.headStart). */
  headStart?: HeadStart;
  /** The session ended with its container running (see AttachTarget.onLeftRunning). */
  onLeftRunning?: () => void;
}

/** The started debug container a session enters. */
export interface SessionContainer {
  pod: string;
  container: V1EphemeralContainer;
  state: ContainerState;
  /** Who created it, for the recording. */
  user: string | undefined;
}

/** Attaches to a started debug container (or prints how to), passing the session's exit code through. */
export async function enterSession(ctx: CommandContext, conn: Connection, req: DebugRequest, at: SessionContainer, place: SessionPlace = {}): Promise<number> {
  const { pod, container, state, user } = at;
  const { preset, session: opts } = req;
  const ns = conn.target.namespace;
  const cmd = reattachCommandLine(ns, pod, container.name, req.kube);
  if (!opts.attach) {
    ctx.printer.out(container.name);
    ctx.printer.info(`attach with: ${cmd}`);
    return 0;
  }
  // A command (or a program without stdin) starts with its container, before any attach can reach
  // it: without a terminal its output comes from the log, from the first byte, as it is written.
  const fromLog = container.tty !== true && ((req.container.command?.length ?? 0) > 0 || container.stdin !== true);
  if (state.phase === 'terminated' && !fromLog) {
    ctx.printer.info(`container "${container.name}" already exited (${describeState(state)}); its output:`);
    ctx.printer.out(await conn.api.logs(ns, pod, container.name));
    if (state.exitCode !== 0) throw new ContainerExit(state.exitCode);
    return 0;
  }
  // The banner suggests commands to type: for a terminal, not for a script.
  const lines = place.node ? (preset.node?.banner ?? []) : preset.banner;
  const banner = lines.length && container.tty ? `${preset.name}: try\n${lines.map((l) => `  ${l}`).join('\n')}` : undefined;
  const record = opts.record ?? preset.record;
  const code = await attachDebugContainer(ctx, conn, req.kube, {
    pod,
    container: container.name,
    preset: preset.name,
    image: container.image,
    user,
    record,
    recordInput: opts.recordInput,
    // Ended already: nothing left to read stdin.
    stdin: container.stdin === true && state.phase !== 'terminated',
    tty: container.tty === true,
    // A node session's pod is deleted when the session ends: there is nothing to detach from.
    detachKeys: place.node ? '' : opts.detachKeys,
    banner,
    outputFromLog: fromLog,
    // On a terminal it keeps the attach (and its speed); what came before the attach, from the log.
    catchUp: container.tty === true && (req.container.command?.length ?? 0) > 0,
    ...place,
    // Just added: a kubectl attach that comes before the kubelet has it is tried again.
    early: place.early ?? EarlySession.running(),
  });
  if (code !== 0) throw new ContainerExit(code);
  return 0;
}
