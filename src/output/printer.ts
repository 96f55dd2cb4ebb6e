/**
 * The only module that writes to the console: stdout for results, stderr for progress and notices.
 * Everything goes through escapeTerminal first: pod logs, events, names and server messages come
 * from the cluster, and a control sequence in them must not drive the user's terminal (the class
 * of CVE-2021-25743). The plugin's own deliberate control sequences use `rawInfo`.
 */
export interface Printer {
  /** Writes a result line to stdout (what a pipe or `-o json` consumer reads), control characters escaped. */
  out(text: string): void;
  /** Writes a progress or notice line to stderr, control characters escaped. */
  info(text: string): void;
  /** Writes only under -v, control characters escaped. */
  debug(text: string): void;
  /**
   * Writes to stderr unescaped: only for the plugin's own control sequences (a live progress line
   * that rewrites itself), never for text that came from the cluster.
   */
  rawInfo(text: string): void;
  /** Whether -v was given. */
  readonly verbose: boolean;
}

// C0 controls but tab and newline, DEL, and the C1 controls (U+0080-U+009F: U+009B is a one-byte CSI).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Makes text safe to print on a terminal: ESC becomes `^[` (as kubectl's printers.EscapeTerminal
 * does), other controls caret or \u notation, a CR that ends a line (CRLF logs) is dropped. Tab
 * and newline stay; nothing is lost from view, it just cannot act.
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

/** Streams a printer writes to (the process's own in production). */
export interface PrinterStreams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** The production printer over the process streams. */
export function processPrinter(verbose: boolean, streams: PrinterStreams = process): Printer {
  const line = (text: string) => {
    const safe = escapeTerminal(text);
    return safe.endsWith('\n') ? safe : `${safe}\n`;
  };
  return {
    verbose,
    out: (text) => void streams.stdout.write(line(text)),
    info: (text) => void streams.stderr.write(line(text)),
    debug: (text) => {
      if (verbose) streams.stderr.write(`[debug] ${line(text)}`);
    },
    rawInfo: (text) => void streams.stderr.write(text),
  };
}

/** Renders rows as a kubectl-style table: upper-case headers, columns padded by three spaces. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
