import type { Argv } from 'yargs';
import type { KubeFlags } from '../kube/kube-flags.js';

const GROUP = 'kubectl flags (passed to the spawned kubectl too):';

/** Adds kubectl's global flags, which kubectl hands to plugins unparsed. */
export function withKubeFlags<T>(y: Argv<T>) {
  return y
    .option('namespace', { alias: 'n', type: 'string', describe: 'Namespace (default: the context namespace)', group: GROUP })
    .option('context', { type: 'string', describe: 'kubeconfig context to use', group: GROUP })
    .option('kubeconfig', { type: 'string', describe: 'Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config)', group: GROUP })
    .option('cluster', { type: 'string', describe: 'kubeconfig cluster to use', group: GROUP })
    .option('user', { type: 'string', describe: 'kubeconfig user to use', group: GROUP })
    .option('as', { type: 'string', describe: 'User to impersonate', group: GROUP })
    .option('as-group', { type: 'string', array: true, describe: 'Group to impersonate (repeatable)', group: GROUP })
    .option('request-timeout', { type: 'string', describe: 'Timeout of a single API request (e.g. 30s)', group: GROUP })
    .option('v', { type: 'number', default: 0, describe: 'Log level: -v shows requests and stack traces', group: GROUP });
}

/** The kube flags out of a parsed argv. */
export function kubeFlagsFrom(argv: Record<string, unknown>): KubeFlags {
  const str = (k: string) => (typeof argv[k] === 'string' && argv[k] !== '' ? (argv[k] as string) : undefined);
  return {
    namespace: str('namespace'),
    context: str('context'),
    kubeconfig: str('kubeconfig'),
    cluster: str('cluster'),
    user: str('user'),
    as: str('as'),
    asGroup: (argv['as-group'] as string[] | undefined) ?? [],
    requestTimeout: str('request-timeout'),
    verbosity: Number(argv.v) || 0,
  };
}

/** kubectl accepts a bare `-v`; yargs needs a number, so a bare one means level 1. */
export function normalizeVerbosity(args: string[]): string[] {
  const end = args.indexOf('--');
  const head = end < 0 ? args : args.slice(0, end);
  const tail = end < 0 ? [] : args.slice(end);
  return [...head.map((a, i) => (a === '-v' && !/^\d+$/.test(head[i + 1] ?? '') ? '-v=1' : a)), ...tail];
}
