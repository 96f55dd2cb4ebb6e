// Runs one attach session the way the plugin would, inside whatever terminal the test gives it, and
// then reports on it. Bundled by the tests with esbuild and run by the project's Node; configured by
// the JSON in ATTACH_DRIVER. Markers go to stdout after the session so the test can read them off
// the same screen.
//
// Nothing here waits on the real clock for the test: a timer the test names in heldTimers, and an
// early session's word when the test gives it, happen at the test's step (OuterTerminal.step: the
// step's name in the file DRIVER_STEP_FILE, then SIGALRM), after the events they must follow were
// seen on the screen.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { runAttachSession, startAttachAhead } from '../../../../src/terminal/attach-session';
import { parseDetachKeys } from '../../../../src/terminal/detach-keys';
import { EarlySession } from '../../../../src/terminal/attach/early-session';
import type { TimerName } from '../../../../src/terminal/attach/machine';
import { REAL_TIMERS, type AttachTimers } from '../../../../src/terminal/attach/timing';
import type { RecordingOptions } from '../../../../src/terminal/recording';

/** What the test asks the driver to do. */
export interface DriverConfig {
  kubectl: string;
  args: string[];
  recording?: RecordingOptions;
  /** stdout (default); a byte-counting sink; or a sink that takes each chunk slowly. */
  output?: 'stdout' | 'sink' | 'slow';
  /** Throw from a timer when SIGUSR2 arrives, to exercise the crash path. */
  crashOnUsr2?: boolean;
  /** --detach-keys as the user gives it. */
  detachKeys?: string;
  stdin?: boolean;
  tty?: boolean;
  /** early.started: settles with `runs` at once, or at the test's step named 'settle'. */
  early?: { runs: boolean; when: 'at-once' | 'at-step' };
  /** The machine's timers that fire only at the test's step of their name; each is announced as TIMER-HELD <name> when set. */
  heldTimers?: TimerName[];
  /**
   * The first kubectl attach starts ahead of the session (startAttachAhead) with these arguments
   * (default: args); the session itself begins at the test's step named 'session'.
   */
  headStart?: { args?: string[] };
}

/** The DRIVER-RESULT line, as JSON. */
export interface DriverReport {
  exitCode: number;
  detached?: boolean;
  warnings?: string[];
  ms: number;
  recordingError?: string;
  sinkBytes?: number;
  sinkTail?: string;
  maxBuffered?: number;
  cancelled?: boolean;
  notFound?: string;
  /** end.kind failed: kubectl's message. */
  failed?: string;
}

class Sink extends Writable {
  bytes = 0;
  tail = '';
  maxBuffered = 0;
  constructor(private readonly slow: boolean) {
    super({ highWaterMark: 16 * 1024 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.bytes += chunk.length;
    this.tail = (this.tail + chunk.toString('latin1')).slice(-64);
    // writableLength includes this chunk: the high-water mark seen by the relay.
    this.maxBuffered = Math.max(this.maxBuffered, this.writableLength);
    if (this.slow) setTimeout(done, 1);
    else done();
  }
}

function sttyNow(): string {
  try {
    return execFileSync('stty', ['-a'], { stdio: ['inherit', 'pipe', 'pipe'], encoding: 'utf8' }).replace(/\s+/g, ' ');
  } catch (err) {
    return `stty failed: ${(err as Error).message}`;
  }
}

// The test's steps: what each name does when the test takes it.
const steps = new Map<string, () => void>();
process.on('SIGALRM', () => {
  const name = readFileSync(process.env.DRIVER_STEP_FILE ?? '', 'utf8').trim();
  const run = steps.get(name);
  steps.delete(name);
  process.stderr.write(`STEP ${name}${run ? '' : ' (nothing held by that name)'}\r\n`);
  run?.();
});

/** The debug flow's side of an early session: it says whether the container runs, at once or at the test's step. */
function earlySession(early: NonNullable<DriverConfig['early']>): EarlySession {
  const session = new EarlySession();
  if (early.when === 'at-once') session.settle(early.runs);
  else steps.set('settle', () => session.settle(early.runs));
  session.onLanded(() => process.stderr.write('LANDED\r\n'));
  return session;
}

/** The real clock, but for the named timers: each fires at the test's step of its name, unless cancelled first. */
function heldTimers(names: TimerName[]): AttachTimers {
  return {
    set(name, ms, fire) {
      if (!names.includes(name)) return REAL_TIMERS.set(name, ms, fire);
      process.stderr.write(`TIMER-HELD ${name}\r\n`);
      steps.set(name, fire);
      return () => {
        if (steps.get(name) === fire) steps.delete(name);
      };
    },
  };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.ATTACH_DRIVER ?? '{}') as DriverConfig;
  process.stderr.write(`DRIVER-PID ${process.pid}\r\n`);
  const sink = config.output === 'sink' || config.output === 'slow' ? new Sink(config.output === 'slow') : undefined;
  const verbose = (line: string) => process.stderr.write(`V: ${line}\r\n`);
  const headStart = config.headStart ? startAttachAhead({ kubectl: config.kubectl, args: config.headStart.args ?? config.args, verbose }) : undefined;
  if (config.headStart) {
    process.stderr.write(`AHEAD ${headStart ? `pid ${headStart.pty.pid}` : 'none'}\r\n`);
    // The debug flow's requests keep the plugin alive meanwhile (a signal handler does not).
    const requests = setInterval(() => {}, 60_000);
    await new Promise<void>((resolve) => steps.set('session', resolve)).finally(() => clearInterval(requests));
  }
  const started = performance.now();
  const warnings: string[] = [];
  const session = runAttachSession({
    ...(headStart ? { headStart } : {}),
    kubectl: config.kubectl,
    args: config.args,
    ...(config.detachKeys !== undefined ? { detachKeys: parseDetachKeys(config.detachKeys) } : {}),
    ...(config.stdin !== undefined ? { stdin: config.stdin } : {}),
    ...(config.tty !== undefined ? { tty: config.tty } : {}),
    ...(config.early ? { early: earlySession(config.early) } : {}),
    ...(config.heldTimers ? { timers: heldTimers(config.heldTimers) } : {}),
    warn: (line) => {
      warnings.push(line);
      process.stderr.write(`W: ${line}\r\n`);
    },
    ...(sink ? { output: sink as unknown as NodeJS.WriteStream } : {}),
    ...(config.recording ? { recording: config.recording } : {}),
    verbose,
  });
  if (config.crashOnUsr2) {
    process.on('SIGUSR2', () => setTimeout(() => { throw new Error('driver crash'); }, 0));
    // Added after the session's own monitor, so it runs after it and shows the terminal as the
    // session left it, before Node's exit-time reset of stdio could hide a missing restore.
    process.on('uncaughtExceptionMonitor', () => process.stdout.write(`\r\nCRASH-STTY ${sttyNow()}\r\n`));
  }
  // Stands for the debug flow's watch of the pod, which keeps the plugin alive while an early
  // session waits for its word with no attempt running (a signal handler does not).
  const watch = setInterval(() => {}, 60_000);
  const result = await session.finally(() => clearInterval(watch));
  const report: DriverReport = { exitCode: result.exitCode, ms: performance.now() - started };
  if (result.recordingError) report.recordingError = result.recordingError.message;
  if (result.detached) report.detached = true;
  if (result.cancelled) report.cancelled = true;
  if (result.notFound !== undefined) report.notFound = result.notFound;
  if (result.end?.kind === 'failed') report.failed = result.end.message;
  if (warnings.length) report.warnings = warnings;
  if (sink) Object.assign(report, { sinkBytes: sink.bytes, sinkTail: sink.tail, maxBuffered: sink.maxBuffered });
  process.stdout.write(`\r\nDRIVER-RESULT ${JSON.stringify(report)}\r\n`);
  process.stdout.write(`DRIVER-STTY ${process.stdin.isTTY ? sttyNow() : 'not a tty'}\r\n`);
  // No process.exit: a listener the session forgot would keep the process alive and fail the test.
  process.exitCode = result.exitCode;
}

void main();
