import yargs from 'yargs';
import { EXIT_CODES, PluginError, usageError, type ErrorKind } from '../errors/plugin-error.js';
import { permissionsByRole, ROLE_USE } from '../kube/access-rules.js';
import type { PresetRegistry } from '../presets/registry.js';
import { commandModules, commandNamed, firstPositional, kubeFlagSpecs, scanKubeFlags, type CommandSpec } from './command-spec.js';
import type { KubeFlags } from '../kube/kube-flags.js';
import { normalizeKubeFlags } from './kube-flags.js';
import { normalizeOptionalValues } from './optional-values.js';
import type { ParsedCommand } from './parsed-command.js';
import { VERSION } from '../version.js';

/** Exit codes in help, from the one table (src/errors/plugin-error.ts), lowest first. */
function exitCodesLine(): string {
  const kinds = (Object.keys(EXIT_CODES) as ErrorKind[]).sort((a, b) => EXIT_CODES[a] - EXIT_CODES[b]);
  return `Exit codes: the debugged program's own code once attached; ${kinds.map((k) => `${EXIT_CODES[k]} ${k}`).join(', ')}.`;
}

/** Permissions in help, from the code's own list (src/debug/preflight.ts), one shipped ClusterRole each. */
function permissionsLines(): string {
  return [
    'Permissions (the ClusterRoles and a binding template: kubectl ephemeral permissions -o yaml):',
    ...permissionsByRole().map(({ role, grants }) => `  ${role} (${ROLE_USE[role]}): ${grants}`),
  ].join('\n');
}

/** The help epilogue: generated, so it cannot drift from the code. */
export function helpEpilogue(): string {
  return [permissionsLines(), exitCodesLine()].join('\n\n');
}

/** Where help and version text go (stdout in production, a buffer in tests). */
export type HelpWriter = (text: string) => void;

/**
 * The kube flags of a command line that names a preset command (a debug session: its first step is
 * to connect), read ahead of the parse so that the connection opens while the parse runs (see
 * scanKubeFlags); undefined for other commands, for help and version, and for a word that names
 * no command (the parse refuses it).
 */
export function presetCommandKubeFlags(args: string[], registry: PresetRegistry): KubeFlags | undefined {
  const end = args.indexOf('--');
  if ((end < 0 ? args : args.slice(0, end)).some((a) => /^(--help|-h|--version)(=|$)/.test(a))) return undefined;
  const word = firstPositional(normalizeKubeFlags(args), kubeFlagSpecs());
  return word !== undefined && commandNamed(registry, word)?.preset ? scanKubeFlags(args) : undefined;
}

/** Parses argv (without node and script) into a command; prints help/version itself. Never runs a command. */
export async function parseCommandLine(args: string[], registry: PresetRegistry, writeHelp: HelpWriter, width = 100): Promise<ParsedCommand> {
  let parsed: ParsedCommand | undefined;
  const result = (p: ParsedCommand) => (parsed = p);
  let failure: Error | undefined;
  const kubeNormal = normalizeKubeFlags(args);
  const command = checkCommandName(kubeNormal, registry);
  // Errors point at the help of the command the user ran, in the words they typed.
  const word = firstPositional(kubeNormal, kubeFlagSpecs());
  const seeHelp = `see kubectl ephemeral ${command && word ? `${word} ` : ''}--help`;
  const argv = normalizeOptionalValues(kubeNormal, (flag) => command?.spec().flags.some((f) => f.name === flag && f.type === 'string') === true);
  const y = yargs(argv)
    .scriptName('kubectl ephemeral')
    .usage('$0 <preset> <pod> [-- command...]\n\nInject a preset debug container into a running pod and attach to it.')
    .parserConfiguration({ 'populate--': true, 'strip-aliased': true, 'camel-case-expansion': false })
    .strict()
    .exitProcess(false)
    .wrap(width)
    .version('version', 'Print the plugin version', VERSION)
    .alias('help', 'h')
    .epilogue(helpEpilogue())
    .demandCommand(1, 'name a preset or a command')
    .recommendCommands()
    .fail((msg, err) => {
      failure = err ?? usageError(`${asTyped(msg ?? 'invalid arguments', kubeNormal).replace(/\n/g, ' ')}; ${seeHelp}`);
    });
  for (const module of commandModules(registry, result)) y.command(module);
  skipHelpCache(y);
  if (args.length === 0) {
    // As kubectl and cobra-based plugins (krew) do with no arguments: the usage, on stdout, exit 0.
    writeHelp(await y.getHelp());
    return { command: 'done', exitCode: 0 };
  }
  let helpText = '';
  await y.parseAsync(argv, {}, (err, _argv, output) => {
    if (err && !failure) failure = err;
    helpText = output;
  });
  if (failure) throw failure instanceof PluginError ? failure : usageError(`${asTyped(failure.message, kubeNormal)}; ${seeHelp}`);
  if (parsed) return parsed;
  if (helpText) writeHelp(helpText);
  return { command: 'done', exitCode: 0 };
}

/**
 * yargs' message in lower case, with the flags it names as the user typed them: "Unknown argument:
 * env" becomes "unknown flag: --env" (yargs drops the dashes, and with them what was typed).
 */
function asTyped(message: string, args: string[]): string {
  const unknown = /^Unknown arguments?: (.*)$/s.exec(message);
  if (!unknown) return message.toLowerCase();
  const end = args.indexOf('--');
  const typed = unknown[1]!.split(', ').map((name) => {
    const word = (end < 0 ? args : args.slice(0, end)).find((a) => /^--?[^-]/.test(a) && a.replace(/^--?/, '').split('=')[0] === name);
    return word ? word.split('=')[0]! : name;
  });
  const flags = typed.filter((t) => t.startsWith('-'));
  const words = typed.filter((t) => !t.startsWith('-'));
  return [
    ...(flags.length ? [`unknown flag${flags.length > 1 ? 's' : ''}: ${flags.join(', ')}`] : []),
    ...(words.length ? [`unexpected argument${words.length > 1 ? 's' : ''}: ${words.join(', ')}`] : []),
  ].join('; ');
}

interface UsageInternals {
  getInternalMethods?(): { getUsageInstance?(): { cacheHelpMessage?: () => void } };
}

/**
 * yargs renders the whole help into a cache whenever it runs a command's handler (for a help
 * shown after an asynchronous handler fails), about 20 ms of start-up. Our handlers only record
 * the parsed command and help is never shown after them, so the cache would never be read.
 * (Internal API of yargs 17-18; without it, the cache is simply built as before.)
 */
function skipHelpCache(y: unknown): void {
  const usage = (y as UsageInternals).getInternalMethods?.().getUsageInstance?.();
  if (usage?.cacheHelpMessage) usage.cacheHelpMessage = () => undefined;
}

/**
 * The command the user named; an unknown one is named in the error itself (yargs would list every
 * word it could not place: "unknown arguments: n, nosuchpreset, web").
 */
function checkCommandName(args: string[], registry: PresetRegistry): { spec(): CommandSpec } | undefined {
  const word = firstPositional(args, kubeFlagSpecs());
  if (word === undefined || word === 'help') return undefined;
  const known = commandNamed(registry, word);
  if (known) return known;
  const commands = commandModules(registry, () => undefined)
    .slice(registry.presets.length)
    .map((m) => String(m.command).split(' ')[0]);
  throw usageError(`unknown preset or command "${word}"; presets: ${registry.names().join(', ')}; commands: ${commands.join(', ')}`);
}
