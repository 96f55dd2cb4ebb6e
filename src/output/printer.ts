import { writeSync } from 'node:fs';

/**
 * The only module that writes to the console: stdout for results, stderr for progress and notices.
 * Everything goes through escapeTerminal first: pod logs, events, names and server messages come
 * from the cluster, and a control sequence in them must not drive the user's terminal (the class
 * of CVE-2021-25743). The plugin's own deliberate control sequences (the live progress line) go through `status`,
 * whose caller escapes what came from the cluster in it.
 */
export interface Printer {
  /** Writes a result line to stdout (what a pipe or `-o json` consumer reads), control characters escaped. */
  out(text: string): void;
  /** Writes a progress or notice line to stderr (dropped under -q), control characters escaped. */
  info(text: string): void;
  /**
   * Writes a line to stderr that -q keeps (warnings, what the user must know: a recording), escaped;
   * `label` goes first, bold yellow when colour is on (as kubectl shows `Warning:`).
   */
  warn(text: string, label?: string): void;
  /** Writes only under -v, control characters escaped. */
  debug(text: string): void;
  /** Whether -v was given. */
  readonly verbose: boolean;
  /** Whether stderr shows a live line (a terminal, and not -q); when false, progress is plain lines. */
  readonly live: boolean;
  /** Whether colour may be used: a terminal, and NO_COLOR unset (https://no-color.org). */
  readonly color: boolean;
  /** Draws the one live line on a terminal's stderr, replacing the last one; undefined clears it. Not escaped: the caller escapes cluster text in it. */
  status(text: string | undefined): void;
}

// C0 controls but tab and newline, DEL, the C1 controls (U+0080-U+009F: U+009B is a one-byte CSI),
// and the bidirectional controls (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069: a name with
// U+202E shows its end reversed, "Trojan Source") and the line and paragraph separators U+2028-U+2029.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * Makes text safe to print on a terminal: ESC becomes `^[` (as kubectl's printers.EscapeTerminal
 * does), other controls caret or \u notation (C1 and the bidirectional controls: `\u202e`), a CR
 * that ends a line (CRLF logs) is dropped. Tab and newline stay; nothing is lost from view, it just
 * cannot act.
 */
export function escapeTerminal(text: string): string {
  return text.replace(/\r+\n/g, '\n').replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    if (code === 0x0d) return '\\r';
    if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
    if (code === 0x7f) return '^?';
    return `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

// What one line of cluster text may take: a scheduler's reason lists every kind of node that does
// not fit, a kubelet message may carry a whole command's output; nothing a reader needs is longer.
export const CLUSTER_LINE_MAX = 400;

/**
 * Cluster text (an event's message, a condition's reason) inside one line of ours: escaped as
 * everywhere, a line break shown and not made, and cut at `max` characters with an ellipsis.
 */
export function clusterLine(text: string, max = CLUSTER_LINE_MAX): string {
  const line = escapeTerminal(text).replace(/\n/g, '\\n').replace(/\t/g, ' ');
  if (line.length <= max) return line;
  // Not between the two halves of a surrogate pair (an emoji).
  const end = /[\ud800-\udbff]/.test(line[max - 2] ?? '') ? max - 2 : max - 1;
  return `${line.slice(0, end)}…`;
}

/** Where a printer writes: the process streams in production, buffers in tests. */
export interface PrinterStreams {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
}

// Erase the line the cursor is on and return to its start.
const CLEAR_LINE = '\r\x1b[K';

/**
 * The process's stdout and stderr written straight to their file descriptors, for a process that
 * only prints a text and exits (--help, --version): the first use of process.stdout on a pipe
 * builds a socket stream, ~3 ms of a ~25 ms start. A descriptor another process left non-blocking
 * and full (EAGAIN) gets the rest through the stream after all; a reader that has gone (EPIPE)
 * gets nothing more.
 */
export function descriptorStreams(fds = { stdout: 1, stderr: 2 }): PrinterStreams {
  const writer = (fd: number, stream: () => NodeJS.WriteStream) => (text: string) => {
    const bytes = Buffer.from(text);
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(fd, bytes, done);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') stream().write(bytes.subarray(done));
      else if (code !== 'EPIPE') throw err;
    }
  };
  return { stdout: { write: writer(fds.stdout, () => process.stdout) }, stderr: { write: writer(fds.stderr, () => process.stderr) } };
}

/** The production printer over the process streams (or the given ones). */
export function processPrinter(verbose: boolean, env: NodeJS.ProcessEnv = process.env, streams: PrinterStreams = process): Printer {
  const { stdout, stderr } = streams;
  const live = stderr.isTTY === true;
  let shown: string | undefined;
  const line = (text: string) => {
    const safe = escapeTerminal(text);
    return safe.endsWith('\n') ? safe : `${safe}\n`;
  };
  // Other lines go above the live line: clear it, write, draw it again.
  const around = (write: () => void) => {
    if (shown !== undefined) stderr.write(CLEAR_LINE);
    write();
    if (shown !== undefined) stderr.write(shown);
  };
  const color = live && !env.NO_COLOR;
  // client-go's WarningWriter colours its prefix the same way.
  const labelled = (label: string | undefined) => (label === undefined ? '' : color ? `\x1b[33;1m${escapeTerminal(label)}\x1b[0m ` : `${escapeTerminal(label)} `);
  return {
    verbose,
    live,
    color,
    out: (text) => around(() => stdout.write(line(text))),
    info: (text) => around(() => stderr.write(line(text))),
    warn: (text, label) => around(() => stderr.write(labelled(label) + line(text))),
    debug: (text) => {
      if (verbose) around(() => stderr.write(`[debug] ${line(text)}`));
    },
    status: (text) => {
      if (!live) return;
      // Cut to the width: a wrapped line cannot be replaced in place with \r.
      const width = Math.max(20, (stderr.columns ?? 80) - 1);
      shown = text === undefined ? undefined : cutToWidth(text, width);
      stderr.write(CLEAR_LINE + (shown ?? ''));
    },
  };
}

/** The printer for -q/--quiet: progress and notices dropped; results, warnings and -v lines kept. */
export function quietPrinter(printer: Printer): Printer {
  return {
    verbose: printer.verbose,
    live: false,
    color: printer.color,
    out: (t) => printer.out(t),
    info: () => {},
    warn: (t, label) => printer.warn(t, label),
    debug: (t) => printer.debug(t),
    status: () => {},
  };
}

// Counts visible characters only: colour sequences take no column.
function cutToWidth(text: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const esc = /^\x1b\[[0-9;]*m/.exec(text.slice(i));
    if (esc) {
      out += esc[0];
      i += esc[0].length - 1;
      continue;
    }
    if (visible === width - 1 && i < text.length - 1) {
      // The cut may have dropped a colour's reset.
      return `${out}…${out.includes('\x1b[') ? '\x1b[0m' : ''}`;
    }
    out += text[i];
    visible++;
  }
  return out;
}

/** Renders rows as a kubectl-style table: upper-case headers, columns padded by three spaces. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
