import { join } from 'node:path';
import type { CommandContext, Connection } from '../context.js';
import { kubectlArgs, type KubeFlags } from '../kube/kube-flags.js';
import { waitForContainer } from './wait-for-container.js';
import type { RecordingOptions } from '../terminal/recording.js';

/** Who and what a session attaches to. */
export interface AttachTarget {
  pod: string;
  container: string;
  preset?: string;
  image?: string;
  user?: string;
  /** --record[=FILE]: true for the default file, a path, or false. */
  record: boolean | string;
  /** False for a regular container (a node session's pod); ephemeral otherwise. */
  ephemeral?: boolean;
  /** The node a node session debugs, named in the recording. */
  node?: string;
}

/**
 * The command a user can paste to attach again. It carries every flag that chose the cluster and
 * the identity: without --kubeconfig or --as it would reach another cluster or another user.
 */
export function attachCommand(namespace: string, pod: string, container: string, flags: KubeFlags): string {
  return pasteableCommand(['kubectl', 'ephemeral', 'attach', pod, container], namespace, flags);
}

/** A kubectl command line to paste, with the flags that chose the cluster and identity (less the per-run ones: timeout, log level). */
export function pasteableCommand(words: string[], namespace: string, flags: KubeFlags): string {
  return [...words, ...kubectlArgs({ ...flags, requestTimeout: undefined, verbosity: 0 }, namespace, { display: true })].map(shellQuote).join(' ');
}

/** Quotes a word for a POSIX shell only when it needs it (a kubeconfig path with a space, say). */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

// How long the kubelet gets to report a container ended after its attach stream closed (PLEG
// relist every second, then the status sync; measured 0.5-1.5 s on the local node).
const EXIT_STATUS_WAIT_MS = 5000;

/**
 * Spawns `kubectl attach` for a debug container through the terminal relay; resolves with the
 * container's exit code (kubectl's own when kubectl failed).
 */
export async function attachDebugContainer(ctx: CommandContext, conn: Connection, flags: KubeFlags, t: AttachTarget): Promise<number> {
  const ns = conn.target.namespace;
  let recording: RecordingOptions | undefined;
  if (t.record !== false) {
    const { defaultSessionsDir, defaultRecordingFileName } = await import('../terminal/recording.js');
    const file = typeof t.record === 'string' ? t.record : join(defaultSessionsDir(ctx.env), defaultRecordingFileName(t.pod, t.container, new Date(ctx.now())));
    recording = {
      file,
      header: {
        cluster: conn.target.clusterName,
        context: conn.target.contextName,
        namespace: ns,
        pod: t.pod,
        container: t.container,
        preset: t.preset ?? '',
        image: t.image ?? '',
        user: t.user ?? '',
        ...(t.node ? { node: t.node } : {}),
      },
    };
    ctx.printer.info(`recording this session to ${file}`);
  }
  const { exitCode } = await ctx.attach({
    kubectl: ctx.kubectl,
    args: ['attach', t.pod, '-c', t.container, ...kubectlArgs(flags, ns)],
    env: ctx.env,
    recording,
    verbose: ctx.printer.verbose ? (line) => ctx.printer.debug(line) : undefined,
  });
  if (exitCode !== 0) return exitCode;
  // kubectl attach exits 0 however the shell ended (`exit 3` included): the exit code is in the pod status.
  const { state } = await waitForContainer(conn, { pod: t.pod, container: t.container, ephemeral: t.ephemeral ?? true }, { until: 'terminated', timeoutMs: EXIT_STATUS_WAIT_MS, now: ctx.now });
  if (state?.phase === 'terminated') return state.exitCode;
  // A node session's pod is deleted next: attaching again is no option there.
  if (t.ephemeral === false) return 0;
  ctx.printer.info(`container "${t.container}" is still running; attach again with: ${attachCommand(ns, t.pod, t.container, flags)}`);
  return 0;
}
