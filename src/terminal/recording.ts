// Session recordings in asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/), so that
// `asciinema play` replays them and `sessions` can list them from their first line alone.
import { accessSync, constants, createWriteStream, lstatSync, mkdirSync, openSync, statSync, type WriteStream } from 'node:fs';
import { PluginError, usageError } from '../errors/plugin-error.js';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** Who and what a recorded session attached to; kept under the header's `kubectl_ephemeral` key. */
export interface RecordingHeader {
  cluster?: string;
  context?: string;
  namespace: string;
  pod: string;
  container: string;
  preset?: string;
  image?: string;
  user?: string;
  /** The node of a node session (node/NAME). */
  node?: string;
  /** Shown by players; defaults to `namespace/pod container`. */
  title?: string;
}

/** Where to record a session and what to say about it. */
export interface RecordingOptions {
  file: string;
  header: RecordingHeader;
  /** Keep what is typed too (--record-input); by default only output, so a password typed with echo off stays out. */
  input?: boolean;
}

/** The custom header key that carries a RecordingHeader; sessions.ts reads it back. */
export const HEADER_KEY = 'kubectl_ephemeral';

/** The directory recordings go to by default, following the XDG base directory spec. */
export function defaultSessionsDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  // The spec says a relative XDG_STATE_HOME is invalid and must be ignored.
  const state = env.XDG_STATE_HOME?.startsWith('/') ? env.XDG_STATE_HOME : join(home, '.local', 'state');
  return join(state, 'kubectl-ephemeral', 'sessions');
}

/**
 * What is wrong with the sessions directory (and the kubectl-ephemeral directory holding it), or
 * undefined: it must be the user's own directory, not a symlink, not writable by group or others.
 * Someone else who can write there can plant a recording that `sessions` shows as yours, or swap
 * the directory for a symlink to where a recording should not go. Absent is fine: it is created 0700.
 */
export function sessionsDirProblem(dir: string, uid: number | undefined = process.getuid?.()): string | undefined {
  for (const d of [dir, dirname(dir)]) {
    let st;
    try {
      st = lstatSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      return `${d} cannot be checked (${(err as NodeJS.ErrnoException).code})`;
    }
    if (st.isSymbolicLink()) return `${d} is a symlink`;
    if (!st.isDirectory()) return `${d} is not a directory`;
    if (uid !== undefined && st.uid !== uid) return `${d} belongs to uid ${st.uid}, not to you (uid ${uid})`;
    if (st.mode & 0o022) return `${d} is writable by ${st.mode & 0o020 ? 'its group' : ''}${(st.mode & 0o022) === 0o022 ? ' and ' : ''}${st.mode & 0o002 ? 'everyone' : ''} (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`;
  }
  return undefined;
}

/** Refuses a sessions directory that is not safely the user's own (exit 78), naming the fix. */
export function checkSessionsDir(dir: string): void {
  const problem = sessionsDirProblem(dir);
  if (problem) throw new PluginError('config', `the sessions directory is not safely yours: ${problem}; make it yours alone (chmod 700, or remove it and let the plugin create it), or pass --record=FILE`);
}

/**
 * Checks, before the debug container is created, that the session can be recorded as asked: a
 * --record=FILE that does not exist yet in a directory that can take it, or the default sessions
 * directory (checkSessionsDir). An ephemeral container cannot be removed: a recording that would
 * fail must fail first. The file is still created exclusively when the session starts.
 */
export function checkRecordingTarget(record: boolean | string, env: NodeJS.ProcessEnv = process.env, home: string = homedir()): void {
  if (record === false) return;
  if (record === true) return checkSessionsDir(defaultSessionsDir(env, home));
  const fix = 'pass --record=FILE with a new file in a writable directory, or --no-record';
  try {
    lstatSync(record);
    throw usageError(`${record} already exists; --record never overwrites a file: ${fix}`);
  } catch (err) {
    if (err instanceof PluginError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw usageError(`cannot record to ${record} (${(err as NodeJS.ErrnoException).code}); ${fix}`);
  }
  // The nearest directory that exists must take a new entry (the rest is created 0700).
  let dir = dirname(record);
  while (dir !== dirname(dir)) {
    try {
      if (!lstatSync(dir).isDirectory() && !isDirectoryThroughLink(dir)) throw usageError(`cannot record to ${record}: ${dir} is not a directory; ${fix}`);
      break;
    } catch (err) {
      if (err instanceof PluginError) throw err;
      dir = dirname(dir);
    }
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw usageError(`cannot record to ${record}: ${dir} is not writable (${(err as NodeJS.ErrnoException).code}); ${fix}`);
  }
}

function isDirectoryThroughLink(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A file name that sorts by start time and says which container was attached. */
export function defaultRecordingFileName(pod: string, container: string, now: Date = new Date()): string {
  // ISO time without ':' (not allowed in Windows file names, awkward in shells).
  const time = now.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '');
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
  return `${time}_${safe(pod)}_${safe(container)}.cast`;
}

/** Terminal size in character cells. */
export interface TerminalSize {
  cols: number;
  rows: number;
}

/** The clocks a recording reads (tests pass their own). */
export interface RecordingClock {
  /** The wall clock: the header's start time. */
  now(): Date;
  /** A monotonic clock, in nanoseconds: each event's time from the start. */
  monotonicNs(): bigint;
}

const SYSTEM_CLOCK: RecordingClock = { now: () => new Date(), monotonicNs: () => process.hrtime.bigint() };

/** Appends asciicast v2 events to one file without ever blocking the relay that feeds it. */
export class AsciicastWriter {
  private readonly stream: WriteStream;
  private readonly started: bigint;
  private readonly clock: RecordingClock;
  // Separate decoders: a UTF-8 sequence may be split across chunks on either side.
  private readonly outDecoder = new StringDecoder('utf8');
  private readonly inDecoder = new StringDecoder('utf8');
  private failure: Error | undefined;
  private closed = false;
  private readonly keepInput: boolean;

  /** Creates the file (0600, parent directories 0700) and writes the header line. */
  static open(options: RecordingOptions, size: TerminalSize, env: NodeJS.ProcessEnv = process.env, clock: RecordingClock = SYSTEM_CLOCK): AsciicastWriter {
    mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
    // Checked again where the file is made: the directory may have changed since the first check.
    if (dirname(options.file) === defaultSessionsDir(env)) checkSessionsDir(dirname(options.file));
    // 'wx' refuses to follow a planted symlink or overwrite an earlier session; opening here,
    // synchronously, makes an unwritable path fail before the terminal is touched.
    const fd = openSync(options.file, 'wx', 0o600);
    return new AsciicastWriter(createWriteStream(options.file, { fd, highWaterMark: 256 * 1024 }), options, size, env, clock);
  }

  private constructor(stream: WriteStream, options: RecordingOptions, size: TerminalSize, env: NodeJS.ProcessEnv, clock: RecordingClock) {
    const { header } = options;
    this.stream = stream;
    this.keepInput = options.input === true;
    this.clock = clock;
    this.started = clock.monotonicNs();
    this.stream.on('error', (err) => {
      this.failure ??= err;
    });
    const { title, ...meta } = header;
    const line = {
      version: 2,
      width: size.cols,
      height: size.rows,
      timestamp: Math.floor(clock.now().getTime() / 1000),
      title: title ?? `${header.namespace}/${header.pod} ${header.container}${header.node ? ` (node ${header.node})` : ''}`,
      env: { TERM: env.TERM ?? null, SHELL: env.SHELL ?? null },
      [HEADER_KEY]: {
        cluster: meta.cluster ?? null,
        context: meta.context ?? null,
        namespace: meta.namespace,
        pod: meta.pod,
        container: meta.container,
        preset: meta.preset ?? null,
        image: meta.image ?? null,
        user: meta.user ?? null,
        ...(meta.node ? { node: meta.node } : {}),
      },
    };
    this.stream.write(JSON.stringify(line) + '\n');
  }

  /** The first write error, if any; recording stops at it while the session goes on. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Records bytes the container printed. */
  output(data: Buffer | string): void {
    this.event('o', typeof data === 'string' ? data : this.outDecoder.write(data));
  }

  /** Records bytes the user typed, when the recording keeps input at all. */
  input(data: Buffer | string): void {
    if (!this.keepInput) return;
    this.event('i', typeof data === 'string' ? data : this.inDecoder.write(data));
  }

  /** Records a terminal resize. */
  resize(size: TerminalSize): void {
    this.event('r', `${size.cols}x${size.rows}`);
  }

  /** Flushes what is buffered and closes the file; safe to call more than once. */
  async close(): Promise<void> {
    if (this.closed) return;
    const tailOut = this.outDecoder.end();
    const tailIn = this.inDecoder.end();
    if (tailOut) this.event('o', tailOut);
    if (tailIn) this.event('i', tailIn);
    this.closed = true;
    await new Promise<void>((resolve) => {
      if (this.stream.destroyed) return resolve();
      this.stream.end(() => resolve());
      this.stream.once('error', () => resolve());
    });
  }

  private event(kind: 'o' | 'i' | 'r', data: string): void {
    if (this.closed || this.failure || data === '') return;
    const seconds = Number(this.clock.monotonicNs() - this.started) / 1e9;
    // Deliberately ignores write()'s backpressure signal: the file must never slow the terminal,
    // and a disk slower than a terminal for long enough to matter is not a case worth a stall.
    this.stream.write(`[${seconds.toFixed(6)}, "${kind}", ${JSON.stringify(data)}]\n`);
  }
}
