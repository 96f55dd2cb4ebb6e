import { closeSync, constants, createWriteStream, fstatSync, lstatSync, openSync, unlinkSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { PluginError } from '../errors/plugin-error.js';

/** A file this run created (and so may remove again): its descriptor and identity. */
export interface PrivateFile {
  path: string;
  /** A stream over the file; it owns (and closes) the descriptor from then on. */
  writeStream(): WriteStream;
  /** Removes the file if it is still the one this run created (a path replaced since is left alone). */
  remove(): void;
}

// O_EXCL with O_CREAT fails on any existing name, a symlink (even a dangling one) included, so a
// planted link can never redirect the write; O_NOFOLLOW says the same for kernels and paths where
// that matters. The mode is applied at creation, so the file is never readable by others.
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Creates a new file, mode 0600, refusing to follow a symlink or to overwrite anything. `flag`
 * names the option that chose the path, for the error line. Throws `cannot-create` (exit 73).
 */
export function createPrivateFile(path: string, flag: string): PrivateFile {
  let fd: number;
  try {
    fd = openSync(path, CREATE_FLAGS, 0o600);
  } catch (err) {
    throw new PluginError('cannot-create', createFailure(path, flag, err as NodeJS.ErrnoException), { cause: err });
  }
  const { dev, ino } = fstatSync(fd);
  // Once a stream owns the descriptor only it may close it: the number may be reused after.
  let stream: WriteStream | undefined;
  let removed = false;
  return {
    path,
    writeStream() {
      stream ??= createWriteStream(path, { fd });
      return stream;
    },
    remove() {
      if (removed) return;
      removed = true;
      if (stream) stream.destroy();
      else closeSync(fd);
      try {
        const now = lstatSync(path);
        if (now.dev === dev && now.ino === ino) unlinkSync(path);
      } catch {
        // Gone already: nothing to remove.
      }
    },
  };
}

function createFailure(path: string, flag: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EEXIST':
    case 'ELOOP': {
      const link = (() => {
        try {
          return lstatSync(path).isSymbolicLink();
        } catch {
          return false;
        }
      })();
      return link
        ? `${path} is a symlink; ${flag} writes only a new file and never follows links: choose another path`
        : `${path} already exists; ${flag} never overwrites a file: remove it or choose another path`;
    }
    case 'ENOENT':
      return `directory ${dirname(path)} does not exist; create it or choose another path for ${flag}`;
    case 'ENOTDIR':
      return `${dirname(path)} is not a directory; choose another path for ${flag}`;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `cannot create ${path} (${err.code}); choose a writable directory for ${flag}`;
    case 'EISDIR':
      return `${path} is a directory; give ${flag} a file name`;
    default:
      return `cannot create ${path} (${err.code ?? err.message}); choose another path for ${flag}`;
  }
}
