// A command's session without a terminal (`-- COMMAND` from a pipe, a file, /dev/null, or with
// -i=false): the command starts with its container, before any attach can reach it, so its output
// is read from the container's log, which holds every byte from the first one; stdin, when passed
// in, goes through a kubectl attach that carries nothing else.
import { constants } from 'node:os';
import type { AttachSessionResult } from './attach-session';
import { FORWARDED_SIGNALS, terminalSize, waitForDrain } from './attach/terminal-io';
import { AsciicastWriter, type RecordingOptions } from './recording';

/** A followed log, as the API client hands it out. */
export type LogStream = NodeJS.ReadableStream & { destroy(): void };

/** What a command session reads and where it writes. */
export interface CommandSessionOptions {
  /** The container's log from its first byte, ending when the container ends: merged, or stdout alone (with `errors`). */
  log: LogStream;
  /** Its stderr alone, where the server serves the log's streams apart: to our stderr. */
  errors?: LogStream;
  /** The stdin-only attach, when stdin is passed in (its end closes the container's stdin). */
  attach?: Promise<AttachSessionResult>;
  /** Defaults to process.stdout. */
  output?: NodeJS.WriteStream;
  /** Defaults to process.stderr (for `errors`). */
  errorOutput?: NodeJS.WriteStream;
  recording?: RecordingOptions;
  env?: NodeJS.ProcessEnv;
  /** The -v logger. */
  verbose?: (line: string) => void;
}

/** How it went. */
export interface CommandSessionResult {
  /** Bytes of the log written out. */
  bytes: number;
  /** The stdin attach's result, when there was one and it ended. */
  attach?: AttachSessionResult;
  /** The session was interrupted (Ctrl-C, SIGTERM, SIGHUP): 128 + its number. */
  interrupted?: number;
  /** Our stdout closed (a reader such as `head` had enough): the rest was not read. */
  outputClosed?: boolean;
  recordingError?: Error;
}

/** Copies the log to the output (with backpressure) until it ends, the output closes or a signal comes. */
export async function runCommandSession(opts: CommandSessionOptions): Promise<CommandSessionResult> {
  const output = opts.output ?? process.stdout;
  const log = opts.verbose ?? (() => {});
  const recorder = opts.recording ? AsciicastWriter.open(opts.recording, terminalSize(output), opts.env ?? process.env) : undefined;
  const result: CommandSessionResult = { bytes: 0 };
  let attachEnded = false;
  opts.attach?.then(
    (r) => {
      attachEnded = true;
      result.attach = r;
      log(`stdin attach ended (${r.end?.kind ?? 'exited'}${r.end && 'message' in r.end ? `: ${r.end.message}` : ''})`);
    },
    (err: Error) => log(`stdin attach could not run: ${err.message}`),
  );
  const logs: Array<[LogStream, NodeJS.WriteStream]> = [[opts.log, output]];
  if (opts.errors) logs.push([opts.errors, opts.errorOutput ?? process.stderr]);
  const stopAll = () => logs.forEach(([l]) => l.destroy());
  const onSignal = (signal: NodeJS.Signals) => {
    log(`received ${signal}: no longer following the log`);
    result.interrupted = 128 + (constants.signals[signal] ?? 0);
    stopAll();
  };
  // A reader such as `head` had enough: the rest is not read.
  const onOutputError = () => {
    result.outputClosed = true;
    stopAll();
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, onSignal);
  output.on('error', onOutputError);
  try {
    await Promise.all(logs.map(([l, out]) => copyLog(l, out, (chunk) => ((result.bytes += chunk.length), recorder?.output(chunk)), () => result.interrupted !== undefined || result.outputClosed === true)));
    await waitForDrain(output);
  } finally {
    for (const signal of FORWARDED_SIGNALS) process.off(signal, onSignal);
    output.off('error', onOutputError);
    await recorder?.close();
  }
  if (recorder?.error) result.recordingError = recorder.error;
  // The container ended, so its stdin is closed too: the attach is over or about to be.
  if (opts.attach && !attachEnded) await Promise.race([opts.attach.catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
  log(`the log gave ${result.bytes} bytes`);
  return result;
}

// Copies one log to its output with backpressure until it ends; a failure after a stop is no failure.
function copyLog(log: LogStream, output: NodeJS.WriteStream, seen: (chunk: Buffer) => void, stopped: () => boolean): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    log.on('data', (chunk: Buffer) => {
      seen(chunk);
      if (!output.write(chunk)) {
        log.pause();
        output.once('drain', () => log.resume());
      }
    });
    log.on('end', resolve);
    log.on('close', resolve);
    log.on('error', (err: Error) => (stopped() ? resolve() : reject(err)));
  });
}
