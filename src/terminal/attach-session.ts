// Runs `kubectl attach` for the user. With a terminal on stdin, kubectl runs under a pty of ours and
// every byte is relayed through this process: that is what lets us record the session, put the
// user's terminal back however the session ends, and report kubectl's exit code as our own. The
// relay's protocol is the pure machine in attach/machine.ts; attach/pty.ts runs it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { EarlySession } from './attach/early-session';
import { HeadStart } from './attach/head-start';
import { dropKubectlNoise, kubectlMessage, StderrTail } from './attach/kubectl-output';
import { runInPty } from './attach/pty';
import type { AttachEnd } from './attach/machine';
import { DEFAULT_TIMING, type AttachTimers, type AttachTiming } from './attach/timing';
import { describe, FORWARDED_SIGNALS, terminalSize, waitForDrain, withAttachFlags } from './attach/terminal-io';
import { loadPty } from './pty-loader';
import { AsciicastWriter, type RecordingOptions } from './recording';

export { withAttachFlags } from './attach/terminal-io';
export { dropKubectlNoise, mayBeKubectlFailure } from './attach/kubectl-output';

/** What to attach to and through which streams. */
export interface AttachSessionOptions {
  /** Path of kubectl. */
  kubectl: string;
  /** kubectl arguments, e.g. ['attach', POD, '-c', NAME, '-n', NS]; -i/-t/--quiet are added here. */
  args: string[];
  /** Pass our stdin to the container (kubectl attach -i); default true. */
  stdin?: boolean;
  /** Relay a terminal (kubectl attach -t under a pty of ours); default: whether input is a TTY. */
  tty?: boolean;
  /**
   * Without a terminal: the attach only carries stdin in; kubectl's stdout and stderr are dropped
   * (the caller reads the container's output from its log, from the first byte), and a failure of
   * kubectl's is returned as `failed`, never shown.
   */
  stdinOnly?: boolean;
  /** Typed on a terminal, these bytes leave the session with the container running; empty or absent: never. */
  detachKeys?: Buffer;
  env?: NodeJS.ProcessEnv;
  /** Defaults to process.stdin; whether it is a TTY picks the mode. */
  input?: NodeJS.ReadStream;
  /** Defaults to process.stdout. */
  output?: NodeJS.WriteStream;
  recording?: RecordingOptions;
  /** The -v logger (stderr); never called for things the user must see. */
  verbose?: (line: string) => void;
  /** Lines the user must see before the session starts (a recording that cannot happen). */
  warn?: (line: string) => void;
  /**
   * Attaching to a container that may not run yet (see EarlySession and attach/machine.ts). On a
   * terminal relay, kubectl attach starts at once (and a spare beside it), attempts the kubelet
   * answers "container ... not found" are run again unseen, and the user's terminal is taken only
   * when one lands. Without the relay (a pipe's bytes, once read by a kubectl that failed, cannot be
   * given to the next one) the attach starts once the container is known to run.
   */
  early?: EarlySession;
  /**
   * A command on a terminal prints from its start, before any attach lands: this reads the
   * container's log so far, and what it holds before the attach's first bytes is written first.
   */
  catchUp?: () => Promise<Buffer>;
  /**
   * The session's first kubectl attach, started ahead of it (startAttachAhead): the terminal relay
   * takes it as its first attempt when its command line is the session's; otherwise it is killed.
   */
  headStart?: HeadStart;
  /** The machine's clock, for tests and far servers; defaults: DEFAULT_TIMING and the early session's round trip. */
  timing?: Partial<AttachTiming>;
  /** Where the terminal relay's timers run; default: the real clock (a test holds some and fires them itself). */
  timers?: AttachTimers;
}

/** How a session ended. */
export interface AttachSessionResult {
  /** kubectl's exit code, or 128 + signal number when it was killed; 0 after a detach. */
  exitCode: number;
  /** The user typed the detach keys: kubectl was ended, the container still runs. */
  detached?: boolean;
  /** Set when a requested recording failed or was impossible; the session itself still ran. */
  recordingError?: Error;
  /** early.started said the container will not run: no attach landed, nothing was relayed. */
  cancelled?: boolean;
  /**
   * An early attach gave up on "container ... not found": kubectl's message, not shown (the
   * container may have run and ended before any attach landed: its output is the caller's to show).
   */
  notFound?: string;
  /** The terminal relay's (or a stdin-only attach's) end as the machine tells it; see AttachEnd. */
  end?: AttachEnd;
  /** A command session whose output came from the log (nothing is left to print from it). */
  logOnly?: boolean;
  /** That session's stdin attach failed: kubectl's message (its stdin never reached the command). */
  stdinFailed?: string;
}

/** A session's kubectl attach started ahead of it: its command line, and the session's it stands for. */
export interface AttachAheadOptions extends Pick<AttachSessionOptions, 'kubectl' | 'args' | 'env' | 'input' | 'output' | 'verbose'> {
  /** The arguments of the session it is for (default: args), where they differ only in a file that becomes the same one (the kubeconfig). */
  standsFor?: string[];
}

/**
 * Starts the kubectl attach of a session to come (see AttachSessionOptions.headStart), where that
 * session will be a terminal relay; undefined where it will not, or kubectl cannot be spawned (the
 * session then spawns it and says why).
 */
export function startAttachAhead(opts: AttachAheadOptions): HeadStart | undefined {
  const input = opts.input ?? process.stdin;
  const pty = input.isTTY ? loadPty() : undefined;
  if (!pty) return undefined;
  const args = withAttachFlags(opts.args, true);
  try {
    const ahead = new HeadStart(pty, opts.kubectl, args, withAttachFlags(opts.standsFor ?? opts.args, true), opts.env ?? process.env, opts.output ?? process.stdout);
    opts.verbose?.(`running ${opts.kubectl} ${args.join(' ')} under a pty, ahead of the session (${Math.round(performance.now())} ms after start)`);
    return ahead;
  } catch {
    return undefined;
  }
}

/** Attaches the user's terminal (or piped stdin) to the container through kubectl; see AttachSessionOptions. */
export async function runAttachSession(opts: AttachSessionOptions): Promise<AttachSessionResult> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const log = opts.verbose ?? (() => {});
  // A terminal relay needs a terminal to relay; -t=false asks for none even on one.
  const relay = input.isTTY && opts.tty !== false && !opts.stdinOnly;
  const pty = relay ? loadPty((err) => log(`node-pty could not be loaded (${describe(err)}): attaching with inherited stdio, so no recording and no terminal relay`)) : undefined;
  // Only a terminal relay takes an attach started ahead.
  if (!pty) opts.headStart?.discard();
  // Only the relay can hold back a failed attempt: the others attach once the container runs.
  if (opts.early && !pty) {
    if (!(await opts.early.started)) return { exitCode: 0, cancelled: true, end: { kind: 'not-running' } };
    opts.early.land();
  }
  if (!relay) return opts.stdinOnly ? runStdinOnly(opts, input, log) : runPiped(opts, input, output, log);
  if (!pty) {
    opts.warn?.(`warning: node-pty could not be loaded, so this session has no detach keys${opts.recording ? ' and is NOT recorded' : ''}; reinstall the plugin to get them back`);
    return runInherited(opts, input, log);
  }
  return runInPty(pty, opts, input, output, log);
}

// No terminal on stdin (a pipe, a file, CI) or none wanted (-t=false): kubectl gets -i without -t
// (nothing with -i=false) and the bytes flow as they are.
async function runPiped(
  opts: AttachSessionOptions,
  input: NodeJS.ReadStream,
  output: NodeJS.WriteStream,
  log: (line: string) => void,
): Promise<AttachSessionResult> {
  const recorder = opts.recording ? AsciicastWriter.open(opts.recording, terminalSize(output), opts.env ?? process.env) : undefined;
  const stdin = opts.stdin ?? true;
  // Inherit what we can: kubectl then sees EOF and errors on the real descriptors, with no copy.
  const pipeIn = stdin && ((recorder !== undefined && opts.recording?.input === true) || input !== process.stdin);
  const pipeOut = recorder !== undefined || output !== process.stdout;
  const args = withAttachFlags(opts.args, false, stdin);
  log(`running ${opts.kubectl} ${args.join(' ')} without a terminal`);
  const child = spawn(opts.kubectl, args, {
    env: opts.env ?? process.env,
    // Without -i kubectl does not read stdin; it must not hold the user's either.
    // stderr is read here to drop kubectl's own log lines (see KUBECTL_NOISE); the container's pass.
    stdio: [!stdin ? 'ignore' : pipeIn ? 'pipe' : 'inherit', pipeOut ? 'pipe' : 'inherit', 'pipe'],
  });
  // kubectl's closing "error: ..." is held back and said in the plugin's words by the caller.
  const tail = new StderrTail();
  child.stderr?.on('data', (data: Buffer) => {
    const kept = tail.push(dropKubectlNoise(data, log));
    if (kept.length) process.stderr.write(kept);
  });

  const onInput = (data: Buffer | string) => recorder?.input(data);
  if (pipeIn && child.stdin) {
    // kubectl may stop reading (it exited): that is not our error to report.
    child.stdin.on('error', () => {});
    input.on('data', onInput);
    input.pipe(child.stdin);
  }
  if (pipeOut && child.stdout) {
    const stdout = child.stdout;
    stdout.on('data', (data: Buffer) => {
      const accepted = output.write(data);
      recorder?.output(data);
      if (!accepted) {
        stdout.pause();
        output.once('drain', () => stdout.resume());
      }
    });
  }

  let exitCode: number;
  try {
    exitCode = await waitForChild(child, log);
    await waitForDrain(output);
  } finally {
    if (pipeIn && child.stdin) {
      input.unpipe(child.stdin);
      input.off('data', onInput);
      input.pause();
    }
    await recorder?.close();
  }
  const { pass, kubectlError } = tail.end(exitCode);
  if (pass.length) process.stderr.write(pass);
  const result: AttachSessionResult = { exitCode, end: kubectlError === undefined ? { kind: 'exited', exitCode } : { kind: 'failed', message: kubectlError, exitCode } };
  if (recorder?.error) result.recordingError = recorder.error;
  return result;
}

// A command's session without a terminal, its output read from the container's log: kubectl
// attach -i only carries stdin in (its end closes the container's stdin: stdinOnce). Nothing
// kubectl prints is shown; a failure of its own comes back as `failed`, in its words, for the caller.
async function runStdinOnly(opts: AttachSessionOptions, input: NodeJS.ReadStream, log: (line: string) => void): Promise<AttachSessionResult> {
  const args = withAttachFlags(opts.args, false, true);
  log(`running ${opts.kubectl} ${args.join(' ')} for stdin only (the output comes from the log)`);
  const pipeIn = input !== process.stdin;
  const child = spawn(opts.kubectl, args, { env: opts.env ?? process.env, stdio: [pipeIn ? 'pipe' : 'inherit', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4096)));
  if (pipeIn && child.stdin) {
    child.stdin.on('error', () => {});
    input.pipe(child.stdin);
  }
  let exitCode: number;
  try {
    exitCode = await waitForChild(child, log);
  } finally {
    if (pipeIn && child.stdin) {
      input.unpipe(child.stdin);
      input.pause();
    }
  }
  if (stderr.trim()) log(`kubectl attach (stdin only) said: ${stderr.trim().split('\n').join(' | ')}`);
  return { exitCode, end: exitCode === 0 ? { kind: 'exited', exitCode } : { kind: 'failed', message: kubectlMessage(stderr), exitCode } };
}

// node-pty is missing: kubectl gets the user's terminal directly and does its own raw mode.
async function runInherited(opts: AttachSessionOptions, input: NodeJS.ReadStream, log: (line: string) => void): Promise<AttachSessionResult> {
  // kubectl restores the terminal when it exits normally; if it is killed it cannot, and Node's
  // setRawMode(false) would do nothing (Node never set raw mode), so keep stty's own snapshot.
  let saved: string | undefined;
  try {
    saved = execFileSync('stty', ['-g'], { stdio: [input, 'pipe', 'ignore'], encoding: 'utf8' }).trim();
  } catch {
    log('could not save the terminal settings with stty -g; they cannot be restored if kubectl is killed');
  }
  const args = withAttachFlags(opts.args, true);
  log(`running ${opts.kubectl} ${args.join(' ')} with inherited stdio`);
  const child = spawn(opts.kubectl, args, { env: opts.env ?? process.env, stdio: 'inherit' });
  let exitCode: number;
  try {
    exitCode = await waitForChild(child, log);
  } finally {
    if (saved) {
      try {
        execFileSync('stty', [saved], { stdio: [input, 'ignore', 'ignore'] });
      } catch {
        log('could not restore the terminal settings with stty');
      }
    }
  }
  const result: AttachSessionResult = { exitCode };
  if (opts.recording) result.recordingError = new Error('recording needs node-pty, which could not be loaded');
  return result;
}

// Waits for a child_process kubectl, passing on the signals meant for the session.
async function waitForChild(child: ChildProcess, log: (line: string) => void): Promise<number> {
  let killTimer: NodeJS.Timeout | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    log(`received ${signal}: passing it to kubectl`);
    child.kill(signal);
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), DEFAULT_TIMING.killGraceMs);
  };
  const onProcessExit = () => child.kill('SIGHUP');
  for (const signal of FORWARDED_SIGNALS) process.on(signal, onSignal);
  process.on('exit', onProcessExit);
  try {
    // 'close' rather than 'exit': it comes after kubectl's piped output has all been read.
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c, s) => resolve([c, s]));
    });
    log(`kubectl exited with ${signal ? `signal ${signal}` : `code ${code}`}`);
    return signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1);
  } finally {
    if (killTimer) clearTimeout(killTimer);
    for (const signal of FORWARDED_SIGNALS) process.off(signal, onSignal);
    process.off('exit', onProcessExit);
  }
}

