// The attach protocol of a terminal session, as a pure state machine: events in (what an attempt
// printed, its exit, the container's start, a timer, a key, a signal), actions out (spawn or kill
// an attempt, write to the terminal or to an attempt, take or give back the terminal, ask for a
// timer, finish). It reads no clock and touches no process: terminal/attach-session.ts runs the
// actions (node-pty, the terminal, the recorder) and feeds the events back, and the tests drive it
// with a fake clock.
//
// An early attach (a container that may not run yet) starts kubectl attach at once, and a spare
// one a moment later while neither has an answer. An attempt that fails on the kubelet's
// "container ... not found" is run again unseen; its output is held until it is surely the
// container's (not kubectl's "error: ..."), and the user's terminal is taken only when one lands.
import { DetachKeyMatcher } from '../detach-keys';
import { CONTAINER_NOT_FOUND, dropKubectlNoise, hasKubectlError, kubectlMessage, mayBeKubectlFailure } from './kubectl-output';
import type { AttachTiming } from './timing';

/** The timers the machine asks for; each comes back as a `timer` event of that name. */
export type TimerName = 'spare' | 'land' | 'retry' | 'exit-grace' | 'retry-window' | 'kill' | 'catch-up';

/** How an attempt (a kubectl attach) ended: its code, or the number of the signal that killed it. */
export interface AttemptExit {
  exitCode: number;
  signal?: number;
}

/** What happens to the session. Attempts are numbered from 1 in the order they were spawned. */
export type AttachEvent =
  | { type: 'output'; attempt: number; data: Buffer }
  | ({ type: 'exit'; attempt: number } & AttemptExit)
  /** An attempt after the first could not be spawned (the first one's failure is the adapter's to throw). */
  | { type: 'spawn-failed'; attempt: number; message: string }
  /** The debug flow's word: the container runs, or never will (EarlySession.settle). */
  | { type: 'started'; runs: boolean }
  | { type: 'timer'; name: TimerName }
  /** Bytes typed on the user's terminal (only after it was taken). */
  | { type: 'input'; data: Buffer }
  | { type: 'resize' }
  /** SIGINT, SIGTERM or SIGHUP to the plugin. */
  | { type: 'signal'; signal: NodeJS.Signals }
  /** The user's terminal failed (EIO, EPIPE): nobody is left to serve. */
  | { type: 'output-failed'; message: string }
  /** The process is going away (a crash: abnormal; or its exit). */
  | { type: 'hangup'; abnormal: boolean }
  /** The answer to catch-up: the container's log so far (empty when it could not be read). */
  | { type: 'caught-up'; log: Buffer };

/** What the adapter must do, in order. */
export type AttachAction =
  | { type: 'spawn'; attempt: number }
  | { type: 'kill'; attempt: number; signal: NodeJS.Signals }
  | { type: 'write-terminal'; data: Buffer }
  /** Typed bytes for an attempt; replay: handed again to the next attempt (recorded once, when first typed). */
  | { type: 'write-attempt'; attempt: number; data: Buffer; replay?: boolean }
  | { type: 'resize-attempt'; attempt: number }
  /** Raw mode, output post-processing off, typed bytes to the machine. */
  | { type: 'take-terminal' }
  /** Cooked mode again; reset: also undo what a killed full-screen program left (colours, cursor). */
  | { type: 'restore-terminal'; reset: boolean }
  | { type: 'set-timer'; name: TimerName; ms: number }
  | { type: 'clear-timer'; name: TimerName }
  /** An early attach landed (EarlySession.land): the session's first lines may be printed. */
  | { type: 'landed'; attempt: number; how: string }
  | { type: 'log'; line: string }
  /** Read the container's log so far (then a caught-up event): what it printed before this attach landed. */
  | { type: 'catch-up' }
  /** The session is over; output of the current attempt that trails this is still written (landed only). */
  | { type: 'finish'; end: AttachEnd };

/**
 * How a terminal session ended. `abandoned` and `not-running` are the ends before any attach
 * landed: nothing of kubectl's was shown, the terminal never taken.
 */
export type AttachEnd =
  /** kubectl ended after the attach landed (or, not early, however it ended): its code, 128 + signal when killed. */
  | { kind: 'exited'; exitCode: number }
  /** The user typed the detach keys: kubectl was ended, the container still runs. */
  | { kind: 'detached' }
  /** The debug flow said the container will never run: no attach landed, nothing was shown. */
  | { kind: 'not-running' }
  /** A signal (Ctrl-C, SIGTERM, SIGHUP) came before any attach landed. */
  | { kind: 'abandoned'; signal: NodeJS.Signals }
  /** Retries on "container not found" ran out: the container may have ended before any attach landed. */
  | { kind: 'not-found'; message: string; exitCode: number }
  /** An early attempt failed for another reason (forbidden, a proxy): kubectl's message, not shown. */
  | { kind: 'failed'; message: string; exitCode: number };

/** What the machine is built with. */
export interface AttachMachineOptions {
  /** The container may not run yet (see EarlySession); false: the first attempt is the session. */
  early: boolean;
  /** The detach sequence; empty: never. */
  detachKeys: Buffer;
  timing: AttachTiming;
  /**
   * A command (not a shell that waits for its stdin) prints from its start, before any attach can
   * land: at the landing, the log so far is read and what came before the attach's first bytes is
   * written first. Meanwhile the attach's output waits.
   */
  catchUp?: boolean;
  /**
   * The container's process waits for its stdin (a preset's shell): it cannot end before the session
   * gave it anything, so an attempt that ends cleanly, silent, before any landing was not the session
   * (kubectl attach exiting 0 without a byte while the container starts, seen once in CI) and is run
   * again like one the kubelet answered "not found".
   */
  waitsForInput?: boolean;
}

// What the user is told when attempts that ended silently ran out (kubectl printed nothing to quote).
const SILENT_END = 'ended without attaching (exit code 0)';

const TIMERS: TimerName[] = ['spare', 'land', 'retry', 'exit-grace', 'retry-window', 'kill', 'catch-up'];
// The container's log can lag behind its attach (the runtime writes the log file on its own, seen
// empty under load when the attach had a line): read again this often, this many times, until it
// holds the attach's first bytes; then what it has is used.
const CATCH_UP_RETRY_MS = 100;
const CATCH_UP_TRIES = 10;

/** The attach protocol; see the file comment. Call start() once, then handle() for each event. */
export class AttachMachine {
  private out: AttachAction[] = [];
  private landed: boolean;
  private shown = false;
  private current = 0;
  private currentExited = false;
  private held: Buffer[] = [];
  private spare: { id: number; held: Buffer[] } | undefined;
  private spawned = 0;
  private started: 'pending' | 'yes' | 'no' = 'pending';
  private retryWindowOver = false;
  // A failed attempt whose retry waits: for the container to be known to run, or for the pause.
  private waitingForStarted: AttemptExit | undefined;
  private retryOf: AttemptExit | undefined;
  private graceOf: { attempt: number; exit: AttemptExit } | undefined;
  private lastFailure: { exit: AttemptExit; message: string } | undefined;
  private gaveUp: string | undefined;
  private failure: string | undefined;
  private cancelled = false;
  private abandonedBy: NodeJS.Signals | undefined;
  private abnormal = false;
  private detached = false;
  private taken = false;
  private restored = false;
  private finished = false;
  private killArmed = false;
  private readonly timers = new Set<TimerName>();
  private readonly matcher: DetachKeyMatcher;
  // Catching up: the attach's output since the landing, written after the log's part before it.
  private catching: Buffer[] | undefined;
  private catchUpTries = 0;
  // Typed while the session is shown but no attempt landed yet (a quiet one, tentatively): a
  // kubectl that then fails on "not found" never passed them on, so the next attempt gets them
  // when it shows itself; what is typed meanwhile waits behind them.
  private unconfirmed: Buffer[] = [];
  private typedMeanwhile: Buffer[] = [];
  private handOverDue = false;

  constructor(private readonly opts: AttachMachineOptions) {
    this.landed = !opts.early;
    this.matcher = new DetachKeyMatcher(opts.detachKeys);
  }

  /** Attempts spawned so far. */
  get attempts(): number {
    return this.spawned;
  }

  /** The attempt whose output is the session's (the one to pause when the terminal is slow). */
  get currentAttempt(): number {
    return this.current;
  }

  /** The first attempt, and the terminal at once when not early. */
  start(): AttachAction[] {
    this.spawned = this.current = 1;
    this.emit({ type: 'spawn', attempt: 1 });
    if (this.landed) this.takeTerminal();
    else this.armSpare();
    return this.flush();
  }

  /** One event in, the actions it calls for out. */
  handle(event: AttachEvent): AttachAction[] {
    switch (event.type) {
      case 'output':
        this.onOutput(event.attempt, event.data);
        break;
      case 'exit':
        this.onExit(event.attempt, { exitCode: event.exitCode, ...(event.signal ? { signal: event.signal } : {}) });
        break;
      case 'spawn-failed':
        this.onSpawnFailed(event.attempt, event.message);
        break;
      case 'started':
        this.onStarted(event.runs);
        break;
      case 'timer':
        this.onTimer(event.name);
        break;
      case 'input':
        this.onInput(event.data);
        break;
      case 'resize':
        if (!this.finished) this.emit({ type: 'resize-attempt', attempt: this.current });
        break;
      case 'signal':
        this.onSignal(event.signal);
        break;
      case 'output-failed':
        this.log(`output failed (${event.message}): ending kubectl`);
        this.abnormal = true;
        this.emit({ type: 'kill', attempt: this.current, signal: 'SIGHUP' });
        break;
      case 'caught-up':
        this.caughtUp(event.log);
        break;
      case 'hangup':
        if (event.abnormal) this.abnormal = true;
        this.restore();
        this.dropSpare();
        this.emit({ type: 'kill', attempt: this.current, signal: 'SIGHUP' });
        break;
    }
    return this.flush();
  }

  private onOutput(attempt: number, data: Buffer): void {
    const spare = this.spare;
    if (spare && attempt === spare.id) {
      spare.held.push(data);
      // The spare printed something that is not kubectl's failure: it is the session now.
      if (!mayBeKubectlFailure(Buffer.concat(spare.held).toString('latin1'))) this.promote();
      return;
    }
    if (attempt === this.current) this.relay(data);
  }

  // The current attempt's output: held until it is surely the container's, then the terminal's.
  private relay(data: Buffer): void {
    if (!this.landed) {
      // Ended without landing, or left by the user before one: whatever trails is not the session's.
      if (this.finished || this.abandonedBy) return;
      this.held.push(data);
      const all = Buffer.concat(this.held);
      if (mayBeKubectlFailure(all.toString('latin1'))) return;
      this.held = [];
      this.land('first output');
      data = all;
    }
    const kept = dropKubectlNoise(data, (line) => this.log(line));
    if (!kept.length) return;
    if (this.catching) this.catching.push(kept);
    else this.emit({ type: 'write-terminal', data: kept });
  }

  // The log so far came back: its part before the attach's first bytes, then those bytes.
  private caughtUp(log: Buffer): void {
    const held = this.catching;
    if (!held) return;
    if (!this.finished && this.catchUpTries < CATCH_UP_TRIES && !logReached(log, Buffer.concat(held))) {
      this.catchUpTries++;
      this.log(`the log does not hold the attach's first bytes yet: reading it again in ${CATCH_UP_RETRY_MS} ms`);
      return this.setTimer('catch-up', CATCH_UP_RETRY_MS);
    }
    this.catching = undefined;
    const first = Buffer.concat(held);
    const before = logBefore(log, first);
    this.log(`caught up from the log: ${before.length} bytes printed before the attach landed`);
    if (before.length) this.emit({ type: 'write-terminal', data: before });
    if (first.length) this.emit({ type: 'write-terminal', data: first });
  }

  // The output is surely the container's: it passes from now on.
  private land(how: string): void {
    this.landed = true;
    this.clearTimer('land');
    this.dropSpare();
    this.show(how);
    this.handOver();
    this.unconfirmed = [];
  }

  // The attempt that shows itself after one that failed on "not found" gets what that one swallowed.
  private handOver(): void {
    if (!this.handOverDue) return;
    this.handOverDue = false;
    const again = Buffer.concat(this.unconfirmed);
    this.log(`handing ${again.length} typed bytes to attempt ${this.current}: the attempt they went to failed before passing them on`);
    this.emit({ type: 'write-attempt', attempt: this.current, data: again, replay: true });
    const meanwhile = Buffer.concat(this.typedMeanwhile);
    if (meanwhile.length) this.emit({ type: 'write-attempt', attempt: this.current, data: meanwhile });
    this.unconfirmed.push(...this.typedMeanwhile);
    this.typedMeanwhile = [];
  }

  // The session shows itself (the landed event, the terminal taken): at the landing, or at a
  // quiet attempt's, which stays tentative: what it prints is still held while it may be kubectl's
  // failure (a kubectl that takes over a second to fail, on a loaded node).
  private show(how: string): void {
    if (!this.opts.early || this.shown || this.abandonedBy) return;
    this.shown = true;
    this.emit({ type: 'landed', attempt: this.current, how });
    this.takeTerminal();
    if (!this.opts.catchUp) return;
    this.catching = [];
    this.emit({ type: 'catch-up' });
  }

  private onExit(attempt: number, exit: AttemptExit): void {
    if (this.spare && attempt === this.spare.id) {
      // A spare that failed before it printed anything: it simply is no more.
      this.spare = undefined;
      return;
    }
    if (attempt !== this.current || this.finished) return;
    this.currentExited = true;
    if (this.landed) return this.finish(exit);
    // A failed kubectl's message may trail its exit: unless its error line is in, it is waited for.
    if (hasKubectlError(Buffer.concat(this.held).toString('latin1'))) return this.decide(exit);
    this.graceOf = { attempt, exit };
    this.setTimer('exit-grace', this.opts.timing.exitGraceMs);
  }

  // The current attempt ended before landing: run another, or end the session, and how.
  private decide(exit: AttemptExit): void {
    if (this.landed) return this.finish(exit);
    const text = Buffer.concat(this.held).toString('utf8');
    const silent = this.opts.waitsForInput === true && exit.exitCode === 0 && !exit.signal && text.trim() === '' && !this.unconfirmed.length;
    // Not the session yet: the kubelet (or kubectl's read of the pod) did not have the container, or
    // an attempt to a shell that waits for its stdin ended silently.
    const retryable = (exit.exitCode !== 0 && CONTAINER_NOT_FOUND.test(text)) || silent;
    if (this.abandonedBy || this.cancelled || (retryable && this.started === 'no')) {
      this.cancelled ||= !this.abandonedBy;
      this.held = [];
      return this.finish(exit);
    }
    const retry = retryable && !this.detached && !this.abnormal && !(this.started === 'yes' && this.retryWindowOver);
    if (retry) {
      this.lastFailure = { exit, message: silent ? SILENT_END : kubectlMessage(text) };
      this.log(`attach attempt ${this.current} failed (${this.lastFailure.message})`);
      if (this.unconfirmed.length) this.handOverDue = true;
      if (this.started === 'pending' && this.spawned >= this.opts.timing.earlyAttempts) {
        this.log('waiting to hear that the container runs before attaching again');
        this.waitingForStarted = exit;
      } else this.scheduleRetry(exit);
      return;
    }
    this.clearTimer('land');
    this.dropSpare();
    this.held = [];
    if (retryable) this.gaveUp = silent ? SILENT_END : kubectlMessage(text);
    else if (exit.exitCode !== 0 || exit.signal) this.failure = kubectlMessage(text);
    else {
      // kubectl attached and the container ended without a byte: a session like any other.
      this.landed = true;
      this.takeTerminal();
      if (text) this.relay(Buffer.from(text));
    }
    this.finish(exit);
  }

  private scheduleRetry(exit: AttemptExit): void {
    this.retryOf = exit;
    this.setTimer('retry', this.opts.timing.retryPauseMs);
  }

  // The retry pause is over: the spare on its way, or one started now, becomes the current attempt.
  private retry(exit: AttemptExit): void {
    if (this.detached || this.abnormal || this.cancelled || this.abandonedBy) {
      this.cancelled ||= this.started === 'no';
      return this.finish(exit);
    }
    this.startSpare(true);
    if (!this.spare) {
      this.gaveUp = this.lastFailure?.message ?? '';
      return this.finish(exit);
    }
    this.promote();
  }

  private onSpawnFailed(attempt: number, message: string): void {
    this.log(`kubectl attach could not be started again (${message})`);
    if (this.spare && attempt === this.spare.id) {
      this.spare = undefined;
      return;
    }
    if (attempt !== this.current || this.landed || this.finished) return;
    this.gaveUp = this.lastFailure?.message ?? message;
    this.finish(this.lastFailure?.exit ?? { exitCode: 1 });
  }

  private onStarted(runs: boolean): void {
    if (this.started !== 'pending') return;
    this.started = runs ? 'yes' : 'no';
    if (runs) this.setTimer('retry-window', this.opts.timing.retryAfterStartedMs);
    if (this.landed || this.finished) return;
    const waiting = this.waitingForStarted;
    this.waitingForStarted = undefined;
    if (runs) {
      if (waiting) this.scheduleRetry(waiting);
      else this.armLandTimer();
      return;
    }
    // It will not run: end the attempt under way, or the wait for the next one.
    this.cancelled = true;
    this.dropSpare();
    if (waiting || this.currentExited) this.finish(waiting ?? { exitCode: 0 });
    else this.emit({ type: 'kill', attempt: this.current, signal: 'SIGKILL' });
  }

  private onTimer(name: TimerName): void {
    this.timers.delete(name);
    if (name === 'retry-window') {
      this.retryWindowOver = true;
    } else if (name === 'kill') {
      this.emit({ type: 'kill', attempt: this.current, signal: 'SIGKILL' });
    } else if (name === 'catch-up') {
      if (this.catching) this.emit({ type: 'catch-up' });
    } else if (this.finished) {
      return;
    } else if (name === 'spare') {
      this.startSpare(false);
    } else if (name === 'retry' && this.retryOf) {
      const exit = this.retryOf;
      this.retryOf = undefined;
      this.retry(exit);
    } else if (name === 'exit-grace' && this.graceOf?.attempt === this.current) {
      const { exit } = this.graceOf;
      this.graceOf = undefined;
      this.decide(exit);
    } else if (name === 'land' && !this.landed) {
      // Quiet but not failed, the container known to run: a program that does not redraw.
      this.dropSpare();
      this.show(`quiet for ${this.opts.timing.landedAfterMs} ms`);
      this.handOver();
    }
  }

  private onInput(data: Buffer): void {
    if (this.detached || !this.taken || this.restored) return;
    const { pass, detach } = this.matcher.feed(data);
    // Behind bytes still to be handed to the next attempt, they wait to go with them.
    if (pass.length && this.handOverDue) this.typedMeanwhile.push(pass);
    else if (pass.length) {
      if (!this.landed) this.unconfirmed.push(pass);
      this.emit({ type: 'write-attempt', attempt: this.current, data: pass });
    }
    if (!detach) return;
    // kubectl attach has no detach of its own: ending it closes the attach stream only; the
    // container keeps its stdin (stdinOnce is off) and its shell, for `attach` to find again.
    this.log('detach keys typed: ending kubectl attach, the container keeps running');
    this.detached = true;
    this.emit({ type: 'kill', attempt: this.current, signal: 'SIGTERM' });
    this.armKill();
  }

  private onSignal(signal: NodeJS.Signals): void {
    this.log(`received ${signal}: passing it to kubectl and restoring the terminal`);
    this.abnormal = true;
    if (!this.landed) this.abandonedBy ??= signal;
    this.dropSpare();
    this.restore();
    // Between attempts there is no kubectl to end: the session is over now.
    if (!this.landed && (this.currentExited || this.waitingForStarted || this.retryOf)) {
      return this.finish(this.waitingForStarted ?? this.retryOf ?? this.lastFailure?.exit ?? { exitCode: 0 });
    }
    this.emit({ type: 'kill', attempt: this.current, signal });
    this.armKill();
  }

  // Starts a spare attempt, unless one runs or no more are wanted; a retry (the cap already
  // applied by its caller) is started regardless of the count.
  private startSpare(retry: boolean): void {
    if (this.landed || this.spare || this.cancelled || this.detached || this.abnormal || this.started === 'no' || this.finished) return;
    if (!retry && this.started === 'pending' && this.spawned >= this.opts.timing.earlyAttempts) return;
    this.spawned++;
    this.spare = { id: this.spawned, held: [] };
    this.emit({ type: 'spawn', attempt: this.spawned });
  }

  // The spare becomes the current attempt; the one it replaces is ended if it still runs.
  private promote(): void {
    const spare = this.spare!;
    this.spare = undefined;
    // A retry due (or one waiting for the word that the container runs) is this attempt now: left
    // pending, it would find this one landed, start nothing and end the session as not found.
    this.retryOf = undefined;
    this.waitingForStarted = undefined;
    this.clearTimer('retry');
    if (!this.currentExited) this.emit({ type: 'kill', attempt: this.current, signal: 'SIGKILL' });
    this.current = spare.id;
    this.currentExited = false;
    this.held = [];
    this.graceOf = undefined;
    this.clearTimer('exit-grace');
    const pending = Buffer.concat(spare.held);
    if (pending.length) this.relay(pending);
    if (this.landed) return;
    this.armLandTimer();
    this.armSpare();
  }

  private dropSpare(): void {
    this.clearTimer('spare');
    if (!this.spare) return;
    this.emit({ type: 'kill', attempt: this.spare.id, signal: 'SIGKILL' });
    this.spare = undefined;
  }

  private armSpare(): void {
    this.clearTimer('spare');
    if (!this.landed && this.opts.early) this.setTimer('spare', this.opts.timing.spareDelayMs);
  }

  // Before the container is known to run, a quiet kubectl may still be on its way to "not found"
  // (seconds, on a loaded node): only output lands it then.
  private armLandTimer(): void {
    if (this.landed || (this.opts.early && this.started !== 'yes')) return;
    this.setTimer('land', this.opts.timing.landedAfterMs);
  }

  private armKill(): void {
    if (this.killArmed) return;
    this.killArmed = true;
    this.setTimer('kill', this.opts.timing.killGraceMs);
  }

  private takeTerminal(): void {
    if (this.taken || this.restored) return;
    this.taken = true;
    this.emit({ type: 'take-terminal' });
  }

  // Puts the user's terminal back (when it was taken); once.
  private restore(): void {
    if (this.restored) return;
    this.restored = true;
    if (this.taken) this.emit({ type: 'restore-terminal', reset: this.abnormal });
  }

  private finish(exit: AttemptExit): void {
    if (this.finished) return;
    this.finished = true;
    // A catch-up waiting to read the log again reads it now, one last time: drain waits for it.
    const catchUpDue = this.catching !== undefined && this.timers.has('catch-up');
    for (const name of TIMERS) this.clearTimer(name);
    if (catchUpDue) this.emit({ type: 'catch-up' });
    this.dropSpare();
    // Killed, kubectl could not undo what the program in the container did to the terminal.
    if (exit.signal) this.abnormal = true;
    this.restore();
    this.emit({ type: 'finish', end: this.endOf(exit) });
  }

  private endOf(exit: AttemptExit): AttachEnd {
    const exitCode = exit.signal ? 128 + exit.signal : exit.exitCode;
    if (this.detached) return { kind: 'detached' };
    if (this.abandonedBy && !this.landed) return { kind: 'abandoned', signal: this.abandonedBy };
    if (this.cancelled) return { kind: 'not-running' };
    if (this.gaveUp !== undefined) return { kind: 'not-found', message: this.gaveUp, exitCode };
    if (this.failure !== undefined) return { kind: 'failed', message: this.failure, exitCode };
    return { kind: 'exited', exitCode };
  }

  private setTimer(name: TimerName, ms: number): void {
    this.timers.add(name);
    this.emit({ type: 'set-timer', name, ms });
  }

  private clearTimer(name: TimerName): void {
    if (this.timers.delete(name)) this.emit({ type: 'clear-timer', name });
  }

  private log(line: string): void {
    this.emit({ type: 'log', line });
  }

  private emit(action: AttachAction): void {
    this.out.push(action);
  }

  private flush(): AttachAction[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}

/** Whether the log has caught up with an attach whose first bytes are `first`: it holds their start (nothing to wait for when there are none). */
export function logReached(log: Buffer, first: Buffer): boolean {
  const head = first.toString('latin1').replace(/\r\n/g, '\n').split('\n')[0]!.slice(0, 256);
  return head.length === 0 || log.toString('latin1').includes(head);
}

/**
 * What of the container's log came before the attach's first bytes: the log up to where they
 * start in it, or up to the part of them its end already holds, or all of it (none of them logged
 * yet). A TTY's log may hold "\n" where the attach carries "\r\n": compared without the "\r", and
 * written with it (the terminal is raw). Nothing printed twice: at worst a byte too few.
 */
export function logBefore(log: Buffer, first: Buffer): Buffer {
  const plain = (b: Buffer) => b.toString('latin1').replace(/\r\n/g, '\n');
  const text = plain(log);
  const head = plain(first);
  let end = head.length ? text.indexOf(head) : -1;
  if (end < 0) {
    end = text.length;
    // The overlap is looked for over the first 4 KiB of the attach's bytes: enough, and bounded.
    for (let k = Math.min(head.length, text.length, 4096); k > 0; k--) {
      if (text.endsWith(head.slice(0, k))) {
        end = text.length - k;
        break;
      }
    }
  }
  return Buffer.from(text.slice(0, end).replace(/\n/g, '\r\n'), 'latin1');
}
