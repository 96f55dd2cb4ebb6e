import type { CommandModule } from 'yargs';
import type { PermissionsOptions } from '../commands/permissions.js';
import type { ParsedCommand } from './parsed-command.js';

/** `kubectl ephemeral permissions [-o yaml|json]`. */
export function permissionsCommand(result: (parsed: ParsedCommand) => void): CommandModule {
  return {
    command: 'permissions',
    describe: 'Print the permissions each command needs, or the ClusterRoles and bindings that grant them',
    builder: (y) =>
      y
        .option('output', { alias: 'o', type: 'string', choices: ['json', 'yaml'], describe: 'Output format: the ClusterRoles and a binding template' })
        .example('kubectl ephemeral permissions', '# each permission, the ClusterRole that grants it and what the plugin does with it')
        .example('kubectl ephemeral permissions -o yaml > rbac.yaml', '# the ClusterRoles and a binding template to edit and kubectl apply -n NAMESPACE -f'),
    handler: (argv) => result({ command: 'permissions', options: { output: argv.output as PermissionsOptions['output'] } }),
  };
}
