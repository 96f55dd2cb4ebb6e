/** The only module that writes to the console: stdout for results, stderr for progress and notices. */
export interface Printer {
  /** Writes a result line to stdout (what a pipe or `-o json` consumer reads). */
  out(text: string): void;
  /** Writes a progress or notice line to stderr (dropped under -q). */
  info(text: string): void;
  /** Writes a line to stderr that -q keeps: warnings, and what the user must know (a recording). */
  warn(text: string): void;
  /** Writes only under -v. */
  debug(text: string): void;
  /** Whether -v was given. */
  readonly verbose: boolean;
}

/** The production printer over the process streams. */
export function processPrinter(verbose: boolean): Printer {
  return {
    verbose,
    out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    info: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    warn: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    debug: (text) => {
      if (verbose) process.stderr.write(`[debug] ${text}\n`);
    },
  };
}

/** The printer for -q/--quiet: progress and notices dropped; results, warnings and -v lines kept. */
export function quietPrinter(printer: Printer): Printer {
  return { verbose: printer.verbose, out: (t) => printer.out(t), info: () => {}, warn: (t) => printer.warn(t), debug: (t) => printer.debug(t) };
}

/** Renders rows as a kubectl-style table: upper-case headers, columns padded by three spaces. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
