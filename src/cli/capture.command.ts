import type { CommandModule } from 'yargs';
import { kubeFlagsFrom, withKubeFlags } from './kube-flags.js';
import type { ParsedCommand } from './parsed-command.js';

/** `kubectl ephemeral capture POD -w FILE`. */
export function captureCommand(result: (parsed: ParsedCommand) => void): CommandModule {
  return {
    command: 'capture <pod>',
    describe: 'Capture packets of a pod into a local pcap file (tcpdump in an ephemeral container)',
    builder: (y) =>
      withKubeFlags(y)
        .positional('pod', { type: 'string', describe: 'Pod whose network to capture', demandOption: true })
        .option('write', { alias: 'w', type: 'string', describe: 'pcap file to create (required; never overwritten, mode 0600), or - for stdout' })
        .option('interface', { alias: 'i', type: 'string', default: 'any', describe: 'Interface in the pod' })
        .option('filter', { alias: 'f', type: 'string', describe: 'BPF filter, e.g. "tcp port 8080"' })
        .option('count', { type: 'number', describe: 'Stop after this many packets' })
        .option('duration', { type: 'string', describe: 'Stop after this long (30s, 5m)' })
        .option('container', { alias: 'c', type: 'string', describe: 'Container whose pod to capture (any: they share the network)' })
        .option('image', { type: 'string', describe: 'Image with tcpdump (default: the network preset image)' })
        .option('timeout', { type: 'string', default: '2m', describe: 'How long to wait for the capture container to start' })
        .example('kubectl ephemeral capture web-7d4b9 -f "port 8080" -w web.pcap', '# until Ctrl-C, into web.pcap')
        .example('kubectl ephemeral capture web-7d4b9 -w - | wireshark -k -i -', '# live into Wireshark')
        .example('kubectl ephemeral capture web-7d4b9 --count 100 --duration 30s -w out.pcap', '# bounded capture'),
    handler: (argv) => {
      const a = argv as Record<string, unknown>;
      result({
        command: 'capture',
        options: {
          pod: String(a.pod),
          container: a.container as string | undefined,
          iface: String(a.interface ?? 'any'),
          filter: a.filter as string | undefined,
          write: typeof a.write === 'string' && a.write !== '' ? a.write : undefined,
          count: a.count as number | undefined,
          duration: a.duration as string | undefined,
          image: a.image as string | undefined,
          timeout: String(a.timeout ?? '2m'),
          kube: kubeFlagsFrom(a),
        },
      });
    },
  };
}
