import type { CommandModule } from 'yargs';
import type { SessionsOptions } from '../commands/sessions.js';
import type { ParsedCommand } from './parsed-command.js';

/** `kubectl ephemeral sessions`. */
export function sessionsCommand(result: (parsed: ParsedCommand) => void): CommandModule {
  return {
    command: 'sessions',
    describe: 'List the sessions recorded on this machine (asciicast files)',
    builder: (y) =>
      y
        .option('output', { alias: 'o', type: 'string', choices: ['json', 'yaml'], describe: 'Output format' })
        .option('dir', { type: 'string', describe: 'Directory of recordings (default: $XDG_STATE_HOME/kubectl-ephemeral/sessions)' })
        .example('kubectl ephemeral sessions', '# newest first; replay with asciinema play FILE'),
    handler: (argv) => result({ command: 'sessions', options: { output: argv.output as SessionsOptions['output'], dir: argv.dir as string | undefined } }),
  };
}
