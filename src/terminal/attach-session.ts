// Runs `kubectl attach` for the user. With a terminal on stdin, kubectl runs under a pty of ours and
// every byte is relayed through this process: that is what lets us record the session, put the
// user's terminal back however the session ends, and report kubectl's exit code as our own.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, rmSync } from 'node:fs';
import { constants } from 'node:os';
import type * as NodePty from 'node-pty';
import { DetachKeyMatcher } from './detach-keys';
import { loadPty } from './pty-loader';
import { AsciicastWriter, type RecordingOptions, type TerminalSize } from './recording';

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
   * Attaching to a container that may not run yet (terminal sessions only: a pipe's bytes, once
   * read by a kubectl that failed, cannot be given to the next one). kubectl attach starts at once
   * and again while the kubelet answers "container ... not found", its message never shown; the
   * user's terminal is taken only when an attach lands. `started` settles with whether the
   * container runs: until then, EARLY_ATTEMPTS attempts at most, then the next one when it says
   * so; true: retries go on for RETRY_AFTER_STARTED_MS; false (it never will: an image that cannot
   * be pulled): kubectl is ended and the session resolves `cancelled`, the terminal untouched.
   */
  early?: { started: Promise<boolean>; onLanded?: () => void };
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
}

/** Attaches the user's terminal (or piped stdin) to the container through kubectl; see AttachSessionOptions. */
export async function runAttachSession(opts: AttachSessionOptions): Promise<AttachSessionResult> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const log = opts.verbose ?? (() => {});
  // A terminal relay needs a terminal to relay; -t=false asks for none even on one.
  const relay = input.isTTY && opts.tty !== false;
  const pty = relay ? loadPty((err) => log(`node-pty could not be loaded (${describe(err)}): attaching with inherited stdio, so no recording and no terminal relay`)) : undefined;
  // Only the relay can hold back a failed attempt: the others attach once the container runs.
  if (opts.early && !pty) {
    if (!(await opts.early.started)) return { exitCode: 0, cancelled: true };
    opts.early.onLanded?.();
  }
  if (!relay) return runPiped(opts, input, output, log);
  if (!pty) {
    opts.warn?.(`warning: node-pty could not be loaded, so this session has no detach keys${opts.recording ? ' and is NOT recorded' : ''}; reinstall the plugin to get them back`);
    return runInherited(opts, input, log);
  }
  return runInPty(pty, opts, input, output, log);
}

// kubectl prints its failure as "error: ..." (cmdutil.CheckErr), sometimes after klog lines of its
// own (its WebSocket attach, falling back to SPDY, logs `E1130 13:07:21.425468 15428 v3.go:79]
// "Unhandled Error" err="websocket: close sent"`); output that starts otherwise is the container's,
// and passes at once.
const KUBECTL_ERROR = 'error: ';
const KLOG_LINE = /^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [^\]\s]+\] /;
const KLOG_PARTIAL = /^[IWEF](?:\d{1,4}(?: (?:\d{1,2}(?::\d{0,2}(?::\d{0,2}(?:\.\d*)?)?)?)?)?)?$/;

/** kubectl's "error: ..." line out of what a failed attach printed (klog lines before it left out). */
function kubectlMessage(text: string): string {
  return text.split(/\r?\n/).find((l) => l.startsWith(KUBECTL_ERROR)) ?? text.trim();
}

/** Whether what kubectl printed so far may still be its own failure (klog lines, then "error: ..."), not the container's output. */
export function mayBeKubectlFailure(text: string): boolean {
  const lines = text.split(/\r?\n/);
  const last = lines.pop()!;
  const whole = lines.every((l) => l === '' || KLOG_LINE.test(l) || l.startsWith(KUBECTL_ERROR));
  const open = last === '' || KUBECTL_ERROR.startsWith(last) || last.startsWith(KUBECTL_ERROR) || KLOG_LINE.test(last) || KLOG_PARTIAL.test(last);
  return whole && open;
}
// The kubelet's answer while it does not have the container yet: the pod worker has not seen the
// new spec, or the runtime has not started it (kubelet GetAttach, findContainer).
const NOT_FOUND = /unable to upgrade connection: container .*not found/;
// Between attempts: a kubectl attach takes ~80 ms to fail here, so attempts come every ~100 ms.
const RETRY_PAUSE_MS = 10;
// A second attempt starts this long after the one in flight while neither has an answer: the
// container usually starts while the first is on its way (~80 ms), and the second asks after that.
const STAGGER_MS = 60;
// Attempts before the container is known to run: ~0.6 s, when it usually starts in 0.1-0.3 s;
// a longer start (an image pull) is waited out without starting kubectl again and again.
const EARLY_ATTEMPTS = 4;
// After it is known to run, the kubelet may still need a moment: past this, "not found" is shown.
const RETRY_AFTER_STARTED_MS = 5000;
// A kubectl attach that neither failed nor printed anything by then, the container known to run, is
// attached (a program that does not redraw on a resize).
const LANDED_AFTER_MS = 1000;

// Time for onData events that trail onExit: the pty may still hold the child's last output.
const FLUSH_GRACE_MS = 50;
// How long kubectl gets to act on a forwarded signal before it is killed outright.
const KILL_GRACE_MS = 3000;
// How long to wait for a slow terminal to take the tail of the output before giving up on it.
const DRAIN_LIMIT_MS = 2000;
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];
// Written only when a session ends abnormally: a killed full-screen program cannot undo its
// colours, hidden cursor, mouse reporting or bracketed paste. Each sequence sets a default, so it
// is harmless when nothing needed undoing. The alternate screen is left alone: leaving it when
// not in it restores a cursor position that was never saved.
const RESET_TERMINAL = '\x1b[0m\x1b[?25h\x1b[?2004l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l';

async function runInPty(
  ptyModule: typeof NodePty,
  opts: AttachSessionOptions,
  input: NodeJS.ReadStream,
  output: NodeJS.WriteStream,
  log: (line: string) => void,
): Promise<AttachSessionResult> {
  const env = opts.env ?? process.env;
  const size = terminalSize(output);
  // node-pty reports a missing kubectl only as output and exit code 1 from the forked child;
  // checking first gives the same ENOENT/EACCES error as the child_process paths.
  if (opts.kubectl.includes('/')) accessSync(opts.kubectl, fsConstants.X_OK);
  // Opened before the terminal is touched, so that an unwritable path fails with nothing to undo.
  const recorder = opts.recording ? AsciicastWriter.open(opts.recording, size, env) : undefined;
  const args = withAttachFlags(opts.args, true);
  log(`running ${opts.kubectl} ${args.join(' ')} under a pty (${size.cols}x${size.rows}, ${Math.round(performance.now())} ms after start)`);
  const detachKeys = new DetachKeyMatcher(opts.detachKeys ?? Buffer.alloc(0));

  // Each attempt gets the terminal's size of the moment.
  const spawnKubectl = () => {
    const current = terminalSize(output);
    return ptyModule.spawn(opts.kubectl, args, {
      cols: current.cols,
      rows: current.rows,
      env,
      // Raw bytes both ways: decoding here would mangle anything that is not UTF-8.
      encoding: null,
      // On, node-pty would swallow Ctrl-S/Ctrl-Q typed for the container.
      handleFlowControl: false,
    });
  };
  let child: NodePty.IPty;
  try {
    child = spawnKubectl();
  } catch (err) {
    await recorder?.close();
    throw err;
  }
  // Until the first byte that is not kubectl's "error: ", an early attach may still fail for a
  // container the kubelet does not have yet: its output is held, and the terminal left alone.
  let landed = !opts.early;
  let held: Buffer[] = [];
  let attempts = 1;
  let cancelled = false;
  let started: 'pending' | 'yes' | 'no' = 'pending';
  let startedAt = 0;
  // An attempt that failed after the last one allowed before the container is known to run.
  let waitingForStarted: (() => void) | undefined;
  let gaveUp: string | undefined;

  let abnormal = false;
  let detached = false;
  let restored = false;
  let paused = false;
  let pauses = 0;
  let relayed = 0;
  let killTimer: NodeJS.Timeout | undefined;

  const onInput = (data: Buffer | string) => {
    if (detached) return;
    const { pass, detach } = detachKeys.feed(typeof data === 'string' ? Buffer.from(data) : data);
    if (pass.length) {
      child.write(pass);
      recorder?.input(pass);
    }
    if (!detach) return;
    // kubectl attach has no detach of its own: ending it closes the attach stream only; the
    // container keeps its stdin (stdinOnce is off) and its shell, for `attach` to find again.
    log('detach keys typed: ending kubectl attach, the container keeps running');
    detached = true;
    child.kill('SIGTERM');
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
  };
  const onResize = () => {
    const next = terminalSize(output);
    try {
      child.resize(next.cols, next.rows);
    } catch {
      // The pty is already gone (resize raced the exit): nothing left to tell.
      return;
    }
    log(`terminal resized to ${next.cols}x${next.rows}`);
    recorder?.resize(next);
  };
  const onDrain = () => {
    if (!paused) return;
    paused = false;
    child.resume();
  };
  const onOutputError = (err: Error) => {
    // The user's terminal went away (EIO, EPIPE): the session has no one left to serve.
    log(`output failed (${err.message}): ending kubectl`);
    abnormal = true;
    child.kill('SIGHUP');
  };

  // Puts the user's terminal back; safe to call from any path, any number of times.
  const restore = () => {
    if (restored) return;
    restored = true;
    input.off('data', onInput);
    try {
      input.setRawMode(false);
    } catch {
      // The terminal itself is gone (SIGHUP); there is no mode left to restore.
    }
    input.pause();
    if (abnormal && output.isTTY && !output.destroyed) output.write(RESET_TERMINAL);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    log(`received ${signal}: passing it to kubectl and restoring the terminal`);
    abnormal = true;
    // Before any attach landed the user left: no attempt may land after this (abandoned-container.ts ends the container).
    if (!landed) dropSpare();
    child.kill(signal);
    restore();
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
  };
  const onFatal = () => {
    abnormal = true;
    restore();
    child.kill('SIGHUP');
  };
  const onProcessExit = () => {
    restore();
    child.kill('SIGHUP');
  };

  const onData = (chunk: string) => {
    // encoding: null makes node-pty hand out Buffers; its typings still say string.
    let data = chunk as unknown as Buffer;
    if (!landed) {
      if (abnormal) return;
      held.push(data);
      data = Buffer.concat(held);
      if (mayBeKubectlFailure(data.toString('latin1'))) return;
      held = [];
      land();
    }
    relayed += data.length;
    // The terminal first: the recorder's JSON encoding must not add to what the user waits for.
    const accepted = output.write(data);
    recorder?.output(data);
    if (!accepted && !paused) {
      paused = true;
      pauses++;
      child.pause();
    }
  };
  // The attach counts as landed at the container's first output (a shell redraws its prompt when
  // the attach sets the terminal size), or when kubectl has run this long without failing.
  let landTimer: NodeJS.Timeout | undefined;
  const armLandTimer = () => {
    // Before the container is known to run, a quiet kubectl may still be on its way to "not found"
    // (seconds, on a loaded node): only output lands it then.
    if (landed || (opts.early && started !== 'yes')) return;
    clearTimeout(landTimer);
    landTimer = setTimeout(() => {
      if (landed || abnormal) return;
      const tail = Buffer.concat(held.splice(0));
      land('quiet for 1 s');
      if (tail.length) onData(tail as unknown as string);
    }, LANDED_AFTER_MS);
  };
  // The user's terminal: raw, its bytes to kubectl. Taken when the attach lands (at once when
  // not early); until then what is typed waits in the terminal's own line buffer.
  let taken = false;
  const takeTerminal = () => {
    if (taken || restored) return;
    taken = true;
    input.setRawMode(true);
    passOutputThrough(input, log);
    input.on('data', onInput);
    input.resume();
  };
  const land = (how = 'first output') => {
    landed = true;
    clearTimeout(landTimer);
    dropSpare();
    if (!opts.early) return;
    log(`attached at attempt ${attempts} (${how}, ${Math.round(performance.now())} ms after start)`);
    opts.early.onLanded?.();
    takeTerminal();
  };
  armLandTimer();
  let dataSubscription = child.onData(onData);
  let exitSubscription: { dispose(): void } = { dispose() {} };
  // The spare attempt (see STAGGER_MS): it becomes the current one when it lands first, or when
  // the current one fails while it is still on its way.
  let spare: { pty: NodePty.IPty; held: Buffer[]; subs: Array<{ dispose(): void }> } | undefined;
  let spareTimer: NodeJS.Timeout | undefined;
  const dropSpare = () => {
    clearTimeout(spareTimer);
    if (!spare) return;
    spare.subs.forEach((x) => x.dispose());
    spare.pty.kill('SIGKILL');
    spare = undefined;
  };
  const armSpare = () => {
    clearTimeout(spareTimer);
    if (!landed && opts.early) spareTimer = setTimeout(() => startSpare(), STAGGER_MS);
  };
  // Starts a spare attempt, unless one runs or no more are wanted; a retry (decided by its
  // caller, the cap already applied) is started regardless of the count.
  const startSpare = (retry = false) => {
    if (landed || spare || cancelled || detached || abnormal || started === 'no') return;
    if (!retry && started === 'pending' && attempts >= EARLY_ATTEMPTS) return;
    let pty: NodePty.IPty;
    try {
      pty = spawnKubectl();
    } catch {
      return;
    }
    attempts++;
    const s = { pty, held: [] as Buffer[], subs: [] as Array<{ dispose(): void }> };
    s.subs.push(
      pty.onData((chunk) => {
        if (landed || spare !== s) return;
        s.held.push(chunk as unknown as Buffer);
        if (!mayBeKubectlFailure(Buffer.concat(s.held).toString('latin1'))) promote();
      }),
      pty.onExit(() => {
        if (spare !== s) return;
        s.subs.forEach((x) => x.dispose());
        spare = undefined;
      }),
    );
    spare = s;
  };
  // The spare becomes the current attempt; the one it replaces is ended if it still runs.
  const promote = () => {
    const s = spare!;
    spare = undefined;
    s.subs.forEach((x) => x.dispose());
    dataSubscription.dispose();
    exitSubscription.dispose();
    child.kill('SIGKILL');
    child = s.pty;
    held = [];
    dataSubscription = child.onData(onData);
    watchExit();
    const pending = Buffer.concat(s.held);
    if (pending.length) onData(pending as unknown as string);
    if (landed) return;
    armLandTimer();
    armSpare();
  };
  const watchExit = () => {
    const current = child;
    exitSubscription = child.onExit((e) => {
      exitSubscription.dispose();
      if (child === current) onChildExit(e);
    });
  };
  let resolveExit: (e: { exitCode: number; signal?: number }) => void = () => {};
  const exited = new Promise<{ exitCode: number; signal?: number }>((resolve) => (resolveExit = resolve));
  const onChildExit = (e: { exitCode: number; signal?: number }) => {
    if (landed) return resolveExit(e);
    // A failed kubectl's message may trail its exit: unless its error line is in already, it is
    // waited for before deciding (each failed attempt would otherwise cost the grace too).
    const text = Buffer.concat(held).toString('latin1');
    if (/^error: .*\r?\n/m.test(text)) decideAfterExit(e);
    else setTimeout(() => decideAfterExit(e), FLUSH_GRACE_MS);
  };
  // The next attempt: the spare on its way, or one started now, takes over.
  const respawn = () => {
    startSpare(true);
    if (!spare) throw new Error('kubectl attach could not be started again');
    promote();
  };
  const decideAfterExit = (e: { exitCode: number; signal?: number }) => {
    if (landed) return resolveExit(e);
    const text = Buffer.concat(held).toString('utf8');
    const notFound = e.exitCode !== 0 && NOT_FOUND.test(text);
    if (cancelled || (notFound && started === 'no')) {
      cancelled = true;
      dropSpare();
      return resolveExit(e);
    }
    const retry = notFound && !detached && !abnormal && (started === 'yes' ? Date.now() < startedAt + RETRY_AFTER_STARTED_MS : true);
    if (retry) {
      log(`attach attempt ${attempts} failed (${kubectlMessage(text)})`);
      const next = () =>
        setTimeout(() => {
          if (detached || abnormal || cancelled) {
            cancelled ||= started === 'no';
            landed = true;
            dropSpare();
            return resolveExit(e);
          }
          try {
            respawn();
          } catch {
            landed = true;
            resolveExit(e);
          }
        }, RETRY_PAUSE_MS);
      if (started === 'pending' && attempts >= EARLY_ATTEMPTS) {
        log('waiting to hear that the container runs before attaching again');
        waitingForStarted = next;
      } else next();
      return;
    }
    landed = true;
    clearTimeout(landTimer);
    dropSpare();
    if (notFound) {
      // Never attached: the caller says why (the container ended, or kubectl's message).
      gaveUp = kubectlMessage(text);
      held = [];
      return resolveExit(e);
    }
    // Not a retry: kubectl's own message, shown as it came (the terminal taken, as for any session).
    const tail = abnormal ? Buffer.alloc(0) : Buffer.concat(held.splice(0));
    takeTerminal();
    if (tail.length) onData(tail as unknown as string);
    resolveExit(e);
  };
  opts.early?.started.then(
    (runs) => {
      started = runs ? 'yes' : 'no';
      startedAt = Date.now();
      if (landed) return;
      if (runs && !waitingForStarted) armLandTimer();
      if (!runs) {
        // The container will not run: end the attempt under way, or the wait for the next one.
        cancelled = true;
        dropSpare();
        child.kill('SIGKILL');
      }
      const next = waitingForStarted;
      waitingForStarted = undefined;
      if (next) {
        if (runs) next();
        else resolveExit({ exitCode: 0 });
      }
    },
    () => undefined,
  );
  watchExit();
  armSpare();

  for (const signal of FORWARDED_SIGNALS) process.on(signal, onSignal);
  // The monitor observes a crash without preventing it, unlike an 'uncaughtException' listener.
  process.on('uncaughtExceptionMonitor', onFatal);
  process.on('exit', onProcessExit);
  output.on('resize', onResize);
  output.on('drain', onDrain);
  output.on('error', onOutputError);

  let exit: { exitCode: number; signal?: number };
  try {
    if (landed) takeTerminal();
    exit = await exited;
    // Killed, kubectl could not undo what the program in the container did to the terminal.
    if (exit.signal) abnormal = true;
  } catch (err) {
    onFatal();
    throw err;
  } finally {
    if (killTimer) clearTimeout(killTimer);
    clearTimeout(landTimer);
    dropSpare();
    // Nothing to type to any more; the terminal goes back before the output tail is flushed.
    restore();
    for (const signal of FORWARDED_SIGNALS) process.off(signal, onSignal);
    process.off('uncaughtExceptionMonitor', onFatal);
    process.off('exit', onProcessExit);
    output.off('resize', onResize);
  }

  onDrain();
  await delay(FLUSH_GRACE_MS);
  dataSubscription.dispose();
  await waitForDrain(output);
  output.off('drain', onDrain);
  output.off('error', onOutputError);
  await recorder?.close();
  // No session happened: the recording this run created goes too.
  if (cancelled && opts.recording) rmSync(opts.recording.file, { force: true });

  const exitCode = detached || cancelled ? 0 : exit.signal ? 128 + exit.signal : exit.exitCode;
  log(`kubectl exited with ${exit.signal ? `signal ${exit.signal}` : `code ${exit.exitCode}`}; relayed ${relayed} bytes, paused for the terminal ${pauses} times${cancelled ? `; cancelled after ${attempts} attempts: the container will not run` : ''}`);
  const result = recordingResult(exitCode, recorder);
  if (detached) result.detached = true;
  if (cancelled) result.cancelled = true;
  if (gaveUp !== undefined) result.notFound = gaveUp;
  return result;
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
  child.stderr?.on('data', (data: Buffer) => {
    const kept = dropKubectlNoise(data, log);
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
  return recordingResult(exitCode, recorder);
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
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
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

// kubectl's websocket client logs (klog, level E, whatever -v says) a frame it receives for a stream
// it has already closed, when the container's output ends as its stdin does; the output itself is
// complete (tested in test/e2e/sessions/pipes.test.ts). It is kubectl's chatter, not the session's.
const KUBECTL_NOISE = /^E\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ websocket\.go:\d+\] Unknown stream id \d+, discarding message\n/gm;

/** The stderr chunk without kubectl's noise lines (klog writes each line whole, in one write); -v still shows them. */
export function dropKubectlNoise(data: Buffer, log: (line: string) => void = () => {}): Buffer {
  const text = data.toString('latin1');
  if (!text.includes('websocket.go')) return data;
  return Buffer.from(
    text.replace(KUBECTL_NOISE, (line) => {
      log(`kubectl: ${line.trimEnd()}`);
      return '';
    }),
    'latin1',
  );
}

/**
 * libuv's raw mode keeps output post-processing on (it sets ONLCR), so the container's \r\n would
 * reach the terminal as \r\r\n; kubectl's own raw mode turns OPOST off, and so does this. Safe to
 * undo: setRawMode(false) puts back the whole termios libuv saved before raw mode.
 */
function passOutputThrough(input: NodeJS.ReadStream, log: (line: string) => void): void {
  try {
    execFileSync('stty', ['-opost'], { stdio: [input, 'ignore', 'ignore'] });
  } catch {
    log('could not turn off output post-processing (stty -opost): lines may end in \\r\\r\\n');
  }
}

/**
 * The kubectl arguments with -i (unless stdin is off), -t for a terminal, and --quiet added right
 * after the attach verb. --quiet keeps kubectl's own lines ("If you don't see a command prompt",
 * "Session ended, ... kubectl attach") out of the session: the plugin prints its own, true ones.
 */
export function withAttachFlags(args: readonly string[], tty: boolean, stdin = true): string[] {
  const flags = [...(stdin ? ['-i'] : []), ...(tty ? ['-t'] : []), '--quiet'];
  const verb = args.indexOf('attach');
  const at = verb < 0 ? args.length : verb + 1;
  return [...args.slice(0, at), ...flags, ...args.slice(at)];
}

function terminalSize(output: NodeJS.WriteStream): TerminalSize {
  // A pty of 0x0 confuses full-screen programs; 80x24 is what they assume without a terminal.
  const cols = output.isTTY && output.columns > 0 ? output.columns : 80;
  const rows = output.isTTY && output.rows > 0 ? output.rows : 24;
  return { cols, rows };
}

function recordingResult(exitCode: number, recorder: AsciicastWriter | undefined): AttachSessionResult {
  const result: AttachSessionResult = { exitCode };
  if (recorder?.error) result.recordingError = recorder.error;
  return result;
}

async function waitForDrain(output: NodeJS.WriteStream): Promise<void> {
  if (!output.writableNeedDrain || output.destroyed) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, DRAIN_LIMIT_MS);
    output.once('drain', done);
    function done() {
      clearTimeout(timer);
      output.off('drain', done);
      resolve();
    }
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] ?? String(err) : String(err);
}
