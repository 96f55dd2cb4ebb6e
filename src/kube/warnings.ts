/** One RFC 7234 warning-value of a `Warning:` response header. */
export interface WarningHeader {
  code: number;
  agent: string;
  text: string;
}

/**
 * Parses `Warning:` header values as apimachinery's ParseWarningHeaders does: each value holds
 * comma-separated `code SP agent SP "quoted text" [SP "date"]` entries. A malformed value is
 * dropped from where it breaks (client-go keeps what parsed and reports the rest as an error).
 */
export function parseWarningHeaders(values: readonly string[]): WarningHeader[] {
  const out: WarningHeader[] = [];
  for (const value of values) {
    let rest = value;
    for (;;) {
      rest = rest.replace(/^[\s,]+/, '');
      const head = /^(\d{3}) (\S+) "/.exec(rest);
      if (!head) break;
      const quoted = readQuoted(rest.slice(head[0].length - 1));
      if (!quoted) break;
      out.push({ code: Number(head[1]), agent: head[2]!, text: quoted.text });
      rest = quoted.rest;
      // An optional warn-date, itself quoted.
      const date = /^ "/.test(rest) ? readQuoted(rest.slice(1)) : undefined;
      if (date) rest = date.rest;
      if (rest && !/^\s*,/.test(rest)) break;
    }
  }
  return out;
}

// A quoted-string with backslash escapes; undefined when it never closes.
function readQuoted(s: string): { text: string; rest: string } | undefined {
  let text = '';
  for (let i = 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) text += s[++i];
    else if (c === '"') return { text, rest: s.slice(i + 1) };
    else text += c;
  }
  return undefined;
}

/**
 * What kubectl does with the API server's warnings (client-go rest.WarningWriter with
 * Deduplicate, as kubectl sets it up): code 299 only, each message once per process, as
 * `Warning: <message>` on stderr; `count` feeds --warnings-as-errors.
 */
export class WarningCollector {
  /** How many distinct warnings were printed. */
  count = 0;
  private readonly seen = new Set<string>();

  /** `print` gets the label ("Warning:", which kubectl colours on a terminal) and the server's message. */
  constructor(private readonly print: (label: string, message: string) => void) {}

  /** Takes the `Warning` header values of one response. */
  handle(values: readonly string[] | undefined): void {
    if (!values?.length) return;
    for (const w of parseWarningHeaders(values)) {
      if (w.code !== 299 || !w.text || this.seen.has(w.text)) continue;
      this.seen.add(w.text);
      this.count++;
      this.print('Warning:', w.text);
    }
  }

  /** kubectl's failure after a successful command that got warnings under --warnings-as-errors (cmd.go PersistentPostRunE). */
  asErrorsMessage(): string {
    return `${this.count} warning${this.count === 1 ? '' : 's'} received (--warnings-as-errors); the command itself ran: see the warnings above`;
  }
}

