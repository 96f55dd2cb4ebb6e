/** kubectl's global flags, which kubectl hands to a plugin unparsed. */
export interface KubeFlags {
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  cluster?: string;
  user?: string;
  as?: string;
  asGroup?: string[];
  requestTimeout?: string;
  /** kubectl's -v level (0 = quiet). */
  verbosity: number;
}

/** The same flags as kubectl arguments, for the `kubectl attach` the plugin spawns. */
export function kubectlArgs(flags: KubeFlags, namespace: string): string[] {
  const args = ['-n', namespace];
  const pairs: Array<[string, string | undefined]> = [
    ['--context', flags.context],
    ['--kubeconfig', flags.kubeconfig],
    ['--cluster', flags.cluster],
    ['--user', flags.user],
    ['--as', flags.as],
    ['--request-timeout', flags.requestTimeout],
  ];
  for (const [flag, value] of pairs) if (value) args.push(flag, value);
  for (const group of flags.asGroup ?? []) args.push('--as-group', group);
  if (flags.verbosity > 0) args.push(`-v=${flags.verbosity}`);
  return args;
}
