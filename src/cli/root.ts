import yargs from 'yargs';
import { PluginError, usageError } from '../errors/plugin-error.js';
import type { PresetRegistry } from '../presets/registry.js';
import { attachCommand } from './attach.command.js';
import { captureCommand } from './capture.command.js';
import { cleanupCommand } from './cleanup.command.js';
import { sessionsCommand } from './sessions.command.js';
import { debugCommand } from './debug.command.js';
import { normalizeVerbosity } from './kube-flags.js';
import { withOptionalValues } from './session-options.js';
import { listCommand } from './list.command.js';
import type { ParsedCommand } from './parsed-command.js';
import { presetsCommand } from './presets.command.js';
import { VERSION } from '../version.js';


const EPILOGUE = [
  'Permissions: patch pods/ephemeralcontainers; get, list, watch pods; create pods/attach; get pods/log; create, delete pods for --copy.',
  'Exit codes: the debugged program\'s own code once attached; 64 usage, 65 Pod Security, 66 not found, 69 unreachable, 70 internal, 72 cluster too old, 75 timeout, 76 image, 77 forbidden, 78 config, 130 interrupted.',
].join('\n\n');

/** Where help and version text go (stdout in production, a buffer in tests). */
export type HelpWriter = (text: string) => void;

/** Parses argv (without node and script) into a command; prints help/version itself. Never runs a command. */
export async function parseCommandLine(args: string[], registry: PresetRegistry, writeHelp: HelpWriter, width = 100): Promise<ParsedCommand> {
  let parsed: ParsedCommand | undefined;
  const result = (p: ParsedCommand) => (parsed = p);
  let failure: Error | undefined;
  const y = yargs(withOptionalValues(normalizeVerbosity(args)))
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
      failure = err ?? usageError(`${(msg ?? 'invalid arguments').replace(/\n/g, ' ').toLowerCase()}; see kubectl ephemeral --help`);
    });
  for (const preset of registry.presets) y.command(debugCommand(preset, result));
  for (const command of [presetsCommand, listCommand, attachCommand, captureCommand, sessionsCommand, cleanupCommand]) y.command(command(result));
  if (args.length === 0) {
    // As kubectl and cobra-based plugins (krew) do with no arguments: the usage, on stdout, exit 0.
    writeHelp(await y.getHelp());
    return { command: 'done', exitCode: 0 };
  }
  let helpText = '';
  await y.parseAsync(withOptionalValues(normalizeVerbosity(args)), {}, (err, _argv, output) => {
    if (err && !failure) failure = err;
    helpText = output;
  });
  if (failure) throw failure instanceof PluginError ? failure : usageError(`${failure.message.toLowerCase()}; see kubectl ephemeral --help`);
  if (parsed) return parsed;
  if (helpText) writeHelp(helpText);
  return { command: 'done', exitCode: 0 };
}
