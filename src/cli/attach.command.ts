import type { CommandModule } from 'yargs';
import { kubeFlagsFrom, withKubeFlags } from './kube-flags.js';
import type { ParsedCommand } from './parsed-command.js';
import { sessionFlagsFrom, withSessionOptions } from './session-options.js';

/** `kubectl ephemeral attach POD [CONTAINER]`. */
export function attachCommand(result: (parsed: ParsedCommand) => void): CommandModule {
  return {
    command: 'attach <pod> [container]',
    describe: 'Attach again to a running debug container',
    builder: (y) =>
      withSessionOptions(withKubeFlags(y), { streams: false })
        .positional('pod', { type: 'string', describe: 'Pod', demandOption: true })
        .positional('container', { type: 'string', describe: 'Debug container (default: the only running one)' })
        .example('kubectl ephemeral attach web-7d4b9 debugger-network-x7k2p', '# back into the same shell (Ctrl-P Ctrl-Q leaves it running)'),
    handler: (argv) => {
      const a = argv as Record<string, unknown>;
      result({ command: 'attach', options: { pod: String(a.pod), container: a.container as string | undefined, ...sessionFlagsFrom(a), kube: kubeFlagsFrom(a) } });
    },
  };
}
