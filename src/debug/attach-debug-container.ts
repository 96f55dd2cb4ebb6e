import { join } from 'node:path';
import type { CommandContext, Connection } from '../context.js';
import { kubectlArgs, type KubeFlags } from '../kube/kube-flags.js';
import { PluginError } from '../errors/plugin-error.js';
import type { AttachSessionOptions, AttachSessionResult } from '../terminal/attach-session.js';
import { requireStarted, waitForContainer } from './wait-for-container.js';
import type { RecordingOptions } from '../terminal/recording.js';
import type { EarlySession } from '../terminal/attach/early-session.js';
import type { HeadStart } from '../terminal/attach/head-start.js';
import { attachArgs } from './attach-ahead.js';

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
   * The container may not run yet, or the kubelet may not have it yet: the attach is tried again
   * while it answers "not found" (see EarlySession); the session's first lines wait for the landing.
   */
  early?: EarlySession;
  /** The first kubectl attach, started ahead of the session (attach-ahead.ts). */
  headStart?: HeadStart;
  /**
   * A command without a terminal: its output comes from the container's log from the first byte
   * (it starts before any attach can reach it), stdin (if any) through an attach that carries only that.
   */
  outputFromLog?: boolean;
  /** A command on a terminal: at the landing, what it printed before is read from its log (see AttachSessionOptions.catchUp). */
  catchUp?: boolean;
  /** Lines to print right before the session's first line (the preset's suggestions). */
  banner?: string;
  /**
   * The session ended with the container still running (detached, or the attach failed): its
   * owner keeps what it would have removed (a pod copy) and says how to clean it up.
   */
  onLeftRunning?: () => void;
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
 * Attaches to a debug container and prints the session's first and last lines (kubectl's own are
 * silenced); resolves with the container's exit code, 0 when it still runs (detached), or kubectl's
 * own code when kubectl failed. A command without a terminal (outputFromLog) has its output read
 * from the container's log from the first byte, and its stdin passed through an attach.
 */
export async function attachDebugContainer(ctx: CommandContext, conn: Connection, flags: KubeFlags, t: AttachTarget): Promise<number> {
  const ns = conn.target.namespace;
  const { printer } = ctx;
  const again = () => reattachCommandLine(ns, t.pod, t.container, flags);
  const { parseDetachKeys, describeDetachKeys } = await import('../terminal/detach-keys.js');
  // A relay of a terminal is what can see the keys; a pipe has none to type.
  const detachKeys = t.tty ? parseDetachKeys(t.detachKeys) : Buffer.alloc(0);
  const recording = await recordingFor(ctx, conn, t);
  // Known once the log is asked for: whether the server keeps stdout and stderr apart.
  let merged = true;
  const how = () =>
    t.ephemeral === false
      ? `exit the shell to end the session and delete pod "${t.pod}"`
      : t.tty
        ? `exit the shell to end it${detachKeys.length ? `, ${describeDetachKeys(detachKeys)} to detach and leave it running` : ''}`
        : t.outputFromLog
          ? `${t.stdin ? 'stdin is passed in, ' : 'no stdin, '}its output from the first byte${merged ? ' (stdout and stderr merged)' : ''} and exit code out`
          : t.stdin
            ? 'stdin is passed in, output and exit code out'
            : 'output only, no stdin';
  const announce = () => {
    if (t.banner) printer.info(t.banner);
    printer.info(`attaching to "${t.container}" of pod "${t.pod}" (${how()})`);
  };
  // An early session says it is attaching when it is: until then the wait's progress line speaks.
  // A command read from its log is announced by followCommand, once it knows whether the streams stay apart.
  if (!t.outputFromLog) {
    if (t.early) t.early.onLanded(announce);
    else announce();
  }
  const attachOptions: AttachSessionOptions = {
    kubectl: ctx.kubectl,
    args: attachArgs(t.pod, t.container, flags, ns),
    env: ctx.env,
    stdin: t.stdin,
    tty: t.tty,
    detachKeys,
    recording,
    verbose: printer.verbose ? (line) => printer.debug(line) : undefined,
    warn: (line) => printer.warn(line),
    early: t.early,
    headStart: t.headStart,
    ...(t.catchUp ? { catchUp: async () => Buffer.from(await conn.api.logs(ns, t.pod, t.container)) } : {}),
  };
  let result: AttachSessionResult;
  try {
    result = t.outputFromLog
      ? await followCommand(ctx, conn, t, attachOptions, (split) => {
          merged = !split;
          announce();
        })
      : await ctx.attach(attachOptions);
  } catch (err) {
    // The recording file is opened before the terminal is touched: a bad path ends here, with the container running.
    const { code, syscall } = err as NodeJS.ErrnoException;
    if (recording && code && (syscall === 'open' || syscall === 'mkdir'))
      throw new PluginError('usage', `cannot record to ${recording.file} (${code}); pass --record=FILE with a new file in a writable directory, or --no-record; container "${t.container}" still runs: ${again()}`, { cause: err });
    throw err;
  }
  if (result.recordingError)
    printer.warn(`warning: the recording ${recording?.file ?? ''} is incomplete: ${result.recordingError.message.split('\n')[0]}`);
  return finishSession(ctx, conn, t, result, again);
}

// The recording a session asks for (said on stderr even under -q: nobody should be recorded without being told).
async function recordingFor(ctx: CommandContext, conn: Connection, t: AttachTarget): Promise<RecordingOptions | undefined> {
  if (t.record === false) return undefined;
  const { defaultSessionsDir, defaultRecordingFileName } = await import('../terminal/recording.js');
  const file = typeof t.record === 'string' ? t.record : join(defaultSessionsDir(ctx.env), defaultRecordingFileName(t.pod, t.container, new Date(ctx.now())));
  const { target } = conn;
  const header = { cluster: target.clusterName, context: target.contextName, namespace: target.namespace, pod: t.pod, container: t.container, preset: t.preset ?? '', image: t.image ?? '', user: t.user ?? '' };
  ctx.printer.warn(`this session is recorded to ${file} (${t.recordInput ? 'output and keystrokes' : 'output only; --record-input adds keystrokes'})`);
  return { file, input: t.recordInput, header: { ...header, ...(t.node ? { node: t.node } : {}) } };
}

// A command without a terminal: the log from the first byte to stdout, stdin (if any) through an
// attach that carries nothing else. The result reads like an attach's: 0, or 128 + the signal that
// interrupted it; `end` says whether stdin could be passed in.
async function followCommand(ctx: CommandContext, conn: Connection, t: AttachTarget, attach: AttachSessionOptions, announce: (split: boolean) => void): Promise<AttachSessionResult> {
  const ns = conn.target.namespace;
  const stop = new AbortController();
  // stdout and stderr apart where the server serves the choice; else the one merged log.
  const [out, errors] = await Promise.all([conn.api.followLogs(ns, t.pod, t.container, stop.signal, 'Stdout'), conn.api.followLogs(ns, t.pod, t.container, stop.signal, 'Stderr')]);
  const split = out !== undefined && errors !== undefined;
  if (!split) [out, errors].forEach((l) => l?.destroy());
  const log = split ? out : await conn.api.followLogs(ns, t.pod, t.container, stop.signal);
  if (!log) throw new PluginError('internal', `the log of container "${t.container}" of pod "${t.pod}" could not be followed`);
  announce(split);
  const stdin = t.stdin ? ctx.attach({ ...attach, stdinOnly: true, recording: undefined, early: undefined }) : undefined;
  // Ended by the container; the attach ends with it.
  stdin?.catch(() => undefined);
  const { runCommandSession } = await import('../terminal/command-session.js');
  const verbose = ctx.printer.verbose ? (line: string) => ctx.printer.debug(line) : undefined;
  const r = await runCommandSession({ log, ...(split ? { errors } : {}), attach: stdin, recording: attach.recording, env: ctx.env, verbose });
  stop.abort();
  const result: AttachSessionResult = { exitCode: r.interrupted ?? 0, logOnly: true };
  if (r.attach?.end?.kind === 'failed') result.stdinFailed = r.attach.end.message;
  if (r.recordingError) result.recordingError = r.recordingError;
  return result;
}

// After the session: the container's exit code from its status, or what is left running, in the
// plugin's words (kubectl's own lines never reach the user).
async function finishSession(ctx: CommandContext, conn: Connection, t: AttachTarget, result: AttachSessionResult, again: () => string): Promise<number> {
  const ns = conn.target.namespace;
  const { printer } = ctx;
  const end = result.end;
  // The container will not run (the wait that said so reports why): no session, no last line.
  if (result.cancelled) return 0;
  // Left before any attach landed (Ctrl-C, a signal): the debug flow ends the container and says so.
  const abandoned = end?.kind === 'abandoned' ? t.early?.abandon() : undefined;
  if (abandoned) return abandoned;
  if (end?.kind === 'abandoned') throw new PluginError('cancelled', `cancelled before the session attached to container "${t.container}" of pod "${t.pod}"; it keeps running: ${again()}`);
  if (result.detached) {
    // The keys leave the cursor after the shell's prompt: the line starts on a line of its own.
    printer.info(`\ndetached; container "${t.container}" is still running; attach again with: ${again()}`);
    t.onLeftRunning?.();
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
    if (!result.logOnly && (result.notFound !== undefined || result.exitCode !== 0)) {
      printer.info(`container "${t.container}" ended before an attach could reach it; its output:`);
      printer.out(await conn.api.logs(ns, t.pod, t.container));
    }
    printer.info(`container "${t.container}" exited with code ${state.exitCode}${state.reason && !['Completed', 'Error'].includes(state.reason) ? ` (${state.reason})` : ''}`);
    return state.exitCode;
  }
  const failed = end?.kind === 'failed' || end?.kind === 'not-found' ? end.message.replace(/^error: /, '') : result.stdinFailed?.replace(/^error: /, '');
  const where = `container "${t.container}" of pod "${t.pod}"`;
  // A node session's pod is deleted next: attaching again is no option there.
  const next = t.ephemeral === false ? '' : `; attach again with: ${again()}`;
  if (failed !== undefined) {
    const what = end?.kind === 'not-found' ? 'the kubelet did not find it in time' : result.stdinFailed !== undefined ? 'its stdin could not be passed in' : 'kubectl attach failed';
    // Still running: its owner keeps what "attach again" needs (a pod copy) before the error ends the run.
    if (t.ephemeral !== false) t.onLeftRunning?.();
    throw new PluginError('tool-failed', `could not attach to ${where}: ${what} (kubectl: ${failed}); it is still running${next}`);
  }
  if (t.ephemeral === false) return result.exitCode;
  printer.info(`container "${t.container}" is still running${result.exitCode ? ` (kubectl attach failed with code ${result.exitCode})` : ''}${next}`);
  t.onLeftRunning?.();
  return result.exitCode;
}
