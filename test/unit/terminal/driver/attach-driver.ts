// Runs one attach session the way the plugin would, inside whatever terminal the test gives it, and
// then reports on it. Bundled by the tests with esbuild and run by the project's Node; configured by
// the JSON in ATTACH_DRIVER. Markers go to stdout after the session so the test can read them off
// the same screen.
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { runAttachSession } from '../../../../src/terminal/attach-session';
import { parseDetachKeys } from '../../../../src/terminal/detach-keys';
import { EarlySession } from '../../../../src/terminal/attach/early-session';
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
  /** early.started: settles with `runs` after `afterMs`. */
  early?: { runs: boolean; afterMs: number };
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

/** The debug flow's side of an early session: it says whether the container runs after afterMs. */
function earlySession(early: { runs: boolean; afterMs: number }): EarlySession {
  const session = new EarlySession();
  setTimeout(() => session.settle(early.runs), early.afterMs);
  session.onLanded(() => process.stderr.write('LANDED\r\n'));
  return session;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.ATTACH_DRIVER ?? '{}') as DriverConfig;
  process.stderr.write(`DRIVER-PID ${process.pid}\r\n`);
  const sink = config.output === 'sink' || config.output === 'slow' ? new Sink(config.output === 'slow') : undefined;
  const started = performance.now();
  const warnings: string[] = [];
  const session = runAttachSession({
    kubectl: config.kubectl,
    args: config.args,
    ...(config.detachKeys !== undefined ? { detachKeys: parseDetachKeys(config.detachKeys) } : {}),
    ...(config.stdin !== undefined ? { stdin: config.stdin } : {}),
    ...(config.tty !== undefined ? { tty: config.tty } : {}),
    ...(config.early ? { early: earlySession(config.early) } : {}),
    warn: (line) => {
      warnings.push(line);
      process.stderr.write(`W: ${line}\r\n`);
    },
    ...(sink ? { output: sink as unknown as NodeJS.WriteStream } : {}),
    ...(config.recording ? { recording: config.recording } : {}),
    verbose: (line) => process.stderr.write(`V: ${line}\r\n`),
  });
  if (config.crashOnUsr2) {
    process.on('SIGUSR2', () => setTimeout(() => { throw new Error('driver crash'); }, 0));
    // Added after the session's own monitor, so it runs after it and shows the terminal as the
    // session left it, before Node's exit-time reset of stdio could hide a missing restore.
    process.on('uncaughtExceptionMonitor', () => process.stdout.write(`\r\nCRASH-STTY ${sttyNow()}\r\n`));
  }
  const result = await session;
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
