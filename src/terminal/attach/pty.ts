// The terminal relay's adapter: runs the attach machine's actions with node-pty (one pty per
// kubectl attach attempt), the user's terminal and the recorder, and feeds their events back. It
// holds no decision of its own: what to spawn, kill, show or wait for is the machine's.
import { accessSync, constants as fsConstants, rmSync } from 'node:fs';
import { constants } from 'node:os';
import type * as NodePty from 'node-pty';
import { AsciicastWriter } from '../recording';
import type { AttachSessionOptions, AttachSessionResult } from '../attach-session';
import { AttachMachine, type AttachAction, type AttachEnd, type AttachEvent, type TimerName } from './machine';
import { ptyBytes } from '../pty-loader';
import { DEFAULT_TIMING, REAL_TIMERS, type AttachTimers } from './timing';
import { FORWARDED_SIGNALS, passOutputThrough, spawnAttempt, terminalSize, waitForDrain, withAttachFlags } from './terminal-io';

// How long reading the log for a catch-up may take before the session goes on without it.
const CATCH_UP_LIMIT_MS = 3000;
// Time for onData events that trail onExit: the pty may still hold the child's last output.
const FLUSH_GRACE_MS = 50;
// Written only when a session ends abnormally: a killed full-screen program cannot undo its
// colours, hidden cursor, mouse reporting or bracketed paste. Each sequence sets a default, so it
// is harmless when nothing needed undoing. The alternate screen is left alone: leaving it when
// not in it restores a cursor position that was never saved.
const RESET_TERMINAL = '\x1b[0m\x1b[?25h\x1b[?2004l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l';

interface Attempt {
  pty: NodePty.IPty;
  subs: Array<{ dispose(): void }>;
}

/** Runs one terminal session through node-pty; see AttachSessionOptions. */
export async function runInPty(
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
  const relay = new PtyRelay(ptyModule, opts, args, input, output, recorder, log);
  let end: AttachEnd;
  try {
    end = await relay.run();
  } catch (err) {
    await recorder?.close();
    throw err;
  }
  await relay.drain();
  await recorder?.close();
  // No session happened: the recording this run created goes too.
  if ((end.kind === 'not-running' || end.kind === 'abandoned') && opts.recording) rmSync(opts.recording.file, { force: true });
  log(`kubectl attach ended (${end.kind}${'exitCode' in end ? ` ${end.exitCode}` : ''}) after ${relay.machine.attempts} attempt(s); relayed ${relay.relayed} bytes, paused for the terminal ${relay.pauses} times`);
  const result = resultOf(end);
  if (recorder?.error) result.recordingError = recorder.error;
  return result;
}

/** The session's result as callers read it, from the machine's end. */
export function resultOf(end: AttachEnd): AttachSessionResult {
  switch (end.kind) {
    case 'exited':
      return { exitCode: end.exitCode, end };
    case 'detached':
      return { exitCode: 0, detached: true, end };
    case 'not-running':
      return { exitCode: 0, cancelled: true, end };
    case 'abandoned':
      return { exitCode: 128 + (constants.signals[end.signal] ?? 0), end };
    case 'not-found':
      return { exitCode: end.exitCode, notFound: end.message, end };
    case 'failed':
      return { exitCode: end.exitCode, end };
  }
}

// The moving parts of one relay: attempts, timers, the terminal and its backpressure.
class PtyRelay {
  readonly machine: AttachMachine;
  relayed = 0;
  pauses = 0;
  private readonly attempts = new Map<number, Attempt>();
  // The cancel of each timer the machine asked for and that has not fired.
  private readonly timers = new Map<TimerName, () => void>();
  private readonly clock: AttachTimers;
  private paused: NodePty.IPty | undefined;
  private taken = false;
  private caughtUp: Promise<void> = Promise.resolve();
  private ended: (end: AttachEnd) => void = () => {};
  private readonly onInput = (data: Buffer | string) => this.feed({ type: 'input', data: typeof data === 'string' ? Buffer.from(data) : data });
  private readonly onResize = () => this.feed({ type: 'resize' });
  private readonly onDrain = () => {
    const paused = this.paused;
    this.paused = undefined;
    paused?.resume();
  };
  // The user's terminal went away (EIO, EPIPE): the session has no one left to serve.
  private readonly onOutputError = (err: Error) => this.feed({ type: 'output-failed', message: err.message });
  private readonly onSignal = (signal: NodeJS.Signals) => this.feed({ type: 'signal', signal });
  // The monitor observes a crash without preventing it, unlike an 'uncaughtException' listener.
  private readonly onFatal = () => this.feed({ type: 'hangup', abnormal: true });
  private readonly onProcessExit = () => this.feed({ type: 'hangup', abnormal: false });

  constructor(
    private readonly ptyModule: typeof NodePty,
    private readonly opts: AttachSessionOptions,
    private readonly args: string[],
    private readonly input: NodeJS.ReadStream,
    private readonly output: NodeJS.WriteStream,
    private readonly recorder: AsciicastWriter | undefined,
    private readonly log: (line: string) => void,
  ) {
    const timing = { ...DEFAULT_TIMING, ...opts.early?.timing(), ...opts.timing };
    this.clock = opts.timers ?? REAL_TIMERS;
    this.machine = new AttachMachine({ early: opts.early !== undefined, detachKeys: opts.detachKeys ?? Buffer.alloc(0), timing, catchUp: opts.catchUp !== undefined, waitsForInput: opts.early?.waitsForInput });
  }

  /** Runs the session until the machine finishes it; throws when the first kubectl cannot be spawned. */
  async run(): Promise<AttachEnd> {
    const ended = new Promise<AttachEnd>((resolve) => (this.ended = resolve));
    // The first attempt's spawn failure is thrown, before anything was touched.
    this.perform(this.machine.start());
    this.opts.early?.started.then(
      (runs) => this.feed({ type: 'started', runs }),
      () => undefined,
    );
    for (const signal of FORWARDED_SIGNALS) process.on(signal, this.onSignal);
    process.on('uncaughtExceptionMonitor', this.onFatal);
    process.on('exit', this.onProcessExit);
    this.output.on('resize', this.onResize);
    this.output.on('drain', this.onDrain);
    this.output.on('error', this.onOutputError);
    try {
      return await ended;
    } finally {
      for (const cancel of this.timers.values()) cancel();
      this.timers.clear();
      this.giveBack(false);
      for (const signal of FORWARDED_SIGNALS) process.off(signal, this.onSignal);
      process.off('uncaughtExceptionMonitor', this.onFatal);
      process.off('exit', this.onProcessExit);
      this.output.off('resize', this.onResize);
    }
  }

  /** After the end: the output that trails kubectl's exit, then a terminal that took it all. */
  async drain(): Promise<void> {
    await this.caughtUp;
    this.onDrain();
    await new Promise((resolve) => setTimeout(resolve, FLUSH_GRACE_MS));
    for (const attempt of this.attempts.values()) attempt.subs.forEach((s) => s.dispose());
    await waitForDrain(this.output);
    this.output.off('drain', this.onDrain);
    this.output.off('error', this.onOutputError);
  }

  private feed(event: AttachEvent): void {
    this.perform(this.machine.handle(event));
  }

  private perform(actions: AttachAction[]): void {
    for (const action of actions) this.act(action);
  }

  private act(a: AttachAction): void {
    switch (a.type) {
      case 'spawn':
        return this.spawn(a.attempt);
      case 'kill':
        return this.kill(a.attempt, a.signal);
      case 'write-terminal':
        return this.write(a.data);
      case 'write-attempt':
        this.attempts.get(a.attempt)?.pty.write(a.data as unknown as string);
        if (!a.replay) this.recorder?.input(a.data);
        return;
      case 'resize-attempt':
        return this.resize(a.attempt);
      case 'take-terminal':
        return this.take();
      case 'restore-terminal':
        return this.giveBack(a.reset);
      case 'set-timer': {
        this.timers.get(a.name)?.();
        const cancel = this.clock.set(a.name, a.ms, () => {
          this.timers.delete(a.name);
          this.feed({ type: 'timer', name: a.name });
        });
        this.timers.set(a.name, cancel);
        return;
      }
      case 'clear-timer':
        this.timers.get(a.name)?.();
        this.timers.delete(a.name);
        return;
      case 'landed':
        this.log(`attached at attempt ${a.attempt} (${a.how}, ${Math.round(performance.now())} ms after start)`);
        this.opts.early?.land();
        return;
      case 'log':
        return this.log(a.line);
      case 'catch-up':
        return this.catchUp();
      case 'finish':
        return this.ended(a.end);
    }
  }

  // The container's log so far, for what it printed before the attach landed (bounded in time: a
  // log that cannot be read leaves the session as it was).
  private catchUp(): void {
    const read = this.opts.catchUp?.() ?? Promise.resolve(Buffer.alloc(0));
    const limit = new Promise<Buffer>((resolve) => setTimeout(() => resolve(Buffer.alloc(0)), CATCH_UP_LIMIT_MS).unref());
    this.caughtUp = Promise.race([read.catch(() => Buffer.alloc(0)), limit]).then((log) => this.feed({ type: 'caught-up', log }));
  }

  private spawn(id: number): void {
    const listeners = {
      // encoding: null makes node-pty hand out Buffers (strings on Windows); its typings say string.
      onData: (data: Buffer) => this.feed({ type: 'output', attempt: id, data }),
      onExit: (e: { exitCode: number; signal?: number }) => this.feed({ type: 'exit', attempt: id, exitCode: e.exitCode, ...(e.signal ? { signal: e.signal } : {}) }),
    };
    // The first attempt may have started ahead of the session (head-start.ts).
    const ahead = id === 1 ? this.opts.headStart?.take(this.opts.kubectl, this.args, listeners) : undefined;
    if (ahead) {
      this.log(`attempt 1 is the kubectl attach started ahead of the session`);
      this.attempts.set(id, ahead);
      return;
    }
    let pty: NodePty.IPty;
    try {
      // Each attempt gets the terminal's size of the moment.
      pty = spawnAttempt(this.ptyModule, this.opts.kubectl, this.args, this.opts.env ?? process.env, this.output);
    } catch (err) {
      if (id === 1) throw err;
      queueMicrotask(() => this.feed({ type: 'spawn-failed', attempt: id, message: (err as Error).message }));
      return;
    }
    const subs = [pty.onData((chunk) => listeners.onData(ptyBytes(chunk))), pty.onExit((e) => listeners.onExit(e))];
    this.attempts.set(id, { pty, subs });
  }

  private kill(id: number, signal: NodeJS.Signals): void {
    try {
      this.attempts.get(id)?.pty.kill(signal);
    } catch {
      // Already gone.
    }
  }

  private write(data: Buffer): void {
    this.relayed += data.length;
    // The terminal first: the recorder's JSON encoding must not add to what the user waits for.
    const accepted = this.output.write(data);
    this.recorder?.output(data);
    if (accepted || this.paused) return;
    this.paused = this.attempts.get(this.machine.currentAttempt)?.pty;
    this.pauses++;
    this.paused?.pause();
  }

  private resize(id: number): void {
    const next = terminalSize(this.output);
    try {
      this.attempts.get(id)?.pty.resize(next.cols, next.rows);
    } catch {
      // The pty is already gone (resize raced the exit): nothing left to tell.
      return;
    }
    this.log(`terminal resized to ${next.cols}x${next.rows}`);
    this.recorder?.resize(next);
  }

  // The user's terminal: raw, its bytes to the machine. Until then what is typed waits in the
  // terminal's own line buffer.
  private take(): void {
    this.taken = true;
    this.input.setRawMode(true);
    passOutputThrough(this.input, this.log);
    this.input.on('data', this.onInput);
    this.input.resume();
  }

  // Puts the user's terminal back; safe to call from any path, any number of times.
  private giveBack(reset: boolean): void {
    if (!this.taken) return;
    this.taken = false;
    this.input.off('data', this.onInput);
    try {
      this.input.setRawMode(false);
    } catch {
      // The terminal itself is gone (SIGHUP); there is no mode left to restore.
    }
    this.input.pause();
    if (reset && this.output.isTTY && !this.output.destroyed) this.output.write(RESET_TERMINAL);
  }
}
