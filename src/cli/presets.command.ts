import type { CommandModule } from 'yargs';
import type { PresetsOptions } from '../commands/presets.js';
import type { ParsedCommand } from './parsed-command.js';

/** `kubectl ephemeral presets [-o wide|json|yaml]`. */
export function presetsCommand(result: (parsed: ParsedCommand) => void): CommandModule {
  return {
    command: 'presets',
    describe: 'List the presets (built-in and from your preset file)',
    builder: (y) =>
      y
        .option('output', { alias: 'o', type: 'string', choices: ['wide', 'json', 'yaml'], describe: 'Output format' })
        .example('kubectl ephemeral presets -o wide', '# what each preset does at each Pod Security level, recording, and where it comes from')
        .example('kubectl ephemeral presets -o yaml', '# every preset as a preset file, to copy one and change it'),
    handler: (argv) => result({ command: 'presets', options: { output: argv.output as PresetsOptions['output'] } }),
  };
}
