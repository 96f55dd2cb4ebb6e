// The command line as data, read back from the yargs command modules themselves: completion, the
// "unknown preset" check and the optional-value rewriting derive from it, so a flag added to a
// builder is completed and parsed everywhere without a second, hand-kept copy.
import yargs, { type CommandModule } from 'yargs';
import type { PresetRegistry } from '../presets/registry.js';
import { attachCommand } from './attach.command.js';
import { captureCommand } from './capture.command.js';
import { cleanupCommand } from './cleanup.command.js';
import { collectCommand } from './collect.command.js';
import { debugCommand } from './debug.command.js';
import { kubeFlagOptions, kubeFlagsFrom, normalizeKubeFlags, withKubeFlags } from './kube-flags.js';
import type { KubeFlags } from '../kube/kube-flags.js';
import { listCommand } from './list.command.js';
import { OPTIONAL_VALUE_FLAGS } from './optional-values.js';
import type { ParsedCommand } from './parsed-command.js';
import { permissionsCommand } from './permissions.command.js';
import { presetsCommand } from './presets.command.js';
import { sessionsCommand } from './sessions.command.js';

/** One flag of one command. */
export interface FlagSpec {
  /** Long name, without dashes. */
  name: string;
  /** Other spellings (single letters are short flags). */
  aliases: string[];
  type: 'string' | 'boolean' | 'number' | 'array';
  choices?: string[];
  describe?: string;
  /** Accepted but not offered (flags of other presets, kept for a better error). */
  hidden: boolean;
  /** A boolean on by default, so `--no-NAME` is the spelling a user types. */
  negatable: boolean;
}

/** One command (a preset or a subcommand) as the parser defines it. */
export interface CommandSpec {
  name: string;
  aliases: string[];
  /** Positional names in order; a trailing `..` takes the rest (a preset's command). */
  positionals: string[];
  flags: FlagSpec[];
  /** A preset command (as opposed to presets, list, attach ...). */
  preset: boolean;
  /** POD may be left out (`[pod]`): the command picks a pod itself (crashloop picks a failing one). */
  optionalPod?: boolean;
}

/** The subcommand modules in the order help lists them (presets come first, from the registry). */
const SUBCOMMANDS = [presetsCommand, listCommand, attachCommand, captureCommand, collectCommand, sessionsCommand, cleanupCommand, permissionsCommand];

/** Every command module: one per preset, then the subcommands. The parser registers exactly these. */
export function commandModules(registry: PresetRegistry, result: (parsed: ParsedCommand) => void): CommandModule[] {
  return [...registry.presets.map((p) => debugCommand(p, result)), ...SUBCOMMANDS.map((c) => c(result))];
}

/** The command line's shape, read from the builders (nothing is parsed or run). */
export function commandSpecs(registry: PresetRegistry): CommandSpec[] {
  const presetCount = registry.presets.length;
  return commandModules(registry, () => undefined).map((m, i) => specOf(m, i < presetCount));
}

interface Internals {
  getOptions(): unknown;
  getInternalMethods(): { getUsageInstance(): { getDescriptions(): Record<string, string | undefined> } };
}

/**
 * The one command named `word` (a name or alias), or undefined. Its spec is read (its builder run
 * on a yargs instance of its own) only when asked: most command lines never need it.
 */
export function commandNamed(registry: PresetRegistry, word: string): { preset: boolean; spec(): CommandSpec } | undefined {
  const modules = commandModules(registry, () => undefined);
  const i = modules.findIndex((m) => String(m.command).split(' ')[0] === word || ((m.aliases as string[] | undefined) ?? []).includes(word));
  if (i < 0) return undefined;
  let spec: CommandSpec | undefined;
  const preset = i < registry.presets.length;
  return { preset, spec: () => (spec ??= specOf(modules[i]!, preset)) };
}

function specOf(module: CommandModule, preset: boolean): CommandSpec {
  const [name, ...words] = String(module.command).split(' ');
  // getOptions and the usage instance are yargs internals without typings (stable across 17-18).
  const y = yargs([]) as unknown as Internals;
  if (typeof module.builder === 'function') module.builder(y as never);
  const o = y.getOptions() as {
    key: Record<string, boolean>;
    alias: Record<string, string[]>;
    string: string[];
    boolean: string[];
    number: string[];
    array: string[];
    choices: Record<string, string[]>;
    hiddenOptions: string[];
    default: Record<string, unknown>;
  };
  const descriptions = y.getInternalMethods().getUsageInstance().getDescriptions();
  const positionals = words.map((w) => w.replace(/^[<[]|[>\]]$/g, ''));
  const aliasOf = new Set(Object.values(o.alias).flat());
  const flags: FlagSpec[] = Object.keys(o.key)
    .filter((k) => !aliasOf.has(k) && !positionals.includes(k) && !positionals.includes(`${k}..`) && k !== 'version')
    .map((k) => ({
      name: k,
      aliases: o.alias[k] ?? [],
      type: o.array.includes(k) ? 'array' : o.boolean.includes(k) ? 'boolean' : o.number.includes(k) ? 'number' : 'string',
      ...(o.choices[k] ? { choices: o.choices[k] } : {}),
      ...(descriptions[k] ? { describe: descriptions[k]!.replace(/^__yargsString__:/, '') } : {}),
      hidden: o.hiddenOptions.includes(k),
      negatable: o.boolean.includes(k) && o.default[k] === true,
    }));
  return { name: name!, aliases: [...((module.aliases as string[] | undefined) ?? [])], positionals, flags, preset, ...(words.includes('[pod]') ? { optionalPod: true } : {}) };
}

/** The flag a command-line word names (`-n`, `--namespace`, `--namespace=x`, `--no-attach`), if any. */
export function flagNamed(flags: FlagSpec[], word: string): FlagSpec | undefined {
  const bare = word.replace(/^--?/, '').split('=')[0]!;
  const negated = word.startsWith('--no-') ? bare.slice(3) : undefined;
  return flags.find((f) => f.name === bare || f.aliases.includes(bare) || (negated !== undefined && f.type === 'boolean' && f.name === negated));
}

/** Whether a flag word consumes the next word as its value. */
export function takesNextWord(flag: FlagSpec, word: string, next: string | undefined): boolean {
  if (word.includes('=') || flag.type === 'boolean' || word.startsWith('--no-')) return false;
  if (flag.name in OPTIONAL_VALUE_FLAGS) {
    const pattern = OPTIONAL_VALUE_FLAGS[flag.name];
    return pattern !== undefined && next !== undefined && pattern.test(next);
  }
  // kubectl's -v takes a level, but a bare -v is accepted too.
  if (flag.name === 'v') return next !== undefined && /^\d+$/.test(next);
  return true;
}

/** The first word that is not a flag or a flag's value: the preset or command the user named. */
export function firstPositional(args: string[], globalFlags: FlagSpec[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    if (word === '--') return undefined;
    if (!word.startsWith('-') || word === '-') return word;
    const flag = flagNamed(globalFlags, word);
    if (flag && takesNextWord(flag, word, args[i + 1])) i++;
  }
  return undefined;
}

let kubeSpecs: FlagSpec[] | undefined;

/**
 * kubectl's global flags (every command takes them), as specs: made from the options withKubeFlags
 * declares, without a yargs instance (~1-2 ms of a start that reads them before the parse); a unit
 * test proves them the same as the specs read back from yargs.
 */
export function kubeFlagSpecs(): FlagSpec[] {
  kubeSpecs ??= kubeFlagOptions().map(([name, o]) => ({
    name,
    aliases: o.alias === undefined ? [] : [o.alias].flat(),
    type: o.array ? 'array' : (o.type as FlagSpec['type']),
    ...(o.choices ? { choices: [o.choices].flat() as string[] } : {}),
    ...(o.describe ? { describe: String(o.describe) } : {}),
    hidden: o.hidden === true,
    negatable: o.type === 'boolean' && o.default === true,
  }));
  return kubeSpecs;
}

/** The same specs as kubeFlagSpecs, read back from yargs (the test's reference). */
export function kubeFlagSpecsViaYargs(): FlagSpec[] {
  return specOf({ command: 'flags', describe: false, builder: (y) => withKubeFlags(y), handler: () => undefined }, false).flags.filter((f) => f.name !== 'help');
}

/**
 * The kube flags of a command line, read before it is parsed (main.ts opens the connection while
 * the parse runs): the words kubeFlagSpecs names, taken as firstPositional takes them (--flag=V,
 * --flag V, -n V, -nV, --no-flag, repeated: as yargs, an array); every other word is skipped. A
 * guess: a value of another flag that looks like one of these misleads it, so what it opened is
 * used only when the parse's flags are the same.
 */
export function scanKubeFlags(args: string[]): KubeFlags {
  const specs = kubeFlagSpecs();
  const words = normalizeKubeFlags(args);
  const argv: Record<string, unknown> = {};
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--') break;
    const flag = word.startsWith('-') ? flagNamed(specs, word) : undefined;
    if (!flag) continue;
    const eq = word.indexOf('=');
    let value: unknown;
    if (flag.type === 'boolean') value = !word.startsWith('--no-') && (eq < 0 || word.slice(eq + 1) !== 'false');
    else if (eq >= 0) value = word.slice(eq + 1);
    else if (takesNextWord(flag, word, words[i + 1])) value = words[++i];
    else continue;
    argv[flag.name] = flag.type === 'array' ? [...((argv[flag.name] as unknown[] | undefined) ?? []), value] : flag.name in argv ? [argv[flag.name], value].flat() : value;
  }
  return kubeFlagsFrom(argv);
}
