import type { CommandModule } from 'yargs';
import type { ListOptions } from '../commands/list.js';
import { kubeFlagsFrom, withKubeFlags } from './kube-flags.js';
import type { ParsedCommand } from './parsed-command.js';

/** `kubectl ephemeral list [POD] [-A]`. */
export function listCommand(result: (parsed: ParsedCommand) => void): CommandModule {
  return {
    command: 'list [pod]',
    aliases: ['ls'],
    describe: 'List ephemeral containers with preset, state, age and creator',
    builder: (y) =>
      withKubeFlags(y)
        .positional('pod', { type: 'string', describe: 'Only this pod' })
        .option('all-namespaces', { alias: 'A', type: 'boolean', describe: 'List across all namespaces' })
        .option('output', { alias: 'o', type: 'string', choices: ['wide', 'json', 'yaml'], describe: 'Output format' })
        .conflicts('pod', 'all-namespaces')
        .example('kubectl ephemeral list web-7d4b9', '# the debug containers of one pod')
        .example('kubectl ephemeral list -A', '# every debug container in the cluster'),
    handler: (argv) => {
      const a = argv as Record<string, unknown>;
      result({
        command: 'list',
        options: { pod: a.pod as string | undefined, allNamespaces: a['all-namespaces'] === true, output: a.output as ListOptions['output'], kube: kubeFlagsFrom(a) },
      });
    },
  };
}
