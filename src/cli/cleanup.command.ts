import type { CommandModule } from 'yargs';
import { kubeFlagsFrom, withKubeFlags } from './kube-flags.js';
import type { ParsedCommand } from './parsed-command.js';

/** `kubectl ephemeral cleanup [POD] [-A] [--dry-run]`. */
export function cleanupCommand(result: (parsed: ParsedCommand) => void): CommandModule {
  return {
    command: 'cleanup [pod]',
    describe: 'End running debug containers of a pod and delete the pod copies the plugin made',
    builder: (y) =>
      withKubeFlags(y)
        .positional('pod', { type: 'string', describe: 'Pod whose debug containers to end (and copies to delete)' })
        .option('all-namespaces', { alias: 'A', type: 'boolean', describe: 'Delete leftover pod copies in every namespace' })
        .option('dry-run', { type: 'boolean', default: false, describe: 'Show what would be done' })
        .conflicts('pod', 'all-namespaces')
        .example('kubectl ephemeral cleanup web-7d4b9', '# end its debug shells, delete its copies')
        .example('kubectl ephemeral cleanup -A --dry-run', '# list leftover pod copies everywhere'),
    handler: (argv) => {
      const a = argv as Record<string, unknown>;
      result({ command: 'cleanup', options: { pod: a.pod as string | undefined, allNamespaces: a['all-namespaces'] === true, dryRun: a['dry-run'] === true, kube: kubeFlagsFrom(a) } });
    },
  };
}
