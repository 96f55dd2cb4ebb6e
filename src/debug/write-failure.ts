// A capture or collect streams into a local file or stdout; a write there can fail (a full disk, a
// reader that went away). Without a listener the stream's 'error' ends the process with a stack
// trace and leaves the debug container running: here it becomes one line, exit 74.
import type { CommandContext, Connection } from '../context.js';
import { PluginError } from '../errors/plugin-error.js';
import { waitForContainer, type ContainerRef } from './wait-for-container.js';

/** What a write error means to the user, by errno. */
const WRITE_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device (ENOSPC)',
  EDQUOT: 'the disk quota is used up (EDQUOT)',
  EFBIG: 'the file is larger than this file system allows (EFBIG)',
  EPIPE: 'the reader closed the pipe (EPIPE)',
  EIO: 'an input/output error (EIO)',
};

/** A watch on an output stream's write errors: without one, an 'error' event ends the process with a stack trace. */
export interface WriteWatch {
  /** Resolves with why writing failed, the first time it does (never rejects). */
  failed: Promise<string>;
  /** Whether a write has failed. */
  hasFailed(): boolean;
  /** Stops watching (errors after it still cannot crash the process). */
  dispose(): void;
}

/** Watches `stream` (the -w file or stdout) for a failed write: ENOSPC, EPIPE, EIO and the like. */
export function watchWriteErrors(stream: NodeJS.EventEmitter): WriteWatch {
  let failedWith: string | undefined;
  let report: (why: string) => void = () => {};
  const failed = new Promise<string>((resolve) => (report = resolve));
  const onError = (err: NodeJS.ErrnoException) => {
    if (failedWith !== undefined) return;
    failedWith = (err.code && WRITE_ERRORS[err.code]) ?? `${err.code ?? err.message}`;
    report(failedWith);
  };
  stream.on('error', onError);
  return {
    failed,
    hasFailed: () => failedWith !== undefined,
    // Later errors of the same broken stream are expected: keep them from crashing the process.
    dispose: () => {
      stream.off('error', onError);
      stream.on('error', () => undefined);
    },
  };
}

/**
 * The one-line error for a capture or collect whose output could not be written, once its debug
 * container was told to stop: says whether it ended, and how to end it if not.
 */
export async function stoppedAfterWriteError(ctx: CommandContext, conn: Connection, ref: ContainerRef, problem: string, what: string): Promise<PluginError> {
  const { state } = await waitForContainer(conn, ref, { until: 'terminated', timeoutMs: 15_000, now: ctx.now }).catch(() => ({ state: undefined }));
  const ended = state?.phase === 'terminated';
  return new PluginError(
    'write-failed',
    `${problem}; the ${what} container "${ref.container}" ${ended ? 'stopped' : `may still run: kubectl ephemeral cleanup ${ref.pod} -n ${conn.target.namespace} ends it`}`,
  );
}
