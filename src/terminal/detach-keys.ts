// The key sequence that leaves a session without ending the shell, in docker's --detach-keys
// format (https://docs.docker.com/reference/cli/docker/container/attach/#detach-keys): a comma-
// separated list of single characters or ctrl-<a-z, @, [, \, ], ^, _>.

/** docker's default, and ours: Ctrl-P then Ctrl-Q. */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** The bytes of a --detach-keys value; empty for '' (detaching disabled). Throws a one-line message on bad input. */
export function parseDetachKeys(spec: string): Buffer {
  if (spec === '') return Buffer.alloc(0);
  const bytes = spec.split(',').map((key) => {
    const ctrl = /^ctrl-(.)$/i.exec(key);
    if (ctrl) {
      const c = ctrl[1]!.toLowerCase();
      if (c >= 'a' && c <= 'z') return c.charCodeAt(0) - 96;
      // ctrl-@ is NUL; ctrl-[ \ ] ^ _ are ESC and 28-31, as a terminal sends them.
      const i = '@[\\]^_'.indexOf(c);
      if (i === 0) return 0;
      if (i > 0) return 26 + i;
    } else if (key.length === 1 && key.charCodeAt(0) < 128) {
      return key.charCodeAt(0);
    }
    throw new Error(`invalid --detach-keys "${spec}": "${key}" is neither one character nor ctrl-<a-z, @, [, \\, ], ^, _>; for example ctrl-p,ctrl-q, or "" to disable`);
  });
  return Buffer.from(bytes);
}

/** The sequence as a user reads it: "Ctrl-P Ctrl-Q". */
export function describeDetachKeys(keys: Buffer): string {
  return [...keys]
    .map((b) => (b < 32 ? `Ctrl-${String.fromCharCode(b === 0 ? 64 : b + 64)}` : b === 127 ? 'DEL' : String.fromCharCode(b)))
    .join(' ');
}

/**
 * Watches typed input for the detach sequence. Bytes that might start it are held back until the
 * next key decides: the sequence, or the held bytes and the new ones passed on (as docker does).
 */
export class DetachKeyMatcher {
  private held = 0;

  constructor(private readonly keys: Buffer) {}

  /** What to send on for this chunk, and whether the sequence completed (the rest is dropped). */
  feed(chunk: Buffer): { pass: Buffer; detach: boolean } {
    if (this.keys.length === 0) return { pass: chunk, detach: false };
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.held]) {
        this.held++;
        if (this.held === this.keys.length) {
          this.held = 0;
          return { pass: Buffer.from(out), detach: true };
        }
        continue;
      }
      // A miss: what was held goes on, and this byte may itself start the sequence again.
      for (let i = 0; i < this.held; i++) out.push(this.keys[i]!);
      this.held = 0;
      if (byte === this.keys[0]) this.held = 1;
      else out.push(byte);
    }
    return { pass: Buffer.from(out), detach: false };
  }
}
