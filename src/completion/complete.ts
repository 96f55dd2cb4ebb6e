// Shell completion for kubectl's plugin completion. The commands, their flags and positionals come
// from the command definitions themselves (src/cli/command-spec.ts reads the yargs builders):
// nothing here lists a flag, so a flag added to a builder completes without touching this file.
import { flagNamed, takesNextWord, type CommandSpec, type FlagSpec } from '../cli/command-spec.js';
import { OPTIONAL_VALUE_FLAGS } from '../cli/optional-values.js';
import type { CompletionLookups, CompletionPod } from '../kube/completion-lookups.js';
import type { KubeFlags } from '../kube/kube-flags.js';
import type { WorkloadKind } from '../kube/workload-kinds.js';
import { failingContainers } from '../plan/failing-container.js';

export type { CompletionPod } from '../kube/completion-lookups.js';

/** What completion may look up; main.ts wires the real ones (src/kube/completion-lookups.ts). */
export interface CompletionDeps extends CompletionLookups {
  /** The command line's shape (commandSpecs of the registry). */
  commands: CommandSpec[];
}

/** Cobra's ShellCompDirective values, which kubectl relays to the shell as the last line `:<n>`. */
export const Directive = { Default: 0, Error: 1, NoSpace: 2, NoFileComp: 4, FilterDirs: 16 } as const;

/**
 * The workload prefixes a pod argument takes besides a pod name (kubectl's TYPE/NAME forms),
 * offered once a word is started; `pod/` then completes pod names, the others their workloads.
 */
export const WORKLOAD_PREFIXES = ['pod/', 'deploy/', 'sts/', 'ds/', 'rs/', 'job/'];

/** The workload kind each prefix names (what src/plan/workload-ref.ts resolves). */
const PREFIX_KINDS: Readonly<Record<string, WorkloadKind>> = { 'deploy/': 'deployment', 'sts/': 'statefulset', 'ds/': 'daemonset', 'rs/': 'replicaset', 'job/': 'job' };

/** A preset command also takes node/NAME (a node session); the other commands take pods only. */
export const NODE_PREFIX = 'node/';

/**
 * What a flag's value is, by the flag's long name: where the values come from. The flags
 * themselves (names, aliases, types, choices) come from the builders.
 */
const VALUE_KINDS: Record<string, 'namespaces' | 'contexts' | 'files' | 'dirs' | 'containers' | 'image-pairs' | string[]> = {
  namespace: 'namespaces',
  context: 'contexts',
  kubeconfig: 'files',
  record: 'files',
  write: 'files',
  dir: 'dirs',
  container: 'containers',
  target: 'containers',
  // kubectl's NAME=IMAGE (pairs joined by commas): the copy's containers, and * for all of them.
  'set-image': 'image-pairs',
  custom: 'files',
  'dry-run': ['client', 'server'],
  'run-as': ['root', 'target'],
};

/** The words before the one being completed, read the way the CLI reads them. */
interface ReadWords {
  command?: CommandSpec;
  flags: Map<string, string>;
  positionals: string[];
  /** The last word was a flag still waiting for its value. */
  pending?: FlagSpec;
  /** A `--` was seen: the rest is the command run in the container. */
  dashdash: boolean;
}

function readWords(words: string[], commands: CommandSpec[]): ReadWords {
  const read: ReadWords = { flags: new Map(), positionals: [], dashdash: false };
  // Before the command is named only kubectl's global flags apply; all commands share them.
  const global = commands[0]?.flags ?? [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--') {
      read.dashdash = true;
      break;
    }
    if (!word.startsWith('-') || word === '-') {
      if (!read.command) read.command = commands.find((c) => c.name === word || c.aliases.includes(word));
      read.positionals.push(word);
      continue;
    }
    const flag = flagNamed(read.command?.flags ?? global, word);
    if (!flag) continue;
    const eq = word.indexOf('=');
    if (eq > 0) read.flags.set(flag.name, word.slice(eq + 1));
    else if (i + 1 >= words.length) {
      // A flag at the end still waiting for its value (an optional-value flag never waits).
      if (flag.type !== 'boolean' && !(flag.name in OPTIONAL_VALUE_FLAGS) && flag.name !== 'v') read.pending = flag;
    } else if (takesNextWord(flag, word, words[i + 1])) read.flags.set(flag.name, words[++i]!);
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
  const read = readWords(words.slice(0, -1), deps.commands);
  const done = (candidates: string[], directive: number = Directive.NoFileComp) => [...candidates.filter((c) => c.startsWith(partial)), `:${directive}`];
  // After -- comes the command run in the container: local file names mean nothing there.
  if (read.dashdash) return done([]);
  const flags = read.command?.flags ?? deps.commands[0]?.flags ?? [];

  // A flag's value: `-n <TAB>` or `--namespace=<TAB>`.
  let flag = read.pending;
  let prefix = '';
  if (!flag && partial.startsWith('-') && partial.includes('=')) {
    prefix = partial.slice(0, partial.indexOf('=') + 1);
    flag = flagNamed(flags, partial);
    if (!flag) return done([]);
  }
  if (flag) {
    const values = await flagValues(flag, partial.slice(prefix.length), read, deps);
    if (values === 'files') return done([], Directive.Default);
    if (values === 'dirs') return done([], Directive.FilterDirs);
    // The start of a value the user goes on typing (`app=`): no space after it.
    if ('continued' in values) return done(values.continued.map((v) => prefix + v), Directive.NoSpace | Directive.NoFileComp);
    return done(values.map((v) => prefix + v));
  }
  // A flag name: the command's visible flags, long forms (kubectl's own completion offers those).
  if (partial.startsWith('-')) {
    const names = flags.filter((f) => !f.hidden && f.name.length > 1 && f.name !== 'help').map((f) => `--${f.negatable ? 'no-' : ''}${f.name}`);
    return done([...names, '--help']);
  }

  const command = read.command;
  if (read.positionals.length === 0) return done(deps.commands.flatMap((c) => (c.preset ? [c.name, ...c.aliases] : [c.name])));
  if (!command) return done([]);
  const position = command.positionals[read.positionals.length - 1];
  // A preset whose POD is optional is the one that picks a failing pod (crashloop).
  if (position === 'pod') return completePod(partial, read, deps, command.preset, command.preset && command.optionalPod === true);
  if (position === 'container' && command.name === 'attach') return done(await containersOf(read.positionals[1]!, read, deps, (p) => p.ephemeralContainers ?? []));
  return done([]);
}

/**
 * Pod names and, for a preset command (which resolves them), the workload prefixes and node/;
 * after `pod/` pod names under it, after `node/` node names.
 */
async function completePod(partial: string, read: ReadWords, deps: CompletionDeps, preset: boolean, crashloop = false): Promise<string[]> {
  const slash = partial.indexOf('/');
  const kind = slash < 0 ? '' : partial.slice(0, slash + 1);
  const prefixes = preset ? [...WORKLOAD_PREFIXES, NODE_PREFIX] : [];
  if (preset && kind === NODE_PREFIX) {
    const nodes = await lookup(() => deps.listNodes(kubeFlagsOf(read)), (list) => list.map((n) => NODE_PREFIX + n));
    return [...nodes.filter((c) => c.startsWith(partial)), `:${Directive.NoFileComp}`];
  }
  const workload = PREFIX_KINDS[kind];
  if (preset && workload) {
    const names = await lookup(() => deps.listWorkloads(workload, read.flags.get('namespace'), kubeFlagsOf(read)), (list) => list.map((n) => kind + n));
    return [...names.filter((c) => c.startsWith(partial)), `:${Directive.NoFileComp}`];
  }
  if (kind && kind !== 'pod/') return [`:${Directive.NoFileComp}`];
  // crashloop offers the failing pods first (the ones it would pick), then the rest.
  const order = (list: CompletionPod[]) => (crashloop ? [...list.filter(isFailing), ...list.filter((p) => !isFailing(p))] : list);
  const pods = await lookup(() => deps.listPods(read.flags.get('namespace'), kubeFlagsOf(read)), (list) => order(list).map((p) => kind + p.name));
  // Prefixes once something is typed: a bare <TAB> lists pods, as kubectl's own completion does.
  const candidates = [...pods, ...(kind || !partial ? [] : prefixes)].filter((c) => c.startsWith(partial));
  // Only prefixes left: no space after `deploy/`, the name comes next.
  const onlyPrefixes = candidates.length > 0 && candidates.every((c) => prefixes.includes(c));
  return [...candidates, `:${onlyPrefixes ? Directive.NoSpace | Directive.NoFileComp : Directive.NoFileComp}`];
}

/** Whole values; starts of values the user goes on typing (continued); or the shell's own file or directory completion. */
type FlagValues = string[] | { continued: string[] } | 'files' | 'dirs';

async function flagValues(flag: FlagSpec, typed: string, read: ReadWords, deps: CompletionDeps): Promise<FlagValues> {
  if (flag.choices) return flag.choices;
  // Only `--keep-labels=` gets here for a boolean: the word after a boolean flag is not its value.
  if (flag.type === 'boolean') return ['true', 'false'];
  const kind = VALUE_KINDS[flag.name];
  if (Array.isArray(kind)) return kind;
  const flags = kubeFlagsOf(read);
  switch (kind) {
    case 'namespaces':
      return lookup(() => deps.listNamespaces(flags), (names) => names);
    case 'contexts':
      return lookup(async () => deps.contexts(flags), (names) => names);
    case 'files':
    case 'dirs':
      return kind;
    case 'containers': {
      const pod = read.positionals[1];
      return pod ? containersOf(pod, read, deps, (p) => p.containers) : [];
    }
    case 'image-pairs':
      return imagePairs(typed, read, deps);
    default:
      return [];
  }
}

/**
 * --set-image NAME=IMAGE[,NAME=IMAGE]: the names the pod's containers (spec.containers, the ones
 * kubectl's --set-image changes) and * not named yet in the word, each followed by `=`; nothing
 * once an image is being typed.
 */
async function imagePairs(typed: string, read: ReadWords, deps: CompletionDeps): Promise<FlagValues> {
  const before = typed.slice(0, typed.lastIndexOf(',') + 1);
  const pod = read.positionals[1];
  if (typed.slice(before.length).includes('=') || !pod) return [];
  const named = new Set(before.split(',').map((pair) => pair.split('=')[0]));
  const names = await containersOf(pod, read, deps, (p) => p.containers);
  const left = names.length ? [...names, '*'].filter((n) => !named.has(n)) : [];
  return left.length ? { continued: left.map((n) => `${before}${n}=`) } : [];
}

/** A pod with a container failing now (crashloop's candidates), read from its status. */
function isFailing(p: CompletionPod): boolean {
  if (!p.status) return false;
  const spec = { containers: p.containers.map((name) => ({ name })), initContainers: (p.initContainers ?? []).map((name) => ({ name })) };
  return failingContainers({ spec, status: p.status }).length > 0;
}

function containersOf(pod: string, read: ReadWords, deps: CompletionDeps, pick: (p: CompletionPod) => string[]): Promise<string[]> {
  const name = pod.startsWith('pod/') ? pod.slice(4) : pod;
  return lookup(
    () => deps.listPods(read.flags.get('namespace'), kubeFlagsOf(read)),
    (pods) => pick(pods.find((p) => p.name === name) ?? { name, containers: [] }),
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
