import { usageError } from '../errors/plugin-error.js';

/** -i/--stdin and -t/--tty as given: undefined when the user did not say. */
export interface StreamFlags {
  stdin?: boolean;
  tty?: boolean;
}

/** The flags of every command that attaches a session (the preset commands and attach). */
export interface SessionFlags extends StreamFlags {
  /** --detach-keys in docker's format; '' disables detaching. */
  detachKeys: string;
  /** --record[=FILE]: true for the default file, a path, false for --no-record; undefined: the preset decides. */
  record?: boolean | string;
  /** --record-input: keystrokes go into the recording too (passwords typed with echo off included). */
  recordInput: boolean;
  /** -q/--quiet: only the session's own output, errors and warnings. */
  quiet: boolean;
}

/** What the debug container gets and how the session attaches to it. */
export interface SessionStreams {
  /** The container keeps stdin open, and the session passes ours in. */
  stdin: boolean;
  /** The container gets a TTY, and the session relays a terminal. */
  tty: boolean;
  /** A line to print before attaching, when a flag cannot be honoured as given. */
  warning?: string;
}

/**
 * kubectl debug's rules for -i/-t, with the plugin's interactive defaults: stdin unless -i=false,
 * a TTY exactly when stdin is a terminal. A pipe or a file gets `kubectl debug -i`: a container with
 * stdin and no TTY, so the bytes and the exit code pass through unchanged.
 */
export function resolveSessionStreams(flags: StreamFlags, stdinIsTerminal: boolean, attach = true): SessionStreams {
  const stdin = flags.stdin ?? true;
  // --no-attach: whoever attaches later (`kubectl ephemeral attach`) does it from a terminal; the
  // stdin of the run that only creates the container says nothing about that one.
  if (!attach) {
    if (flags.tty === true && !stdin) throw usageError('-i/--stdin is required for containers with -t/--tty=true; drop -t or add -i');
    return { stdin, tty: flags.tty ?? stdin };
  }
  // kubectl debug's own check and words (pkg/cmd/debug, Validate).
  if (flags.tty === true && !stdin) throw usageError('-i/--stdin is required for containers with -t/--tty=true; drop -t or add -i');
  if (flags.tty === true && !stdinIsTerminal) {
    // kubectl debug -it with a pipe still makes a TTY container, then finds no terminal to attach
    // it to; a TTY would turn the script's \n into \r\n and echo it back. Like kubectl, say so; unlike
    // it, make the container the pipe can use.
    return { stdin, tty: false, warning: 'Unable to use a TTY - input is not a terminal or the right kind of file' };
  }
  return { stdin, tty: flags.tty ?? (stdin && stdinIsTerminal) };
}
