import type { CommandModule } from 'yargs';
import { kubeFlagsFrom, withKubeFlags } from './kube-flags.js';
import type { ParsedCommand } from './parsed-command.js';

/** `kubectl ephemeral collect POD -w FILE`. */
export function collectCommand(result: (parsed: ParsedCommand) => void): CommandModule {
  return {
    command: 'collect <pod>',
    describe: 'Collect evidence from a pod into a local tar archive with a sha256 manifest, without writing to it',
    builder: (y) =>
      withKubeFlags(y)
        .positional('pod', { type: 'string', describe: 'Pod to collect from', demandOption: true })
        .option('write', { alias: 'w', type: 'string', demandOption: true, describe: 'Archive to create (never overwritten), or - for stdout' })
        .option('container', { alias: 'c', type: 'string', describe: 'Container to collect from (default: the default container)' })
        .option('path', { type: 'string', array: true, default: [], describe: 'Another absolute path to read from the container (repeatable)' })
        .option('env', { type: 'boolean', default: false, describe: 'Also read the environment of its processes (holds secrets)' })
        .option('max-size', { type: 'string', describe: 'Cap on the content collected (default 256Mi); what does not fit is skipped and recorded' })
        .option('reason', { type: 'string', describe: 'Why: recorded in the archive, the container env and the audit annotation' })
        .option('run-as', { type: 'string', describe: 'UID[:GID] to read as when the pod spec does not say which user the container runs as' })
        .option('image', { type: 'string', describe: 'Collector image with busybox (default: the forensics preset image)' })
        .option('timeout', { type: 'string', default: '2m', describe: 'How long to wait for the collector to start' })
        .example('kubectl ephemeral collect web-7d4b9 -w web.tar --reason "INC-42"', '# processes, sockets, mounts, /tmp, /var/tmp, /dev/shm, crontabs, /etc/passwd')
        .example('kubectl ephemeral collect web-7d4b9 -w web.tar --path /app/logs --env', '# more paths, and the environment')
        .example('kubectl ephemeral collect web-7d4b9 -w - | tar -tvf -', '# to stdout'),
    handler: (argv) => {
      const a = argv as Record<string, unknown>;
      result({
        command: 'collect',
        options: {
          pod: String(a.pod),
          container: a.container as string | undefined,
          write: String(a.write),
          paths: ((a.path as unknown[] | undefined) ?? []).map(String),
          env: Boolean(a.env),
          maxSize: a['max-size'] as string | undefined,
          reason: a.reason as string | undefined,
          runAs: a['run-as'] as string | undefined,
          image: a.image as string | undefined,
          timeout: String(a.timeout ?? '2m'),
          kube: kubeFlagsFrom(a),
        },
      });
    },
  };
}
