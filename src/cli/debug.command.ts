import type { Argv, CommandModule } from 'yargs';
import type { DebugOptions } from '../debug/request.js';
import { describeAbilityLines } from '../presets/describe.js';
import { DEBUG_PROFILES, IMAGE_PULL_POLICIES, POD_SECURITY_LEVELS, type Preset } from '../presets/preset.js';
import { kubeFlagsFrom, withKubeFlags } from './kube-flags.js';
import { dryRunMode } from './optional-values.js';
import type { ParsedCommand } from './parsed-command.js';
import { sessionFlagsFrom, withSessionOptions } from './session-options.js';

/** Options every preset command shares. */
function withDebugOptions<T>(y: Argv<T>, preset: Preset) {
  const out = withKubeFlags(y)
    .positional('pod', {
      type: 'string',
      describe: `Pod to debug: NAME or pod/NAME, a running pod of deploy/, sts/, ds/, rs/ or job/NAME, or node/NAME for a pod on that node with its root at /host${preset.crashSummary ? '; none: pick a crash-looping pod of the namespace' : ''}`,
      demandOption: !preset.crashSummary,
    })
    .option('container', {
      alias: 'c',
      type: 'string',
      describe: `Container to target (default: ${preset.crashSummary ? 'the failing one, init containers and sidecars included; else ' : ''}the kubectl.kubernetes.io/default-container annotation, else the first)`,
    })
    .option('image', { type: 'string', describe: `Image to run instead of ${preset.image}` })
    .option('name', { type: 'string', describe: 'Name of the debug container (default: debugger-<preset>-<random>)' })
    .option('target', { type: 'string', describe: "Container whose processes the debug container shares (kubectl debug's --target; also the container -c targets)" })
    .option('env', { alias: 'e', type: 'string', describe: 'Environment variable NAME=VALUE for the debug container (repeatable; NAME=VALUE,NAME2=VALUE2 as in kubectl debug)' })
    .option('image-pull-policy', { type: 'string', choices: IMAGE_PULL_POLICIES, describe: "The debug container's image pull policy (default: the API server's)" })
    .option('custom', { type: 'string', describe: "JSON or YAML file with a partial container spec merged over the preset's container, as kubectl debug --custom (not name, command, image, lifecycle, volumeDevices)" })
    .option('profile', { type: 'string', choices: DEBUG_PROFILES, describe: "kubectl debug's profile, as the preset form it maps to: general and legacy the default, baseline and restricted --level, sysadmin --privileged, netadmin the network preset" })
    .option('arguments-only', { type: 'boolean', default: false, describe: "Pass the words after -- as the container's args, keeping the preset's command" })
    .option('attach', { type: 'boolean', default: true, describe: 'Attach when running; --no-attach prints the container name and the attach command' })
    .option('dry-run', { type: 'string', describe: 'Print what would be sent and create nothing: --dry-run[=client] or --dry-run=server (validated by the API server)' })
    .option('output', { alias: 'o', type: 'string', choices: ['json', 'yaml'], describe: 'Format of --dry-run output' })
    .option('timeout', { type: 'string', default: '2m', describe: 'How long to wait for the container to start, with a unit (30s, 2m, 1h)' })
    .option('privileged', { type: 'boolean', default: false, describe: 'Run privileged (only when you must: most namespaces refuse it)' })
    .option('run-as', { type: 'string', describe: 'User to run as: root, target, a uid or uid:gid (overrides the preset)' })
    .option('level', {
      type: 'string',
      choices: POD_SECURITY_LEVELS,
      describe: "Use the preset's form for this Pod Security level (default: the strongest the namespace's enforced level allows; see presets -o wide)",
    })
    .option('reason', { type: 'string', describe: 'Why you are debugging (recorded on the container; some presets require it)' })
    .option('new', { type: 'boolean', default: false, describe: 'Add a new debug container even when one of yours with this preset and image is running (reused by default)' });
  const withSession = withSessionOptions(out, { streams: true, recordDefault: preset.record });
  // Presets without a copy mode still accept the copy flags, hidden, so that validation can say
  // "--copy is for crashloop only" instead of yargs' "unknown argument".
  const hidden = !preset.copy;
  return withSession
    .option('copy', { type: 'boolean', default: false, hidden, describe: 'Debug a copy of the pod (labels, probes, owner refs dropped) whose crashing command is replaced' })
    .option('keepalive', { type: 'string', default: 'sleep infinity', hidden, describe: 'Command that replaces the crashing one in the copy' })
    .option('keep', { type: 'boolean', default: false, hidden, describe: 'Keep the copy after the session (deleted by default; --no-attach keeps it too)' })
    .option('same-node', { type: 'boolean', default: false, hidden, describe: "Run the copy on the original's node (default: the scheduler places it)" })
    .option('share-processes', { type: 'boolean', default: false, hidden, describe: "Let the copy's containers see each other's processes (shareProcessNamespace)" })
    .option('copy-to', { type: 'string', hidden, describe: 'Debug a copy with this name (implies --copy; default: <pod>-debug-<random>)' })
    .option('set-image', { type: 'string', hidden, describe: "In the copy, NAME=IMAGE for a container's image, * for all (repeatable; pairs separated by commas)" })
    .option('replace', { type: 'boolean', default: false, hidden, describe: 'Delete the original pod once the copy is created (the copy then stays)' })
    .option('keep-labels', { type: 'boolean', default: false, hidden, describe: "Keep the original pod's labels in the copy" })
    .option('keep-annotations', { type: 'boolean', default: false, hidden, describe: "Keep the original pod's annotations in the copy" })
    .option('keep-liveness', { type: 'boolean', default: false, hidden, describe: 'Keep the liveness probes in the copy' })
    .option('keep-readiness', { type: 'boolean', default: false, hidden, describe: 'Keep the readiness probes in the copy' })
    .option('keep-startup', { type: 'boolean', default: false, hidden, describe: 'Keep the startup probes in the copy' })
    .option('keep-init-containers', { type: 'boolean', default: true, hidden, describe: 'Run the init containers in the copy (--no-keep-init-containers drops them)' });
}

/** What the preset can and cannot do at each level and what to try in its shell: the end of its --help. */
function presetEpilogue(preset: Preset): string {
  const abilities = describeAbilityLines(preset);
  return [
    ...(abilities.length ? ["What a pod session can do, by Pod Security level (the namespace's enforced level picks the form; --level forces one):", ...abilities, ''] : []),
    ...(preset.banner.length ? ['In its shell, try:', ...preset.banner.map((l) => `  ${l}`)] : []),
  ].join('\n');
}

/** The command module for one preset: `kubectl ephemeral <preset> POD [-- COMMAND...]`. */
export function debugCommand(preset: Preset, result: (parsed: ParsedCommand) => void): CommandModule {
  return {
    command: `${preset.name} ${preset.crashSummary ? '[pod]' : '<pod>'} [command..]`,
    aliases: preset.aliases,
    describe: preset.summary,
    builder: (y) =>
      preset.examples
        .reduce((out, e) => out.example(e.command, `# ${e.comment}`), withDebugOptions(y, preset))
        .epilogue(presetEpilogue(preset))
        .example(`kubectl ephemeral ${preset.name} web-7d4b9`, `# ${preset.summary.split(',')[0]}`)
        .example(`kubectl ephemeral ${preset.name} deploy/web`, '# a running pod of deployment web (ready ones first), named on stderr')
        .example(`kubectl ephemeral ${preset.name} web-7d4b9 --dry-run -o yaml`, '# print the container that would be added')
        .example(`kubectl ephemeral ${preset.name} web-7d4b9 -n shop --no-attach`, '# start it and print how to attach later')
        .example(`kubectl ephemeral ${preset.name} node/worker-1 -n node-debug`, '# debug the node from a privileged namespace; the pod is deleted at exit')
        .example(
          preset.copy ? `kubectl ephemeral ${preset.name} web-7d4b9 --copy --keepalive "sleep 3600"` : `kubectl ephemeral ${preset.name} web-7d4b9 -- ${preset.command?.[0] ?? 'sh'} -c 'id'`,
          preset.copy ? '# debug a copy whose crashing command sleeps instead' : '# run a command instead of the interactive shell',
        )
        .example(
          preset.crashSummary ? `kubectl ephemeral ${preset.name}` : `kubectl ephemeral ${preset.name} web-7d4b9 --new`,
          preset.crashSummary ? '# list the crash-looping pods of the namespace and pick one (terminal only)' : '# add a new container even if one of yours is running (reused otherwise)',
        ) as Argv,
    handler: (argv) => {
      const a = argv as Record<string, unknown>;
      const rest = (a['--'] as string[] | undefined) ?? [];
      const positional = ((a.command as string[] | undefined) ?? []).map(String);
      result({
        command: 'debug',
        options: {
          preset: preset.name,
          pod: a.pod === undefined ? undefined : String(a.pod),
          container: a.container as string | undefined,
          image: a.image as string | undefined,
          name: a.name as string | undefined,
          env: [a.env ?? []].flat().map(String),
          target: a.target as string | undefined,
          imagePullPolicy: a['image-pull-policy'] as DebugOptions['imagePullPolicy'],
          custom: a.custom as string | undefined,
          profile: a.profile as DebugOptions['profile'],
          argumentsOnly: a['arguments-only'] === true,
          command: [...positional, ...rest.map(String)],
          attach: a.attach !== false,
          dryRun: dryRunMode(a['dry-run']),
          output: a.output as DebugOptions['output'],
          timeout: String(a.timeout ?? '2m'),
          privileged: a.privileged === true,
          runAs: a['run-as'] as string | undefined,
          copy: a.copy === true,
          keepalive: String(a.keepalive ?? 'sleep infinity'),
          keep: a.keep === true,
          sameNode: a['same-node'] === true,
          shareProcesses: a['share-processes'] === true,
          copyTo: a['copy-to'] as string | undefined,
          setImage: [a['set-image'] ?? []].flat().map(String),
          replace: a.replace === true,
          keepFields: {
            labels: a['keep-labels'] === true,
            annotations: a['keep-annotations'] === true,
            liveness: a['keep-liveness'] === true,
            readiness: a['keep-readiness'] === true,
            startup: a['keep-startup'] === true,
            initContainers: a['keep-init-containers'] !== false,
          },
          new: a.new === true,
          reason: a.reason as string | undefined,
          ...sessionFlagsFrom(a),
          level: a.level as DebugOptions['level'],
          kube: kubeFlagsFrom(a),
        },
      });
    },
  };
}
