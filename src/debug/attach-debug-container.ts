import { join } from 'node:path';
import type { CommandContext, Connection } from '../context.js';
import { kubectlArgs, type KubeFlags } from '../kube/kube-flags.js';
import { EXIT_CODES, PluginError } from '../errors/plugin-error.js';
import { requireStarted, waitForContainer } from './wait-for-container.js';
import type { RecordingOptions } from '../terminal/recording.js';

/** Who and what a session attaches to, and how. */
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
  /** --record-input: keystrokes go into the recording too. */
  recordInput: boolean;
  /** The container's own stdin and tty fields: what the session can attach to. */
  stdin: boolean;
  tty: boolean;
  /** --detach-keys, docker's format; '' disables. */
  detachKeys: string;
  /**
   * The container was just added: the attach is tried again while the kubelet does not have it
   * yet. `started` settles with whether it runs (the wait for it, going on meanwhile); a session
   * can begin before. onLanded: the attach landed (the wait's progress line goes).
   */
  early?: { started: Promise<boolean>; onLanded?: () => void; onAbandoned?: () => Promise<number> };
  /** Lines to print right before the session's first line (the preset's suggestions). */
  banner?: string;
}

/**
 * The command a user can paste to attach again. It carries every flag that chose the cluster and
 * the identity: without --kubeconfig or --as it would reach another cluster or another user.
 */
export function reattachCommandLine(namespace: string, pod: string, container: string, flags: KubeFlags): string {
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
// relist every second, then the status sync; measured 0.5-1.5 s on the local node, up to ~2 s with
// other suites loading it). Only a session that ended while its container runs waits this long, and
// the last line must not call an ended container running.
const EXIT_STATUS_WAIT_MS = 10_000;

/**
 * Spawns `kubectl attach` for a debug container through the terminal relay and prints the
 * session's first and last lines (kubectl's own are silenced); resolves with the container's exit
 * code, 0 when it still runs (detached), or kubectl's own code when kubectl failed.
 */
export async function attachDebugContainer(ctx: CommandContext, conn: Connection, flags: KubeFlags, t: AttachTarget): Promise<number> {
  const ns = conn.target.namespace;
  const { printer } = ctx;
  const again = () => reattachCommandLine(ns, t.pod, t.container, flags);
  const { parseDetachKeys, describeDetachKeys } = await import('../terminal/detach-keys.js');
  // A relay of a terminal is what can see the keys; a pipe has none to type.
  const detachKeys = t.tty ? parseDetachKeys(t.detachKeys) : Buffer.alloc(0);
  let recording: RecordingOptions | undefined;
  if (t.record !== false) {
    const { defaultSessionsDir, defaultRecordingFileName } = await import('../terminal/recording.js');
    const file = typeof t.record === 'string' ? t.record : join(defaultSessionsDir(ctx.env), defaultRecordingFileName(t.pod, t.container, new Date(ctx.now())));
    recording = {
      file,
      input: t.recordInput,
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
    // Said even under -q: nobody should be recorded without being told.
    printer.warn(`this session is recorded to ${file} (${t.recordInput ? 'output and keystrokes' : 'output only; --record-input adds keystrokes'})`);
  }
  const how =
    t.ephemeral === false
      ? `exit the shell to end the session and delete pod "${t.pod}"`
      : t.tty
        ? `exit the shell to end it${detachKeys.length ? `, ${describeDetachKeys(detachKeys)} to detach and leave it running` : ''}`
        : t.stdin
          ? 'stdin is passed in, output and exit code out'
          : 'output only, no stdin';
  const announce = () => {
    if (t.banner) printer.info(t.banner);
    printer.info(`attaching to "${t.container}" of pod "${t.pod}" (${how})`);
  };
  // An early session says it is attaching when it is: until then the wait's progress line speaks.
  if (!t.early) announce();
  let landed = !t.early;
  const early = t.early && {
    started: t.early.started,
    onLanded: () => {
      landed = true;
      t.early?.onLanded?.();
      announce();
    },
  };
  let result: { exitCode: number; detached?: boolean; recordingError?: Error; cancelled?: boolean; notFound?: string };
  try {
    result = await ctx.attach({
      kubectl: ctx.kubectl,
      args: ['attach', t.pod, '-c', t.container, ...kubectlArgs(flags, ns)],
      env: ctx.env,
      stdin: t.stdin,
      tty: t.tty,
      detachKeys,
      recording,
      verbose: printer.verbose ? (line) => printer.debug(line) : undefined,
      warn: (line) => printer.warn(line),
      early,
    });
  } catch (err) {
    // The recording file is opened before the terminal is touched: a bad path ends here, with the container running.
    const { code, syscall } = err as NodeJS.ErrnoException;
    if (recording && code && (syscall === 'open' || syscall === 'mkdir'))
      throw new PluginError('usage', `cannot record to ${recording.file} (${code}); pass --record=FILE with a new file in a writable directory, or --no-record; container "${t.container}" still runs: ${again()}`, { cause: err });
    throw err;
  }
  // The container will not run (the wait that said so reports why): no session, no last line.
  if (result.cancelled) return 0;
  // Left before any attach landed (Ctrl-C, a signal): the container is ended, and that says so.
  if (!landed && ctx.signal.aborted) return t.early?.onAbandoned?.() ?? EXIT_CODES.cancelled;
  if (result.recordingError)
    printer.warn(`warning: the recording ${recording?.file ?? ''} is incomplete: ${result.recordingError.message.split('\n')[0]}`);
  if (result.detached) {
    // The keys leave the cursor after the shell's prompt: the line starts on a line of its own.
    printer.info(`\ndetached; container "${t.container}" is still running; attach again with: ${again()}`);
    return 0;
  }
  // kubectl attach exits 0 however the shell ended (`exit 3` included): the exit code is in the pod status.
  const ref = { pod: t.pod, container: t.container, ephemeral: t.ephemeral ?? true };
  const waited = await waitForContainer(conn, ref, { until: 'terminated', timeoutMs: EXIT_STATUS_WAIT_MS, now: ctx.now });
  const { state } = waited;
  // Attached early, to a container the runtime then could not start (its command missing in the
  // image): the kubelet's reason, as when the wait saw it first.
  if (state?.phase === 'waiting') requireStarted(waited, ref, ns, t.image);
  if (state?.phase === 'terminated') {
    // No attach got through (the container ended first): what it printed is in its log.
    if (result.notFound !== undefined || result.exitCode !== 0) {
      printer.info(`container "${t.container}" ended before an attach could reach it; its output:`);
      printer.out(await conn.api.logs(ns, t.pod, t.container));
    }
    printer.info(`container "${t.container}" exited with code ${state.exitCode}${state.reason && !['Completed', 'Error'].includes(state.reason) ? ` (${state.reason})` : ''}`);
    return state.exitCode;
  }
  // The attach gave up on "not found" while the container still runs: kubectl's word for it.
  if (result.notFound !== undefined) printer.warn(result.notFound);
  // A node session's pod is deleted next: attaching again is no option there.
  if (t.ephemeral === false) return result.exitCode;
  printer.info(`container "${t.container}" is still running${result.exitCode ? ` (kubectl attach failed with code ${result.exitCode})` : ''}; attach again with: ${again()}`);
  return result.exitCode;
}
