import type { KubeFlags } from '../kube/kube-flags.js';
import { POD_SECURITY_LEVELS } from '../presets/preset.js';

/** A pod as completion needs it: its name and the names of its containers. */
export interface CompletionPod {
  name: string;
  /** Regular containers (the targets of -c). */
  containers: string[];
  /** Ephemeral containers (what `attach` re-attaches to). */
  ephemeralContainers?: string[];
}

/** What completion may look up; main.ts wires the real ones (src/kube/completion-lookups.ts). */
export interface CompletionDeps {
  /** Preset names and aliases. */
  presetNames(): string[];
  /** Context names in the kubeconfig these flags select (no API call). */
  contexts(flags: KubeFlags): string[];
  /** Pods of a namespace (undefined: the context's); one API call with a short timeout. */
  listPods(namespace: string | undefined, flags: KubeFlags): Promise<CompletionPod[]>;
  /** Namespace names; one API call with a short timeout. */
  listNamespaces(flags: KubeFlags): Promise<string[]>;
}

/** Cobra's ShellCompDirective values, which kubectl relays to the shell as the last line `:<n>`. */
export const Directive = { Default: 0, Error: 1, NoSpace: 2, NoFileComp: 4, FilterDirs: 16 } as const;

/** The plugin's commands besides the presets. */
export const SUBCOMMANDS = ['presets', 'list', 'attach', 'sessions', 'capture', 'collect', 'cleanup'] as const;

/** Commands whose first positional argument is a pod. */
const POD_COMMANDS = new Set(['list', 'attach', 'capture', 'collect', 'cleanup']);

/** -o choices by command (a preset command only prints its dry run as json or yaml). */
const OUTPUT_CHOICES: Record<string, string[]> = { presets: ['wide', 'json', 'yaml'], list: ['wide', 'json', 'yaml'], sessions: ['json', 'yaml'] };
const DEBUG_OUTPUT_CHOICES = ['json', 'yaml'];

/** Flags that take a value (as a separate word or after `=`), short forms mapped to long names. */
const VALUE_FLAGS: Record<string, string> = {
  '-n': 'namespace',
  '--namespace': 'namespace',
  '--context': 'context',
  '--kubeconfig': 'kubeconfig',
  '--cluster': 'cluster',
  '--user': 'user',
  '--as': 'as',
  '--as-group': 'as-group',
  '--request-timeout': 'request-timeout',
  '-c': 'container',
  '--container': 'container',
  '-o': 'output',
  '--output': 'output',
  '--image': 'image',
  '--name': 'name',
  '--timeout': 'timeout',
  '--run-as': 'run-as',
  '--level': 'level',
  '--reason': 'reason',
  '--keepalive': 'keepalive',
  '--dry-run': 'dry-run',
  '--record': 'record',
  '--dir': 'dir',
  '--path': 'path',
  '--max-size': 'max-size',
  '-w': 'write',
  '--write': 'write',
};

/** Flags whose value is optional: the next word is theirs only if it is one of these. */
const OPTIONAL_VALUES: Record<string, RegExp> = { 'dry-run': /^(client|server|none)$/ };

/** The words before the one being completed, read the way the CLI reads them. */
interface ReadWords {
  flags: Map<string, string>;
  positionals: string[];
  /** The last word was a flag still waiting for its value. */
  pending?: string;
  /** A `--` was seen: the rest is the command run in the container. */
  command: boolean;
}

function readWords(words: string[]): ReadWords {
  const read: ReadWords = { flags: new Map(), positionals: [], command: false };
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--') {
      read.command = true;
      break;
    }
    const eq = word.indexOf('=');
    const name = word.startsWith('-') ? (eq > 0 ? word.slice(0, eq) : word) : undefined;
    if (name === undefined) {
      read.positionals.push(word);
    } else if (name === '-v') {
      // kubectl's -v takes a level, but a bare -v is accepted too (level 1).
      if (eq < 0 && /^\d+$/.test(words[i + 1] ?? '')) i++;
    } else if (VALUE_FLAGS[name]) {
      const flag = VALUE_FLAGS[name];
      const optional = OPTIONAL_VALUES[flag];
      if (eq > 0) read.flags.set(flag, word.slice(eq + 1));
      else if (optional && i + 1 < words.length && !optional.test(words[i + 1]!)) read.flags.set(flag, '');
      else if (i + 1 < words.length) read.flags.set(flag, words[++i]!);
      else if (!optional) read.pending = flag;
    }
  }
  return read;
}

function kubeFlagsOf(read: ReadWords): KubeFlags {
  const get = (k: string) => read.flags.get(k) || undefined;
  return {
    namespace: get('namespace'),
    context: get('context'),
    kubeconfig: get('kubeconfig'),
    cluster: get('cluster'),
    user: get('user'),
    as: get('as'),
    asGroup: [],
    requestTimeout: get('request-timeout'),
    verbosity: 0,
  };
}

/**
 * Completes `kubectl ephemeral` for kubectl's plugin completion: words are the arguments so far,
 * the last one the (possibly empty) word being completed. Returns the lines to print: candidates,
 * then the directive line. Makes at most one API call; a failed lookup completes nothing.
 */
export async function runCompletion(words: string[], deps: CompletionDeps): Promise<string[]> {
  const partial = words.length ? words[words.length - 1]! : '';
  const read = readWords(words.slice(0, -1));
  const done = (candidates: string[], directive: number = Directive.NoFileComp) => [
    ...candidates.filter((c) => c.startsWith(partial)),
    `:${directive}`,
  ];
  // After -- comes the command run in the container: local file names mean nothing there.
  if (read.command) return done([]);

  // A flag's value: `-n <TAB>` or `--namespace=<TAB>`.
  let flag = read.pending;
  let prefix = '';
  if (!flag && partial.startsWith('-') && partial.includes('=')) {
    const name = partial.slice(0, partial.indexOf('='));
    flag = VALUE_FLAGS[name];
    prefix = `${name}=`;
    if (!flag) return done([]);
  }
  if (flag) {
    const values = await flagValues(flag, read, deps);
    if (values === 'files') return done([], Directive.Default);
    if (values === 'dirs') return done([], Directive.FilterDirs);
    return done(values.map((v) => prefix + v));
  }
  // Flag names are left to `--help`: the flags are defined once, in src/cli.
  if (partial.startsWith('-')) return done([]);

  const [command, ...args] = read.positionals;
  if (command === undefined) return done([...SUBCOMMANDS, ...deps.presetNames()]);
  const isPreset = deps.presetNames().includes(command);
  if (args.length === 0 && (isPreset || POD_COMMANDS.has(command))) {
    return done(await lookup(() => deps.listPods(read.flags.get('namespace'), kubeFlagsOf(read)), (pods) => pods.map((p) => p.name)));
  }
  if (args.length === 1 && command === 'attach') {
    return done(await containersOf(args[0]!, read, deps, (p) => p.ephemeralContainers ?? []));
  }
  return done([]);
}

type FlagValues = string[] | 'files' | 'dirs';

async function flagValues(flag: string, read: ReadWords, deps: CompletionDeps): Promise<FlagValues> {
  const flags = kubeFlagsOf(read);
  const command = read.positionals[0];
  switch (flag) {
    case 'namespace':
      return lookup(() => deps.listNamespaces(flags), (names) => names);
    case 'context':
      return lookup(async () => deps.contexts(flags), (names) => names);
    case 'kubeconfig':
    case 'record':
    case 'write':
      return 'files';
    case 'output':
      return command && deps.presetNames().includes(command) ? DEBUG_OUTPUT_CHOICES : (OUTPUT_CHOICES[command ?? ''] ?? []);
    case 'dir':
      return 'dirs';
    case 'dry-run':
      return ['client', 'server'];
    case 'run-as':
      return ['root', 'target'];
    case 'level':
      return [...POD_SECURITY_LEVELS];
    case 'container': {
      const pod = read.positionals[1];
      return pod ? containersOf(pod, read, deps, (p) => p.containers) : [];
    }
    default:
      return [];
  }
}

function containersOf(pod: string, read: ReadWords, deps: CompletionDeps, pick: (p: CompletionPod) => string[]): Promise<string[]> {
  return lookup(
    () => deps.listPods(read.flags.get('namespace'), kubeFlagsOf(read)),
    (pods) => pick(pods.find((p) => p.name === pod) ?? { name: pod, containers: [] }),
  );
}

// Completion never reports errors: an unreachable cluster or a denied list just offers nothing.
async function lookup<T>(fetch: () => Promise<T>, pick: (value: T) => string[]): Promise<string[]> {
  try {
    return pick(await fetch());
  } catch {
    return [];
  }
}
