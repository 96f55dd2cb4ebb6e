import type { Argv, Options } from 'yargs';
import { GLOBAL_FLAGS, type KubeFlags } from '../kube/kube-flags.js';

const GROUP = 'kubectl flags (passed to the spawned kubectl too):';

/** kubectl's global flags as yargs options (name, options), in the order help lists them. */
export function kubeFlagOptions(): Array<[string, Options]> {
  const options = GLOBAL_FLAGS.map((f): [string, Options] => {
    const option: Options = { type: f.kind === 'strings' ? 'string' : f.kind, describe: f.describe, group: GROUP };
    if (f.kind === 'strings') option.array = true;
    if (f.short) option.alias = f.short;
    return [f.flag, option];
  });
  return [...options, ['v', { type: 'number', default: 0, describe: 'Log level: -v shows requests and stack traces', group: GROUP }]];
}

/** Adds kubectl's global flags (every flag of `kubectl options`), which kubectl hands to plugins unparsed. */
export function withKubeFlags<T>(y: Argv<T>) {
  for (const [name, option] of kubeFlagOptions()) y = y.option(name, option) as Argv<T>;
  return y;
}

/** The kube flags out of a parsed argv. */
export function kubeFlagsFrom(argv: Record<string, unknown>): KubeFlags {
  const flags: KubeFlags = { verbosity: Number(argv.v) || 0 };
  const passThrough: string[] = [];
  const target = flags as unknown as Record<string, unknown>;
  for (const f of GLOBAL_FLAGS) {
    const value = argv[f.flag];
    if (f.kind === 'strings') {
      if (f.key) target[f.key] = Array.isArray(value) ? value.map(String) : [];
    } else if (f.kind === 'boolean') {
      if (value === true) f.key ? (target[f.key] = true) : passThrough.push(`--${f.flag}`);
    } else if (typeof value === 'string' && value !== '') {
      f.key ? (target[f.key] = value) : passThrough.push(`--${f.flag}=${value}`);
    }
  }
  if (passThrough.length) flags.passThrough = passThrough;
  return flags;
}

const SHORT_WITH_VALUE = new Map(GLOBAL_FLAGS.filter((f) => f.short).map((f) => [f.short!, f.flag]));

/**
 * Rewrites kubectl's short forms that yargs reads differently: `-nNS` and `-n=NS` (yargs would
 * split `-nkube-system` into single-letter flags), `-sURL`, `-v6`/`-v=6`, and a bare `-v` (level 1;
 * kubectl wants a number). Only before `--`: what follows is the container's command.
 */
export function normalizeKubeFlags(args: string[]): string[] {
  const end = args.indexOf('--');
  const head = end < 0 ? args : args.slice(0, end);
  const tail = end < 0 ? [] : args.slice(end);
  const out = head.map((a, i) => {
    if (a === '-v') return /^\d+$/.test(head[i + 1] ?? '') ? a : '--v=1';
    const verbosity = /^-v=?(\d+)$/.exec(a);
    if (verbosity) return `--v=${verbosity[1]}`;
    const short = /^-([a-zA-Z])=?(.+)$/.exec(a);
    const long = short && SHORT_WITH_VALUE.get(short[1]!);
    if (long) return `--${long}=${short[2]}`;
    return a;
  });
  return [...out, ...tail];
}
