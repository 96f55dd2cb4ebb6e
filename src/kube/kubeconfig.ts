import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { PluginError } from '../errors/plugin-error.js';
import type { KubeFlags } from './kube-flags.js';

/** The resolved connection: credentials, the namespace to work in, and names for messages. */
export interface KubeTarget {
  config: KubeConfig;
  namespace: string;
  contextName: string;
  clusterName: string;
  server: string;
}

/** Loads kubeconfig the way kubectl does: --kubeconfig, else every file in KUBECONFIG (first wins), else ~/.kube/config, else in-cluster. */
export function loadKubeTarget(flags: KubeFlags, env: NodeJS.ProcessEnv = process.env): KubeTarget {
  const config = new KubeConfig();
  try {
    if (flags.kubeconfig) {
      if (!existsSync(flags.kubeconfig))
        throw new PluginError('not-found', `kubeconfig ${flags.kubeconfig} not found; check the --kubeconfig path`);
      config.loadFromFile(flags.kubeconfig);
    } else if (env.KUBECONFIG) {
      const files = env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f));
      if (files.length === 0)
        throw new PluginError('not-found', `no file of KUBECONFIG=${env.KUBECONFIG} exists; fix KUBECONFIG or pass --kubeconfig`);
      files.forEach((file, i) => (i === 0 ? config.loadFromFile(file) : mergeFirstWins(config, file)));
    } else if (existsSync(join(env.HOME ?? homedir(), '.kube', 'config'))) {
      config.loadFromFile(join(env.HOME ?? homedir(), '.kube', 'config'));
    } else if (env.KUBERNETES_SERVICE_HOST) {
      config.loadFromCluster();
    } else {
      throw new PluginError('not-found', 'no kubeconfig found; set KUBECONFIG or pass --kubeconfig');
    }
  } catch (err) {
    if (err instanceof PluginError) throw err;
    throw new PluginError('config', `cannot read kubeconfig: ${(err as Error).message}; check the file with kubectl config view`, { cause: err });
  }
  return applyOverrides(config, flags);
}

/** kubectl merges KUBECONFIG files with the first definition of a name winning. */
function mergeFirstWins(config: KubeConfig, file: string): void {
  const next = new KubeConfig();
  next.loadFromFile(file);
  const has = (list: Array<{ name: string }>, name: string) => list.some((x) => x.name === name);
  for (const c of next.clusters) if (!has(config.clusters, c.name)) config.addCluster(c);
  for (const u of next.users) if (!has(config.users, u.name)) config.addUser(u);
  for (const c of next.contexts) if (!has(config.contexts, c.name)) config.addContext(c);
  if (!config.currentContext && next.currentContext) config.setCurrentContext(next.currentContext);
}

function applyOverrides(config: KubeConfig, flags: KubeFlags): KubeTarget {
  const contextName = flags.context ?? config.getCurrentContext();
  const context = config.getContextObject(contextName);
  if (flags.context && !context)
    throw new PluginError(
      'not-found',
      `context "${flags.context}" not found in kubeconfig; list them with kubectl config get-contexts`,
    );
  if (!context && !flags.cluster)
    throw new PluginError('config', 'kubeconfig has no current context; pass --context or run kubectl config use-context');
  const clusterName = flags.cluster ?? context!.cluster;
  const userName = flags.user ?? context?.user ?? '';
  if (!config.getCluster(clusterName))
    throw new PluginError('not-found', `cluster "${clusterName}" not found in kubeconfig; list them with kubectl config get-clusters`);
  if (flags.user && !config.getUser(flags.user))
    throw new PluginError('not-found', `user "${flags.user}" not found in kubeconfig; list them with kubectl config get-users`);
  // A synthetic context carries --cluster/--user/--as without touching the user's file.
  const effective = `kubectl-ephemeral/${contextName}`;
  const user = config.getUser(userName);
  if (flags.as || flags.user) {
    const impersonating = `${effective}/user`;
    config.addUser({ ...(user ?? { name: userName }), name: impersonating, impersonateUser: flags.as ?? user?.impersonateUser } as never);
    config.addContext({ name: effective, cluster: clusterName, user: impersonating, namespace: context?.namespace });
  } else {
    config.addContext({ name: effective, cluster: clusterName, user: userName, namespace: context?.namespace });
  }
  config.setCurrentContext(effective);
  return {
    config,
    namespace: flags.namespace ?? context?.namespace ?? 'default',
    contextName,
    clusterName,
    server: config.getCluster(clusterName)!.server,
  };
}
