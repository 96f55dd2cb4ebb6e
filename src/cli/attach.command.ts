import type { CommandModule } from 'yargs';
import { kubeFlagsFrom, withKubeFlags } from './kube-flags.js';
import { recordMode } from './optional-values.js';
import type { ParsedCommand } from './parsed-command.js';

/** `kubectl ephemeral attach POD [CONTAINER]`. */
export function attachCommand(result: (parsed: ParsedCommand) => void): CommandModule {
  return {
    command: 'attach <pod> [container]',
    describe: 'Attach again to a running debug container',
    builder: (y) =>
      withKubeFlags(y)
        .positional('pod', { type: 'string', describe: 'Pod', demandOption: true })
        .positional('container', { type: 'string', describe: 'Debug container (default: the only running one)' })
        .option('record', { type: 'string', describe: 'Record the session as asciicast: --record (default dir), --record=FILE, --no-record' })
        .example('kubectl ephemeral attach web-7d4b9 debugger-network-x7k2p', '# back into the same shell'),
    handler: (argv) => {
      const a = argv as Record<string, unknown>;
      const record = recordMode(a.record);
      result({ command: 'attach', options: { pod: String(a.pod), container: a.container as string | undefined, record, kube: kubeFlagsFrom(a) } });
    },
  };
}
