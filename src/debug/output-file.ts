import { closeSync, constants, createWriteStream, fchmodSync, fstatSync, lstatSync, openSync, unlinkSync, type WriteStream } from 'node:fs';
import { PluginError, usageError } from '../errors/plugin-error.js';

/** A local file a command streams into: created by this run only, so it may be removed on failure. */
export interface OutputFile {
  /** The path as given. */
  path: string;
  stream: WriteStream;
  /** Removes the file if it is still the one this run created (idempotent). */
  remove(): void;
}

/**
 * Creates `path` for writing, mode 0600: exclusive (an existing file, or a symlink even to nowhere,
 * is refused, never overwritten or followed). Called before anything is sent to the cluster, so a
 * bad path fails with nothing created there.
 */
export function createOutputFile(path: string, flag: string): OutputFile {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw usageError(`${path} already exists; ${flag} never overwrites a file: name a new one`);
    if (code === 'ENOENT') throw new PluginError('not-found', `the directory of ${path} does not exist; create it or name another ${flag} file`);
    if (code === 'EISDIR') throw usageError(`${path} is a directory; ${flag} needs a file name`);
    throw usageError(`cannot create ${path} (${code ?? (err as Error).message}); name another ${flag} file`);
  }
  try {
    // A umask cannot widen 0600, but an odd one could narrow it below what the owner needs.
    fchmodSync(fd, 0o600);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  const { dev, ino } = fstatSync(fd);
  const stream = createWriteStream(path, { fd, autoClose: true });
  let removed = false;
  return {
    path,
    stream,
    remove: () => {
      if (removed) return;
      removed = true;
      stream.destroy();
      try {
        // Only the file this run created: a path replaced since (by the user, say) is left alone.
        const now = lstatSync(path);
        if (now.dev === dev && now.ino === ino) unlinkSync(path);
      } catch {
        /* already gone */
      }
    },
  };
}

