import { spawn } from 'node:child_process';
import { PluginError } from '../errors/plugin-error.js';
import type { ExecConfig, KubeCluster, KubeUser } from './kubeconfig.js';

/** What an exec plugin gives back: a bearer token and/or a client certificate, until an expiry. */
export interface ExecCredential {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  /** Date.now() after which it must be fetched again; undefined: valid for the whole run. */
  expiresAt?: number;
}

/** How the exec plugin meets the user: whether stdin is a terminal, and where its stderr lines go. */
export interface ExecIo {
  stdinIsTerminal: boolean;
  /** Called with each line the plugin writes to stderr, when stderr is not passed through. */
  stderrLine: (line: string) => void;
}

const API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];

/**
 * Runs a client-go credential plugin the way client-go does (plugin/pkg/client/auth/exec): the
 * ExecCredential request in KUBERNETES_EXEC_INFO (with the cluster when provideClusterInfo), the
 * config's env added to ours, stdin handed over when interactive, the installHint when the command
 * is missing. client-node's ExecAuth does none of these, and swallows the plugin's stderr, where
 * kubelogin and gke-gcloud-auth-plugin print their prompts: so the plugin runs its own.
 */
export async function runExecPlugin(user: KubeUser, cluster: KubeCluster, io: ExecIo, env: NodeJS.ProcessEnv = process.env): Promise<ExecCredential> {
  const exec = user.exec!;
  const who = `exec credential plugin "${exec.command}" of user "${user.name}"`;
  if (!API_VERSIONS.includes(exec.apiVersion))
    throw new PluginError('config', `${who} has apiVersion "${exec.apiVersion}"; kubectl supports ${API_VERSIONS.join(' and ')}: fix the kubeconfig`);
  const mode = exec.interactiveMode ?? (exec.apiVersion.endsWith('/v1') ? undefined : 'IfAvailable');
  if (!mode) throw new PluginError('config', `${who} has no interactiveMode, which ${exec.apiVersion} requires; set it (Never, IfAvailable or Always) in the kubeconfig`);
  if (mode === 'Always' && !io.stdinIsTerminal)
    throw new PluginError('config', `${who} cannot support interactive mode: standard input is not a terminal (interactiveMode Always, as kubectl says); run it in a terminal`);
  const interactive = mode !== 'Never' && io.stdinIsTerminal;
  const execInfo = {
    apiVersion: exec.apiVersion,
    kind: 'ExecCredential',
    spec: { interactive, ...(exec.provideClusterInfo ? { cluster: clusterInfo(cluster) } : {}) },
  };
  const childEnv: NodeJS.ProcessEnv = { ...env };
  for (const e of exec.env ?? []) childEnv[e.name] = e.value;
  childEnv.KUBERNETES_EXEC_INFO = JSON.stringify(execInfo);

  const { code, stdout, lastStderr, spawnError } = await new Promise<{ code: number | null; stdout: string; lastStderr: string; spawnError?: NodeJS.ErrnoException }>((resolve) => {
    // An interactive plugin gets the terminal itself, stderr included (prompts without a newline).
    const child = spawn(exec.command, exec.args ?? [], { env: childEnv, stdio: [interactive ? 'inherit' : 'ignore', 'pipe', interactive ? 'inherit' : 'pipe'] });
    let out = '';
    let err = '';
    let last = '';
    let failed: NodeJS.ErrnoException | undefined;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      let nl: number;
      while ((nl = err.indexOf('\n')) >= 0) {
        // As written (kubectl passes the plugin's stderr through): only a CR before the LF goes.
        const line = err.slice(0, nl).replace(/\r$/, '');
        err = err.slice(nl + 1);
        io.stderrLine(line);
        if (line.trim()) last = line.trim();
      }
    });
    child.on('error', (e) => (failed = e));
    child.on('close', (c) => {
      if (err.trim()) {
        io.stderrLine(err.trimEnd());
        last = err.trim();
      }
      resolve({ code: c, stdout: out, lastStderr: last, spawnError: failed });
    });
  });
  if (spawnError) {
    if (spawnError.code === 'ENOENT')
      throw new PluginError('config', `${who} not found${exec.installHint ? `: ${exec.installHint.trim().replace(/\s*\n\s*/g, ' ')}` : '; install it or fix the command in the kubeconfig'}`);
    throw new PluginError('config', `${who} cannot run (${spawnError.code ?? spawnError.message}); fix the command in the kubeconfig`);
  }
  if (code !== 0)
    throw new PluginError('forbidden', `${who} failed with exit code ${code}${lastStderr ? `: ${lastStderr}` : ''}; log in again or fix the plugin`);
  return parseExecCredential(stdout, exec, who);
}

/** Reads the ExecCredential a plugin printed, as client-go checks it. */
export function parseExecCredential(stdout: string, exec: ExecConfig, who: string): ExecCredential {
  let parsed: { apiVersion?: string; kind?: string; status?: { token?: string; clientCertificateData?: string; clientKeyData?: string; expirationTimestamp?: string } };
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    throw new PluginError('config', `${who} printed no ExecCredential JSON on stdout; fix the plugin`);
  }
  if (parsed.apiVersion !== exec.apiVersion)
    throw new PluginError('config', `${who} answered with apiVersion "${parsed.apiVersion ?? ''}", not the "${exec.apiVersion}" the kubeconfig asks for; fix the plugin or the kubeconfig`);
  const s = parsed.status;
  if (!s || (!s.token && !(s.clientCertificateData && s.clientKeyData)))
    throw new PluginError('config', `${who} returned neither a token nor a client certificate and key; fix the plugin`);
  if (!!s.clientCertificateData !== !!s.clientKeyData) throw new PluginError('config', `${who} returned a client certificate without its key (or the reverse); fix the plugin`);
  let expiresAt: number | undefined;
  if (s.expirationTimestamp) {
    expiresAt = Date.parse(s.expirationTimestamp);
    if (Number.isNaN(expiresAt)) throw new PluginError('config', `${who} returned an expirationTimestamp that is not RFC 3339 (${s.expirationTimestamp}); fix the plugin`);
  }
  return { token: s.token, clientCertificateData: s.clientCertificateData, clientKeyData: s.clientKeyData, expiresAt };
}

// clientauthentication Cluster: what provideClusterInfo hands the plugin.
function clusterInfo(cluster: KubeCluster): Record<string, unknown> {
  return {
    server: cluster.server,
    ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
    ...(cluster.insecureSkipTlsVerify ? { 'insecure-skip-tls-verify': true } : {}),
    ...(cluster.certificateAuthorityData ? { 'certificate-authority-data': cluster.certificateAuthorityData } : {}),
    ...(cluster.proxyUrl ? { 'proxy-url': cluster.proxyUrl } : {}),
    ...(cluster.disableCompression ? { 'disable-compression': true } : {}),
  };
}
