import yargs from 'yargs';
import { PluginError, usageError } from '../errors/plugin-error.js';
import type { PresetRegistry } from '../presets/registry.js';
import { attachCommand } from './attach.command.js';
import { captureCommand } from './capture.command.js';
import { cleanupCommand } from './cleanup.command.js';
import { collectCommand } from './collect.command.js';
import { sessionsCommand } from './sessions.command.js';
import { debugCommand } from './debug.command.js';
import { normalizeKubeFlags } from './kube-flags.js';
import { listCommand } from './list.command.js';
import type { ParsedCommand } from './parsed-command.js';
import { presetsCommand } from './presets.command.js';
import { VERSION } from '../version.js';


const EPILOGUE = [
  'Permissions: patch pods/ephemeralcontainers; get, list, watch pods; create pods/attach; get pods/log; create, delete pods for --copy.',
  'Exit codes: the debugged program\'s own code once attached; 64 usage, 65 Pod Security, 66 not found, 69 unreachable, 70 internal, 72 cluster too old, 75 timeout, 76 image, 77 forbidden, 78 config, 130 interrupted.',
].join('\n\n');

// yargs names an unknown --some-flag twice (some-flag, someFlag): keep the form the user typed.
function withoutCamelCaseTwins(msg: string): string {
  return msg.replace(/^Unknown arguments?: (.*)$/, (_, list: string) => {
    const names = list.split(', ').filter((n) => !/[A-Z]/.test(n));
    return `Unknown argument${names.length > 1 ? 's' : ''}: ${names.join(', ')}`;
  });
}

/** Where help and version text go (stdout in production, a buffer in tests). */
export type HelpWriter = (text: string) => void;

/** Parses argv (without node and script) into a command; prints help/version itself. Never runs a command. */
export async function parseCommandLine(args: string[], registry: PresetRegistry, writeHelp: HelpWriter, width = 100): Promise<ParsedCommand> {
  let parsed: ParsedCommand | undefined;
  const result = (p: ParsedCommand) => (parsed = p);
  let failure: Error | undefined;
  const y = yargs(normalizeKubeFlags(args))
    .scriptName('kubectl ephemeral')
    .usage('$0 <preset> <pod> [-- command...]\n\nInject a preset debug container into a running pod and attach to it.')
    .parserConfiguration({ 'populate--': true, 'strip-aliased': true })
    .strict()
    .exitProcess(false)
    .wrap(width)
    .version('version', 'Print the plugin version', VERSION)
    .alias('help', 'h')
    .epilogue(EPILOGUE)
    .demandCommand(1, 'name a preset or a command')
    .recommendCommands()
    .fail((msg, err) => {
      failure = err ?? usageError(`${withoutCamelCaseTwins(msg ?? 'invalid arguments').replace(/\n/g, ' ').toLowerCase()}; see kubectl ephemeral --help`);
    });
  for (const preset of registry.presets) y.command(debugCommand(preset, result));
  for (const command of [presetsCommand, listCommand, attachCommand, captureCommand, collectCommand, sessionsCommand, cleanupCommand]) y.command(command(result));
  let helpText = '';
  await y.parseAsync(args.length ? normalizeKubeFlags(args) : [], {}, (err, _argv, output) => {
    if (err && !failure) failure = err;
    helpText = output;
  });
  if (failure) throw failure instanceof PluginError ? failure : usageError(`${failure.message.toLowerCase()}; see kubectl ephemeral --help`);
  if (parsed) return parsed;
  if (helpText) writeHelp(helpText);
  return { command: 'done', exitCode: 0 };
}
