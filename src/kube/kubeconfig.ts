import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { PluginError } from '../errors/plugin-error.js';
import { loadYaml } from '../input/yaml.js';
import type { KubeFlags } from './kube-flags.js';

// The kubeconfig is read here with the yaml package rather than client-node's KubeConfig: loading
// client-node evaluates its whole generated API (~130 ms of a ~150 ms budget to the first request),
// and it gets kubectl's rules wrong in places that matter (see the notes at each rule below).

/** An exec credential plugin (client.authentication.k8s.io ExecConfig). */
export interface ExecConfig {
  apiVersion: string;
  command: string;
  args?: string[];
  env?: Array<{ name: string; value: string }>;
  installHint?: string;
  provideClusterInfo?: boolean;
  interactiveMode?: 'Never' | 'IfAvailable' | 'Always';
}

/** A kubeconfig cluster entry, paths already resolved against the file that holds it. */
export interface KubeCluster {
  name: string;
  server: string;
  certificateAuthority?: string;
  /** Base64, as in the file. */
  certificateAuthorityData?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
  disableCompression?: boolean;
}

/** A kubeconfig user (AuthInfo), paths already resolved against the file that holds it. */
export interface KubeUser {
  name: string;
  token?: string;
  tokenFile?: string;
  clientCertificate?: string;
  clientCertificateData?: string;
  clientKey?: string;
  clientKeyData?: string;
  username?: string;
  password?: string;
  exec?: ExecConfig;
  authProvider?: { name: string; config: Record<string, string> };
  impersonate?: string;
  impersonateUid?: string;
  impersonateGroups?: string[];
  impersonateUserExtra?: Record<string, string[]>;
  /** The kubeconfig file that defines this user (an OIDC refresh is written back there). */
  file?: string;
}

/** The resolved connection: cluster, credentials, the namespace to work in, and names for messages. */
export interface KubeTarget {
  cluster: KubeCluster;
  user: KubeUser;
  namespace: string;
  contextName: string;
  clusterName: string;
  server: string;
  /** True when read from the pod's service account (no kubeconfig). */
  inCluster?: boolean;
}

interface NamedContext {
  name: string;
  cluster: string;
  user: string;
  namespace?: string;
}

interface MergedConfig {
  clusters: Map<string, KubeCluster>;
  users: Map<string, KubeUser>;
  contexts: Map<string, NamedContext>;
  currentContext?: string;
}

/** Where a pod's service account is mounted (in-cluster configuration). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Loads the kubeconfig the way kubectl does: --kubeconfig, else every file in KUBECONFIG (the first
 * definition of a name wins), else ~/.kube/config, else the pod's service account (in-cluster);
 * then applies the flags (--context, --cluster, --user, --server, --token, -n ...).
 */
export async function loadKubeTarget(flags: KubeFlags, env: NodeJS.ProcessEnv = process.env, serviceAccountDir = SERVICE_ACCOUNT_DIR): Promise<KubeTarget> {
  const merged: MergedConfig = { clusters: new Map(), users: new Map(), contexts: new Map() };
  let files: string[];
  if (flags.kubeconfig) {
    if (!existsSync(flags.kubeconfig)) throw new PluginError('not-found', `kubeconfig ${flags.kubeconfig} not found; check the --kubeconfig path`);
    files = [flags.kubeconfig];
  } else if (env.KUBECONFIG) {
    files = env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f));
    const hasOverrides = flags.server !== undefined;
    if (files.length === 0 && !hasOverrides) throw new PluginError('not-found', `no file of KUBECONFIG=${env.KUBECONFIG} exists; fix KUBECONFIG or pass --kubeconfig`);
  } else {
    const home = join(env.HOME ?? homedir(), '.kube', 'config');
    files = existsSync(home) ? [home] : [];
  }
  const yaml = files.length ? await loadYaml() : undefined;
  for (const file of files) mergeFile(merged, file, yaml!);
  // client-go falls back to the pod's service account only when no kubeconfig says anything.
  if (merged.contexts.size === 0 && merged.clusters.size === 0 && merged.users.size === 0 && !flags.server && !flags.context) {
    if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && existsSync(join(serviceAccountDir, 'token'))) return inCluster(flags, env, serviceAccountDir);
    throw new PluginError('not-found', 'no kubeconfig found; set KUBECONFIG or pass --kubeconfig (or --server and credentials)');
  }
  return applyOverrides(merged, flags);
}

// One file into the merged view: kubectl's first-wins merge, relative paths resolved against the
// file's directory (client-go loader.go ResolveLocalPaths).
function mergeFile(merged: MergedConfig, file: string, yaml: Awaited<ReturnType<typeof loadYaml>>): void {
  const raw = parseKubeconfigText(readFileSync(file, 'utf8'), file, yaml);
  const dir = dirname(resolve(file));
  // Fields kubectl's structs type as strings: a YAML 1.1 boolean or number there fails kubectl's
  // load ("cannot unmarshal bool into Go struct field"), so it fails here too, before anything is sent.
  let where = '';
  const str = (v: unknown, field: string): string | undefined => stringField(v, file, `${where}.${field}`);
  const path = (p: unknown, field: string) => {
    const v = str(p, field);
    return v === undefined ? undefined : isAbsolute(v) ? v : join(dir, v);
  };
  for (const entry of list(raw.clusters, file, 'clusters')) {
    const c = (entry.cluster ?? {}) as Record<string, unknown>;
    where = `clusters[${entry.name}].cluster`;
    if (merged.clusters.has(entry.name)) continue;
    merged.clusters.set(entry.name, {
      name: entry.name,
      server: str(c.server, 'server') ?? '',
      certificateAuthority: path(c['certificate-authority'], 'certificate-authority'),
      certificateAuthorityData: str(c['certificate-authority-data'], 'certificate-authority-data'),
      insecureSkipTlsVerify: c['insecure-skip-tls-verify'] === true,
      tlsServerName: str(c['tls-server-name'], 'tls-server-name'),
      proxyUrl: str(c['proxy-url'], 'proxy-url'),
      disableCompression: c['disable-compression'] === true,
    });
  }
  for (const entry of list(raw.users, file, 'users')) {
    const u = (entry.user ?? {}) as Record<string, unknown>;
    where = `users[${entry.name}].user`;
    if (merged.users.has(entry.name)) continue;
    const exec = u.exec as Record<string, unknown> | undefined;
    const provider = u['auth-provider'] as { name?: unknown; config?: Record<string, string> } | undefined;
    merged.users.set(entry.name, {
      name: entry.name,
      token: str(u.token, 'token'),
      // client-node 2.0.1 reads `token-file`; kubectl's key is `tokenFile`.
      tokenFile: path(u.tokenFile, 'tokenFile'),
      clientCertificate: path(u['client-certificate'], 'client-certificate'),
      clientCertificateData: str(u['client-certificate-data'], 'client-certificate-data'),
      clientKey: path(u['client-key'], 'client-key'),
      clientKeyData: str(u['client-key-data'], 'client-key-data'),
      username: str(u.username, 'username'),
      password: str(u.password, 'password'),
      impersonate: str(u.as, 'as'),
      impersonateUid: str(u['as-uid'], 'as-uid'),
      impersonateGroups: Array.isArray(u['as-groups']) ? (u['as-groups'] as unknown[]).map(String) : undefined,
      impersonateUserExtra: (u['as-user-extra'] as Record<string, string[]> | undefined) ?? undefined,
      exec: exec
        ? {
            apiVersion: str(exec.apiVersion, 'exec.apiVersion') ?? '',
            // client-node runs the command relative to the working directory; kubectl resolves a
            // command with a path separator against the kubeconfig's directory, and looks a bare
            // name up in PATH.
            command: typeof exec.command === 'string' && exec.command.includes(sep) && !isAbsolute(exec.command) ? join(dir, exec.command) : (str(exec.command, 'exec.command') ?? ''),
            args: Array.isArray(exec.args) ? exec.args.map(String) : undefined,
            env: Array.isArray(exec.env) ? (exec.env as Array<{ name: string; value: string }>) : undefined,
            installHint: str(exec.installHint, 'exec.installHint'),
            provideClusterInfo: exec.provideClusterInfo === true,
            interactiveMode: str(exec.interactiveMode, 'exec.interactiveMode') as ExecConfig['interactiveMode'],
          }
        : undefined,
      authProvider: provider && typeof provider.name === 'string' ? { name: provider.name, config: { ...(provider.config ?? {}) } } : undefined,
      file: resolve(file),
    });
  }
  for (const entry of list(raw.contexts, file, 'contexts')) {
    const c = (entry.context ?? {}) as Record<string, unknown>;
    where = `contexts[${entry.name}].context`;
    if (merged.contexts.has(entry.name)) continue;
    merged.contexts.set(entry.name, { name: entry.name, cluster: str(c.cluster, 'cluster') ?? '', user: str(c.user, 'user') ?? '', namespace: str(c.namespace, 'namespace') });
  }
  const current = stringField(raw['current-context'], file, 'current-context');
  if (!merged.currentContext) merged.currentContext = current;
}

/** The yaml package's YAML 1.1 tags, made to resolve plain scalars as go-yaml v2 does (see parseKubeconfigText). */
function goYamlV2Tags(tags: Tags): Tags {
  const goOctal: import('yaml').ScalarTag = { tag: 'tag:yaml.org,2002:int', format: 'OCT', default: true, test: /^0o[0-7]+$/, resolve: (s: string) => parseInt(s.slice(2), 8) };
  return [...tags.filter((t) => typeof t === 'string' || (t.tag !== 'tag:yaml.org,2002:timestamp' && t.format !== 'TIME')), goOctal];
}
type Tags = Exclude<import('yaml').SchemaOptions['customTags'], ((...a: never[]) => unknown) | null | undefined>;

/**
 * Parses a kubeconfig's text. A YAML error names the file, line and column only: the messages of
 * YAML parsers quote the offending lines, and a kubeconfig's lines hold tokens and keys.
 */
export function parseKubeconfigText(text: string, file: string, yaml: Awaited<ReturnType<typeof loadYaml>>): Record<string, unknown> {
  // YAML 1.1, as kubectl reads it (sigs.k8s.io/yaml over go-yaml v2): `user: n` is the boolean
  // false there, and kubectl refuses it; read as YAML 1.2 it would be the string "n". go-yaml v2
  // keeps timestamps and sexagesimals (190:20:30) as strings when it decodes into interface{}, and
  // reads Go's 0o17 as a number (strconv.ParseInt base 0).
  const doc = yaml.parseDocument(text, { prettyErrors: true, version: '1.1', customTags: goYamlV2Tags });
  const error = doc.errors[0];
  if (error) {
    const pos = error.linePos?.[0];
    const where = pos ? `line ${pos.line}, column ${pos.col}` : 'an unknown position';
    throw new PluginError('config', `kubeconfig ${file} is not valid YAML at ${where}; fix the file (kubectl config view shows what kubectl reads)`);
  }
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new PluginError('config', `kubeconfig ${file} is not a kubeconfig (a YAML mapping with clusters, users and contexts); fix the file`);
  return value as Record<string, unknown>;
}

function list(value: unknown, file: string, key: string): Array<Record<string, unknown> & { name: string }> {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new PluginError('config', `kubeconfig ${file}: "${key}" is not a list; fix the file`);
  const entries = value.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null);
  entries.forEach((e, i) => stringField(e.name, file, `${key}[${i}].name`));
  return entries.filter((e): e is Record<string, unknown> & { name: string } => typeof e.name === 'string');
}

/**
 * A field kubectl reads into a Go string: a string (empty is unset), null or absent; anything else
 * is the error kubectl's load gives, with the fix (a YAML 1.1 `n`, `yes` or `off` is a boolean,
 * `017` or `1_000` a number, unless quoted).
 */
function stringField(v: unknown, file: string, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v === '' ? undefined : v;
  const kind = typeof v === 'boolean' ? `the boolean ${v}` : typeof v === 'number' || typeof v === 'bigint' ? `the number ${String(v)}` : 'not a string';
  throw new PluginError('config', `kubeconfig ${file}: ${field} is ${kind} (YAML 1.1, which kubectl reads, takes unquoted y, n, yes, no, on, off and numbers so); quote the value, as kubectl needs too`);
}

// client-go's DirectClientConfig: the context picks a cluster and user; the flags override names
// and single fields (client_config.go getContext/getCluster/getAuthInfo).
function applyOverrides(config: MergedConfig, flags: KubeFlags): KubeTarget {
  const contextName = flags.context ?? config.currentContext ?? '';
  const context = config.contexts.get(contextName);
  if (flags.context && !context)
    throw new PluginError('not-found', `context "${flags.context}" not found in kubeconfig; list them with kubectl config get-contexts`);
  if (!context && !flags.cluster && !flags.server)
    throw new PluginError('config', 'kubeconfig has no current context; pass --context or run kubectl config use-context');
  const clusterName = flags.cluster ?? context?.cluster ?? '';
  const userName = flags.user ?? context?.user ?? '';
  if (clusterName && !config.clusters.get(clusterName) && !flags.server)
    throw new PluginError('not-found', `cluster "${clusterName}" not found in kubeconfig; list them with kubectl config get-clusters`);
  if (flags.user && !config.users.get(flags.user))
    throw new PluginError('not-found', `user "${flags.user}" not found in kubeconfig; list them with kubectl config get-users`);
  const cluster = overrideCluster({ ...(config.clusters.get(clusterName) ?? { name: clusterName, server: '' }) }, flags);
  const user = overrideUser({ ...(config.users.get(userName) ?? { name: userName }) }, flags);
  if (!cluster.server)
    throw new PluginError('config', `cluster "${clusterName}" has no server; set it with kubectl config set-cluster ${clusterName} --server=https://... or pass --server`);
  return { cluster, user, namespace: flags.namespace ?? context?.namespace ?? 'default', contextName, clusterName, server: cluster.server };
}

function overrideCluster(cluster: KubeCluster, flags: KubeFlags): KubeCluster {
  if (flags.server) cluster.server = flags.server;
  // client-go: --insecure-skip-tls-verify or a CA flag replaces all three TLS trust settings, and
  // --server or --tls-server-name replaces the file's tls-server-name.
  if (flags.insecureSkipTlsVerify || flags.certificateAuthority) {
    cluster.insecureSkipTlsVerify = flags.insecureSkipTlsVerify === true;
    cluster.certificateAuthority = flags.certificateAuthority ? resolve(flags.certificateAuthority) : undefined;
    cluster.certificateAuthorityData = undefined;
  }
  if (flags.tlsServerName !== undefined || flags.server) cluster.tlsServerName = flags.tlsServerName;
  if (flags.disableCompression) cluster.disableCompression = true;
  return cluster;
}

function overrideUser(user: KubeUser, flags: KubeFlags): KubeUser {
  if (flags.token !== undefined) Object.assign(user, { token: flags.token, tokenFile: undefined });
  if (flags.clientCertificate) Object.assign(user, { clientCertificate: resolve(flags.clientCertificate), clientCertificateData: undefined });
  if (flags.clientKey) Object.assign(user, { clientKey: resolve(flags.clientKey), clientKeyData: undefined });
  if (flags.username !== undefined) user.username = flags.username;
  if (flags.password !== undefined) user.password = flags.password;
  if (flags.as) user.impersonate = flags.as;
  if (flags.asUid) user.impersonateUid = flags.asUid;
  if (flags.asGroup?.length) user.impersonateGroups = flags.asGroup;
  return user;
}

// client-go rest.InClusterConfig plus clientcmd's in-cluster namespace rule (-n, POD_NAMESPACE,
// then the mounted namespace file). The token is a file: the kubelet rotates it.
function inCluster(flags: KubeFlags, env: NodeJS.ProcessEnv, dir: string): KubeTarget {
  const host = env.KUBERNETES_SERVICE_HOST!.includes(':') ? `[${env.KUBERNETES_SERVICE_HOST}]` : env.KUBERNETES_SERVICE_HOST;
  const server = flags.server ?? `https://${host}:${env.KUBERNETES_SERVICE_PORT}`;
  let namespace = flags.namespace ?? env.POD_NAMESPACE;
  if (!namespace) {
    try {
      namespace = readFileSync(join(dir, 'namespace'), 'utf8').trim() || undefined;
    } catch {
      /* no namespace file: default, as client-go */
    }
  }
  const cluster: KubeCluster = { name: 'in-cluster', server, certificateAuthority: flags.certificateAuthority ? resolve(flags.certificateAuthority) : join(dir, 'ca.crt') };
  const user: KubeUser = { name: 'in-cluster', tokenFile: join(dir, 'token') };
  return { cluster: overrideCluster(cluster, { ...flags, certificateAuthority: undefined }), user: overrideUser(user, flags), namespace: namespace ?? 'default', contextName: 'in-cluster', clusterName: 'in-cluster', server, inCluster: true };
}
