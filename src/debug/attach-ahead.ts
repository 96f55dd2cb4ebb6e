import type { CommandContext, Connection } from '../context.js';
import { kubectlArgs, type KubeFlags } from '../kube/kube-flags.js';
import { debugContainerName } from '../plan/names.js';
import { parsePodRef } from '../plan/workload-ref.js';
import type { HeadStart } from '../terminal/attach/head-start.js';
import type { DebugRequest } from './request.js';

/** How a pod session meets its container, decided from the request alone. */
export interface SessionShape {
  /**
   * The preset's own shell waits for its stdin: it can be attached the moment the runtime runs it.
   * Not with --no-attach: what it prints next (the container's name) is for commands that read the
   * pod status (cleanup, list, kubectl get), which says running only at the kubelet's next relist.
   */
  waitsForStdin: boolean;
  /** A command of the user's: on a terminal too its output before the landing comes from its log. */
  userCommand: boolean;
  /** The session begins with the PATCH (an early session), while the container starts. */
  early: boolean;
}

/** The one reading of a request's session shape (the debug flow's and the attach started ahead's). */
export function sessionShape(req: DebugRequest): SessionShape {
  const stdin = req.container.stdin !== false;
  const tty = req.container.tty !== false;
  const attach = req.session.attach;
  const waitsForStdin = attach && stdin && !req.container.command?.length && req.preset.command !== undefined;
  const userCommand = (req.container.command?.length ?? 0) > 0;
  return { waitsForStdin, userCommand, early: tty && attach && (waitsForStdin || userCommand) };
}

/** The kubectl arguments of a session's attach (less the -i/-t/--quiet the session adds). */
export function attachArgs(pod: string, container: string, flags: KubeFlags, namespace: string): string[] {
  return ['attach', pod, '-c', container, ...kubectlArgs(flags, namespace)];
}

/**
 * The session's kubectl attach, started while the run waits for its credential (an exec plugin or
 * an OIDC refresh; see terminal/attach/head-start.ts), for an early session on a terminal to a pod
 * named as such, under the container name the plan will give (`suffix` is the plan's); that
 * kubectl gets the credential through the child connection's relay. Undefined where no session of
 * that shape can follow, and where the run waits for no credential (the attach then starts with the
 * PATCH: started now, it would only compete with the run's first requests).
 */
export async function attachAhead(ctx: CommandContext, conn: Connection, req: DebugRequest, suffix: string): Promise<HeadStart | undefined> {
  if (!ctx.attachAhead || !ctx.isTerminal.stdin || req.dryRun || req.copy || req.pod === undefined || !sessionShape(req).early) return undefined;
  const ref = podRef(req.pod);
  const ahead = req.kube.spawnConnection?.kubeconfigFileAhead;
  if (!ref || !ahead) return undefined;
  const kubeconfig = await ahead.call(req.kube.spawnConnection);
  if (!kubeconfig) return undefined;
  const name = req.container.name ?? debugContainerName(req.preset.name, suffix);
  // Its own kubeconfig (the relay's), standing for the one the session's attach will name.
  const argsWith = (file: string) => attachArgs(ref, name, { ...req.kube, spawnConnection: { kubeconfigFile: () => file } }, conn.target.namespace);
  const verbose = ctx.printer.verbose ? (line: string) => ctx.printer.debug(line) : undefined;
  return ctx.attachAhead({ kubectl: ctx.kubectl, args: argsWith(kubeconfig.file), standsFor: argsWith(kubeconfig.standsFor), env: ctx.env, verbose });
}

function podRef(text: string): string | undefined {
  try {
    const ref = parsePodRef(text);
    return ref.kind === 'pod' ? ref.name : undefined;
  } catch {
    return undefined;
  }
}
