import { mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { CredentialSource, RequestIdentity } from './credentials.js';
import { CredentialRelay, relayCommand, type OwnCommand } from './credential-relay.js';
import type { KubeTarget } from './kubeconfig.js';

/**
 * The connection this run resolved, handed to every kubectl it spawns (attach attempts, cleanup's
 * keys, capture, collect) as a kubeconfig of its own: the same server, CA, tls-server-name,
 * proxy-url, impersonation and namespace, and the credential the run already holds. A child then
 * never runs the exec plugin or the OIDC refresh again (each costs ~0.5-1.5 s with cloud plugins,
 * and an interactive one would prompt again).
 *
 * Where the secret lives: a directory made with mkdtemp (mode 0700) under $XDG_RUNTIME_DIR when that
 * is a private directory of ours (a tmpfs on systemd systems: memory, not disk), else the system's
 * temporary directory; files 0600; never on a command line. It is removed when the connection
 * closes and on any exit of the process (signals included; SIGKILL aside).
 *
 * Freshness: a bearer credential goes into a token file that is rewritten (atomically) whenever the
 * run's CredentialSource gets a new one — the run asks for it before each of its requests, and it
 * makes one before it spawns anything. kubectl reads a tokenFile again at least every minute
 * (client-go's cached file token source) and after a 401, so even a child living longer than a
 * token picks up the renewed one. (A kubectl attach authenticates once, when its stream opens.)
 *
 * While the run waits for its credential (an exec plugin or an OIDC refresh runs), a kubectl can be
 * started all the same (kubeconfigFileAhead): its kubeconfig of its own, whose user is this plugin as
 * an exec plugin that asks the run for the credential over a socket in the same directory
 * (credential-relay.ts), answered when the credential arrives. That file is never rewritten: a
 * kubectl reads its kubeconfig more than once (a version-dispatching kubectl, then the kubectl it
 * runs), and one that found another user the second time would open another connection (two round
 * trips on a far server). The kubectl processes that come after get the files' form above.
 */
export class ChildConnection {
  private dir: string | undefined;
  private written = '';
  // The kubeconfig holds the files' form (not the relay's).
  private filesForm = false;
  private relay: CredentialRelay | undefined;
  private readonly removeOnExit = () => this.dispose();

  constructor(
    private readonly target: KubeTarget,
    private readonly credentials: CredentialSource,
    private readonly env: NodeJS.ProcessEnv,
    // How the relay's exec plugin runs this program (tests name the built plugin).
    private readonly self?: OwnCommand,
  ) {
    credentials.onIdentity((identity) => {
      if (!this.dir) return;
      this.relay?.provide(identity);
      this.writeFor(identity);
    });
  }

  /**
   * The kubeconfig file spawned kubectl processes use, written on first use; undefined when the run
   * holds no credential yet (nothing asked the API server so far): the child then runs with the
   * user's own flags.
   */
  kubeconfigFile(): string | undefined {
    const identity = this.credentials.currentIdentity();
    if (!identity) return undefined;
    this.writeFor(identity);
    return join(this.dir!, 'kubeconfig');
  }

  /**
   * The kubeconfig for a kubectl started while the run waits for its credential (an exec plugin or
   * an OIDC refresh runs), whose user is the credential relay (`file`), and the file it stands for
   * (`standsFor`: what kubeconfigFile gives once the run has the credential). Undefined when the run
   * holds a credential (nothing to wait for: the kubectl that starts now would only compete with the
   * run's own first requests), or where no relay can listen (a socket path too long for the
   * platform): that kubectl would run the user's credential plugin again.
   */
  async kubeconfigFileAhead(): Promise<{ file: string; standsFor: string } | undefined> {
    if (this.credentials.currentIdentity() || this.filesForm) return undefined;
    const dir = this.privateDir();
    const ahead = { file: join(dir, 'kubeconfig-ahead'), standsFor: join(dir, 'kubeconfig') };
    if (this.relay) return ahead;
    const socket = process.platform === 'win32' ? `\\\\.\\pipe\\${basename(dir)}` : join(dir, 'credential.sock');
    // sun_path: 104 bytes on macOS, 108 on Linux.
    if (Buffer.byteLength(socket) > 100) return undefined;
    try {
      this.relay = await CredentialRelay.listen(socket);
    } catch {
      return undefined;
    }
    // The credential came while the relay was opening: it answers at once.
    const identity = this.credentials.currentIdentity();
    if (identity) this.relay.provide(identity);
    writePrivate(ahead.file, JSON.stringify(childKubeconfig(this.target, undefined, dir, relayCommand(socket, this.self))));
    return ahead;
  }

  /** Removes the directory and everything in it, and stops the relay. */
  dispose(): void {
    process.off('exit', this.removeOnExit);
    this.relay?.close();
    this.relay = undefined;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private privateDir(): string {
    if (!this.dir) {
      this.dir = mkdtempSync(join(privateRoot(this.env), 'kubectl-ephemeral-'));
      process.once('exit', this.removeOnExit);
    }
    return this.dir;
  }

  // The kubeconfig in the files' form (written once) and the secrets it names.
  private writeFor(identity: RequestIdentity): void {
    const dir = this.privateDir();
    this.writeSecrets(identity);
    if (this.filesForm) return;
    writePrivate(join(dir, 'kubeconfig'), JSON.stringify(childKubeconfig(this.target, identity, dir)));
    this.filesForm = true;
  }

  // The parts that change when a credential is renewed: the bearer token and an exec plugin's certificate.
  private writeSecrets(identity: RequestIdentity): void {
    const token = bearer(identity);
    const state = `${token ?? ''}\0${String(identity.cert ?? '')}`;
    if (state === this.written || !this.dir) return;
    if (token !== undefined && !this.target.user.tokenFile) writePrivate(join(this.dir, 'token'), token);
    if (identity.cert && identity.key) {
      writePrivate(join(this.dir, 'client.key'), identity.key);
      writePrivate(join(this.dir, 'client.crt'), identity.cert);
    }
    this.written = state;
  }
}

/**
 * The kubeconfig a spawned kubectl gets (secrets by reference to files beside it); without an
 * identity yet, its user runs `relay` as its exec credential plugin.
 */
export function childKubeconfig(target: KubeTarget, identity: RequestIdentity | undefined, dir: string, relay?: { command: string; args: string[] }): Record<string, unknown> {
  const c = target.cluster;
  const u = target.user;
  const cluster: Record<string, unknown> = { server: target.server };
  if (c.certificateAuthorityData) cluster['certificate-authority-data'] = c.certificateAuthorityData;
  else if (c.certificateAuthority) cluster['certificate-authority'] = c.certificateAuthority;
  if (c.insecureSkipTlsVerify) cluster['insecure-skip-tls-verify'] = true;
  if (c.tlsServerName) cluster['tls-server-name'] = c.tlsServerName;
  if (c.proxyUrl) cluster['proxy-url'] = c.proxyUrl;
  if (c.disableCompression) cluster['disable-compression'] = true;

  const user: Record<string, unknown> = {};
  const authorization = identity?.headers.Authorization;
  if (!identity) user.exec = { apiVersion: 'client.authentication.k8s.io/v1', ...relay, interactiveMode: 'Never' };
  // A tokenFile stays the user's own file: kubectl reads it again as it rotates.
  else if (u.tokenFile && !u.token) user.tokenFile = u.tokenFile;
  else if (bearer(identity) !== undefined) user.tokenFile = join(dir, 'token');
  else if (typeof authorization === 'string' && authorization.startsWith('Basic ')) Object.assign(user, { username: u.username ?? '', password: u.password ?? '' });
  if (identity?.cert) Object.assign(user, { 'client-certificate': join(dir, 'client.crt'), 'client-key': join(dir, 'client.key') });
  if (u.impersonate) user.as = u.impersonate;
  if (u.impersonateUid) user['as-uid'] = u.impersonateUid;
  if (u.impersonateGroups?.length) user['as-groups'] = u.impersonateGroups;
  if (u.impersonateUserExtra && Object.keys(u.impersonateUserExtra).length) user['as-user-extra'] = u.impersonateUserExtra;

  const name = target.contextName || 'kubectl-ephemeral';
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: target.clusterName || name, cluster }],
    users: [{ name: u.name || name, user }],
    contexts: [{ name, context: { cluster: target.clusterName || name, user: u.name || name, namespace: target.namespace } }],
    'current-context': name,
  };
}

function bearer(identity: RequestIdentity): string | undefined {
  const a = identity.headers.Authorization;
  return typeof a === 'string' && a.startsWith('Bearer ') ? a.slice('Bearer '.length) : undefined;
}

// Written beside and renamed into place: a kubectl reading the file never sees half of it.
function writePrivate(file: string, content: string | Buffer): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, file);
}

/** $XDG_RUNTIME_DIR when it is ours and private (memory-backed on systemd systems), else the temporary directory. */
export function privateRoot(env: NodeJS.ProcessEnv): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime) {
    try {
      const st = statSync(runtime);
      if (st.isDirectory() && (st.mode & 0o077) === 0 && (process.getuid === undefined || st.uid === process.getuid())) return runtime;
    } catch {
      /* not there: the temporary directory */
    }
  }
  return tmpdir();
}
