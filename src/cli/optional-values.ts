import { usageError } from '../errors/plugin-error.js';

/**
 * Flags whose value is optional, as with kubectl's NoOptDefVal: the value comes after `=`; a
 * separate next word is the value only when it matches (else it is a positional, so
 * `shell --dry-run web` debugs web). `--record` takes its file only as `--record=FILE`.
 */
export const OPTIONAL_VALUE_FLAGS: Readonly<Record<string, RegExp | undefined>> = {
  'dry-run': /^(client|server|none)$/,
  record: undefined,
};

/**
 * Rewrites optional-value flags so yargs reads them as kubectl does: a bare `--dry-run` not
 * followed by a mode becomes `--dry-run=`, a bare `--record` becomes `--record=`. Only flags the
 * chosen command defines as taking a value (`cleanup --dry-run` is a plain boolean) are rewritten;
 * words after `--` are the container's command and stay untouched.
 */
export function normalizeOptionalValues(args: string[], takesValue: (flag: string) => boolean): string[] {
  const end = args.indexOf('--');
  const head = end < 0 ? args : args.slice(0, end);
  const out = head.map((word, i) => {
    if (!word.startsWith('--') || word.includes('=')) return word;
    const name = word.slice(2);
    if (!(name in OPTIONAL_VALUE_FLAGS) || !takesValue(name)) return word;
    const pattern = OPTIONAL_VALUE_FLAGS[name];
    const next = head[i + 1];
    return pattern !== undefined && next !== undefined && pattern.test(next) ? word : `${word}=`;
  });
  return end < 0 ? out : [...out, ...args.slice(end)];
}

/** `--dry-run` alone means client; `--dry-run=server` asks the API server to validate. */
export function dryRunMode(value: unknown): 'client' | 'server' | undefined {
  if (value === undefined || value === false || value === 'none') return undefined;
  if (value === '' || value === true || value === 'client') return 'client';
  if (value === 'server') return 'server';
  throw usageError(`invalid --dry-run "${String(value)}"; use --dry-run, --dry-run=client or --dry-run=server`);
}

/** `--record` alone records to the default directory; `--record=FILE` to FILE; `--no-record` disables. */
export function recordMode(value: unknown): boolean | string | undefined {
  if (value === undefined) return undefined;
  if (value === false || value === 'false') return false;
  if (value === '' || value === true || value === 'true') return true;
  return String(value);
}
