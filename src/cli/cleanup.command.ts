import type { CommandModule } from 'yargs';
import { kubeFlagsFrom, withKubeFlags } from './kube-flags.js';
import type { ParsedCommand } from './parsed-command.js';

/** `kubectl ephemeral cleanup [POD] [-A] [--dry-run]`. */
export function cleanupCommand(result: (parsed: ParsedCommand) => void): CommandModule {
  return {
    command: 'cleanup [pod]',
    describe: 'End your running debug containers and delete the pod copies the plugin made',
    builder: (y) =>
      withKubeFlags(y)
        .positional('pod', { type: 'string', describe: 'Pod whose debug containers to end (and copies to delete); default: every pod of the namespace' })
        .option('all-namespaces', { alias: 'A', type: 'boolean', describe: 'Every namespace (needs list pods cluster-wide)' })
        .option('all-users', { type: 'boolean', default: false, describe: "Other users' sessions too (they are typed into: asks first)" })
        .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Do not ask before ending other users\' sessions (with --all-users)' })
        .option('dry-run', { type: 'boolean', default: false, describe: 'Show what would be done' })
        .conflicts('pod', 'all-namespaces')
        .example('kubectl ephemeral cleanup web-7d4b9', '# end your debug shells in it, delete its copies')
        .example('kubectl ephemeral cleanup -A --dry-run', '# what would be ended or deleted everywhere')
        .example('kubectl ephemeral cleanup web-7d4b9 --all-users --yes', "# everyone's sessions in it, without asking"),
    handler: (argv) => {
      const a = argv as Record<string, unknown>;
      result({
        command: 'cleanup',
        options: {
          pod: a.pod as string | undefined,
          allNamespaces: a['all-namespaces'] === true,
          allUsers: a['all-users'] === true,
          yes: a.yes === true,
          dryRun: a['dry-run'] === true,
          kube: kubeFlagsFrom(a),
        },
      });
    },
  };
}
