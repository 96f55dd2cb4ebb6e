/** kubectl's global flags (`kubectl options`), which kubectl hands to a plugin unparsed. */
export interface KubeFlags {
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  cluster?: string;
  user?: string;
  server?: string;
  token?: string;
  certificateAuthority?: string;
  clientCertificate?: string;
  clientKey?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  username?: string;
  password?: string;
  as?: string;
  asGroup?: string[];
  asUid?: string;
  requestTimeout?: string;
  disableCompression?: boolean;
  /** --warnings-as-errors: the API server's warnings fail a run that otherwise succeeded (exit 1, as kubectl). */
  warningsAsErrors?: boolean;
  /** Flags the plugin accepts for kubectl's sake and hands to the spawned kubectl unchanged (--cache-dir, --vmodule, ...). */
  passThrough?: string[];
  /** kubectl's -v level (0 = quiet). */
  verbosity: number;
  /**
   * Set once the run has resolved its connection (main.ts connect): spawned kubectl processes get
   * its kubeconfig instead of the flags that choose the cluster and the identity.
   */
  spawnConnection?: {
    kubeconfigFile(): string | undefined;
    /** The same file for a kubectl started while the run waits for its credential (ChildConnection.kubeconfigFileAhead). */
    kubeconfigFileAhead?(): Promise<{ file: string; standsFor: string } | undefined>;
  };
}

/** One kubectl global flag: its name, the KubeFlags key it fills, its kind, and whether its value is a secret. */
export interface GlobalFlag {
  flag: string;
  key?: Exclude<keyof KubeFlags, 'verbosity' | 'passThrough' | 'spawnConnection'>;
  kind: 'string' | 'boolean' | 'strings';
  short?: string;
  describe: string;
  secret?: boolean;
  /** Chooses the cluster or the identity: the run's own kubeconfig (spawnConnection) stands for it. */
  connection?: boolean;
}

/**
 * Every flag of `kubectl options` (kubectl 1.32), the one list the CLI mixin, the flag normaliser
 * and kubectlArgs derive from. Flags without a key only matter to kubectl: they pass through.
 * Not --profile and --profile-output (kubectl's own profiler): as in kubectl debug, --profile names
 * a debug profile (src/cli/debug.command.ts), and the spawned kubectl must never get it.
 */
export const GLOBAL_FLAGS: readonly GlobalFlag[] = [
  { flag: 'namespace', short: 'n', key: 'namespace', kind: 'string', describe: 'Namespace (default: the context namespace)' },
  { flag: 'context', key: 'context', kind: 'string', describe: 'kubeconfig context to use', connection: true },
  { flag: 'kubeconfig', key: 'kubeconfig', kind: 'string', describe: 'Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config)', connection: true },
  { flag: 'cluster', key: 'cluster', kind: 'string', describe: 'kubeconfig cluster to use', connection: true },
  { flag: 'user', key: 'user', kind: 'string', describe: 'kubeconfig user to use', connection: true },
  { flag: 'server', short: 's', key: 'server', kind: 'string', describe: 'Address of the API server', connection: true },
  { flag: 'token', key: 'token', kind: 'string', describe: 'Bearer token', secret: true, connection: true },
  { flag: 'certificate-authority', key: 'certificateAuthority', kind: 'string', describe: 'CA certificate file', connection: true },
  { flag: 'client-certificate', key: 'clientCertificate', kind: 'string', describe: 'Client certificate file', connection: true },
  { flag: 'client-key', key: 'clientKey', kind: 'string', describe: 'Client key file', connection: true },
  { flag: 'insecure-skip-tls-verify', key: 'insecureSkipTlsVerify', kind: 'boolean', describe: 'Do not verify the server certificate (insecure)', connection: true },
  { flag: 'tls-server-name', key: 'tlsServerName', kind: 'string', describe: 'Server name to verify the server certificate against', connection: true },
  { flag: 'username', key: 'username', kind: 'string', describe: 'Username for basic authentication', connection: true },
  { flag: 'password', key: 'password', kind: 'string', describe: 'Password for basic authentication', secret: true, connection: true },
  { flag: 'as', key: 'as', kind: 'string', describe: 'User to impersonate', connection: true },
  { flag: 'as-group', key: 'asGroup', kind: 'strings', describe: 'Group to impersonate (repeatable)', connection: true },
  { flag: 'as-uid', key: 'asUid', kind: 'string', describe: 'UID to impersonate', connection: true },
  { flag: 'request-timeout', key: 'requestTimeout', kind: 'string', describe: 'Deadline of a single API request (e.g. 30s; 0: none)' },
  { flag: 'disable-compression', key: 'disableCompression', kind: 'boolean', describe: 'Ask the server for uncompressed responses', connection: true },
  { flag: 'cache-dir', kind: 'string', describe: 'kubectl cache directory (passed to kubectl)' },
  { flag: 'log-flush-frequency', kind: 'string', describe: 'kubectl log flush interval (passed to kubectl)' },
  { flag: 'match-server-version', kind: 'boolean', describe: 'Passed to kubectl' },
  { flag: 'vmodule', kind: 'string', describe: 'kubectl per-file log levels (passed to kubectl)' },
  { flag: 'warnings-as-errors', key: 'warningsAsErrors', kind: 'boolean', describe: 'Treat warnings received from the server as errors (exit 1)' },
];

/**
 * The same flags as kubectl arguments, for the kubectl the plugin spawns (same identity, same
 * route): once the run resolved its connection, `--kubeconfig` to the run's own kubeconfig in place
 * of the flags that choose the cluster and identity (no child runs the credential plugin again, no
 * secret on its command line). `display` gives the user's own flags with secrets replaced by a
 * placeholder, for a command printed for the user.
 */
export function kubectlArgs(flags: KubeFlags, namespace: string, opts: { display?: boolean } = {}): string[] {
  const own = opts.display ? undefined : flags.spawnConnection?.kubeconfigFile();
  const args = own ? ['--kubeconfig', own, '-n', namespace] : ['-n', namespace];
  for (const f of GLOBAL_FLAGS) {
    if (!f.key || f.key === 'namespace' || (own && f.connection)) continue;
    const value = flags[f.key];
    if (f.kind === 'boolean') {
      if (value === true) args.push(`--${f.flag}`);
    } else if (f.kind === 'strings') {
      for (const v of (value as string[] | undefined) ?? []) args.push(`--${f.flag}`, v);
    } else if (typeof value === 'string' && value !== '') {
      args.push(`--${f.flag}`, f.secret && opts.display ? `<${f.flag}>` : value);
    }
  }
  args.push(...(flags.passThrough ?? []));
  if (flags.verbosity > 0) args.push(`-v=${flags.verbosity}`);
  return args;
}
