import { readFileSync, statSync } from 'node:fs';
import { PluginError } from '../errors/plugin-error.js';
import type { ExecCredential, ExecIo } from './exec-credential.js';
import type { KubeTarget } from './kubeconfig.js';

/** What one request carries to prove who it is: headers, and a client certificate for TLS. */
export interface RequestIdentity {
  headers: Record<string, string | string[]>;
  cert?: string | Buffer;
  key?: string | Buffer;
}

/**
 * The credentials of one kubeconfig user, asked for on every request rather than once, as
 * client-go's round trippers do: a tokenFile is read again when it changes (projected service
 * account tokens rotate), an exec plugin runs again when its credential expires or the server
 * answers 401, an OIDC token is refreshed when it expires. A long session can therefore still
 * delete its pod copy after the first credential ran out.
 */
export class CredentialSource {
  private exec: { value?: ExecCredential; pending?: Promise<ExecCredential> } = {};
  private oidc: { value?: { token: string; expiresAt?: number }; pending?: Promise<{ token: string; expiresAt?: number }> } = {};
  private tokenFile: { stamp?: string; token?: string } = {};
  private staticTls: { cert?: string | Buffer; key?: string | Buffer } | undefined;
  private readonly impersonation: Record<string, string | string[]>;
  private readonly listeners: Array<(identity: RequestIdentity) => void> = [];

  constructor(
    private readonly target: KubeTarget,
    private readonly io: ExecIo,
    private readonly now: () => number = Date.now,
  ) {
    this.impersonation = impersonationHeaders(target);
    const u = target.user;
    const basic = u.username !== undefined || u.password !== undefined;
    if (basic && (u.token || u.tokenFile))
      throw new PluginError('config', `user "${u.name}" sets both a bearer token and a username/password; kubectl refuses that too: keep one`);
    const provider = u.authProvider?.name;
    if (provider && provider !== 'oidc')
      throw new PluginError('config', `auth-provider "${provider}" of user "${u.name}" was removed from kubectl (1.26); use its exec credential plugin (gke-gcloud-auth-plugin, kubelogin) instead`);
  }

  /** The identity for the next request (runs an exec plugin or an OIDC refresh when needed). */
  async identity(): Promise<RequestIdentity> {
    const u = this.target.user;
    const oidc = !this.hasStaticBearer() && u.authProvider?.name === 'oidc' ? (await this.oidcToken()).token : undefined;
    const exec = this.needsExec() ? await this.execCredential() : undefined;
    const identity = this.compose(oidc, exec);
    for (const listener of this.listeners) listener(identity);
    return identity;
  }

  /**
   * The identity of this moment without running anything: undefined when an exec plugin or an OIDC
   * refresh would have to run first (none ran yet, or its credential expired).
   */
  currentIdentity(): RequestIdentity | undefined {
    const u = this.target.user;
    let oidc: string | undefined;
    if (!this.hasStaticBearer() && u.authProvider?.name === 'oidc') {
      if (!this.valid(this.oidc.value)) return undefined;
      oidc = this.oidc.value!.token;
    }
    let exec: ExecCredential | undefined;
    if (this.needsExec()) {
      if (!this.valid(this.exec.value)) return undefined;
      exec = this.exec.value;
    }
    return this.compose(oidc, exec);
  }

  /** Calls listener with the identity of every request from now on (the child connection keeps its files fresh with it). */
  onIdentity(listener: (identity: RequestIdentity) => void): void {
    this.listeners.push(listener);
  }

  private hasStaticBearer(): boolean {
    const u = this.target.user;
    return Boolean(u.token || u.tokenFile || u.username !== undefined || u.password !== undefined);
  }

  // client-go: an exec plugin runs only when nothing else authenticates the user.
  private needsExec(): boolean {
    return Boolean(this.target.user.exec) && !this.hasStaticBearer() && this.target.user.authProvider?.name !== 'oidc' && !this.staticTlsFiles().cert;
  }

  private valid(cred: { expiresAt?: number } | undefined): boolean {
    return cred !== undefined && (cred.expiresAt === undefined || cred.expiresAt > this.now());
  }

  private compose(oidcToken: string | undefined, exec: ExecCredential | undefined): RequestIdentity {
    const u = this.target.user;
    const headers: Record<string, string | string[]> = { ...this.impersonation };
    const identity: RequestIdentity = { headers, ...this.staticTlsFiles() };
    if (u.token) headers.Authorization = `Bearer ${u.token}`;
    else if (u.tokenFile) headers.Authorization = `Bearer ${this.readTokenFile(u.tokenFile)}`;
    else if (u.username !== undefined || u.password !== undefined)
      headers.Authorization = `Basic ${Buffer.from(`${u.username ?? ''}:${u.password ?? ''}`).toString('base64')}`;
    else if (oidcToken !== undefined) headers.Authorization = `Bearer ${oidcToken}`;
    if (exec) {
      if (exec.token) headers.Authorization = `Bearer ${exec.token}`;
      if (exec.clientCertificateData) Object.assign(identity, { cert: exec.clientCertificateData, key: exec.clientKeyData });
    }
    return identity;
  }

  /** After a 401: forgets credentials that may have gone stale; true when asking again may help. */
  invalidate(): boolean {
    const u = this.target.user;
    if (u.exec && !u.token && !u.tokenFile) {
      this.exec = {};
      return true;
    }
    if (u.tokenFile && !u.token) {
      this.tokenFile = {};
      return true;
    }
    return false;
  }

  /** The client certificate and key of the kubeconfig user (files or data), read once; none for an exec plugin's. */
  staticTlsFiles(): { cert?: string | Buffer; key?: string | Buffer } {
    if (this.staticTls) return this.staticTls;
    const u = this.target.user;
    const read = (data: string | undefined, file: string | undefined, what: string) => {
      if (data) return Buffer.from(data, 'base64');
      if (!file) return undefined;
      try {
        return readFileSync(file);
      } catch (err) {
        throw new PluginError('config', `cannot read the ${what} ${file} of user "${u.name}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); fix the path in the kubeconfig or the flag`);
      }
    };
    this.staticTls = { cert: read(u.clientCertificateData, u.clientCertificate, 'client certificate'), key: read(u.clientKeyData, u.clientKey, 'client key') };
    if (!this.staticTls.cert !== !this.staticTls.key)
      throw new PluginError('config', `user "${u.name}" has a client certificate without its key (or the reverse); set both`);
    return this.staticTls;
  }

  // Read again whenever the file changed (inode, size or mtime), like a rotated projected token.
  private readTokenFile(file: string): string {
    try {
      const st = statSync(file);
      const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (stamp !== this.tokenFile.stamp || this.tokenFile.token === undefined) this.tokenFile = { stamp, token: readFileSync(file, 'utf8').trim() };
      return this.tokenFile.token!;
    } catch (err) {
      throw new PluginError('config', `cannot read the tokenFile ${file} of user "${this.target.user.name}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); fix the path in the kubeconfig`);
    }
  }

  // One plugin run serves every concurrent request; it runs again once the credential expired.
  private async execCredential(): Promise<ExecCredential> {
    if (this.valid(this.exec.value)) return this.exec.value!;
    this.exec.pending ??= (async () => {
      const { runExecPlugin } = await import('./exec-credential.js');
      try {
        const value = await runExecPlugin(this.target.user, this.target.cluster, this.io);
        this.exec.value = value;
        return value;
      } finally {
        this.exec.pending = undefined;
      }
    })();
    return this.exec.pending;
  }

  private async oidcToken(): Promise<{ token: string; expiresAt?: number }> {
    if (this.valid(this.oidc.value)) return this.oidc.value!;
    this.oidc.pending ??= (async () => {
      const { oidcIdToken } = await import('./oidc-credential.js');
      try {
        this.oidc.value = await oidcIdToken(this.target.user, this.now());
        return this.oidc.value;
      } finally {
        this.oidc.pending = undefined;
      }
    })();
    return this.oidc.pending;
  }
}

// client-go transport/round_trippers.go: Impersonate-User/-Uid/-Group/-Extra-<key>.
function impersonationHeaders(target: KubeTarget): Record<string, string | string[]> {
  const u = target.user;
  const h: Record<string, string | string[]> = {};
  if (!u.impersonate && (u.impersonateGroups?.length || u.impersonateUid || Object.keys(u.impersonateUserExtra ?? {}).length))
    throw new PluginError('usage', `impersonating groups, a uid or extra fields needs a user to impersonate too; add --as (or "as" in the kubeconfig user "${u.name}")`);
  if (!u.impersonate) return h;
  h['Impersonate-User'] = u.impersonate;
  if (u.impersonateUid) h['Impersonate-Uid'] = u.impersonateUid;
  if (u.impersonateGroups?.length) h['Impersonate-Group'] = u.impersonateGroups;
  for (const [key, values] of Object.entries(u.impersonateUserExtra ?? {})) h[`Impersonate-Extra-${encodeURIComponent(key)}`] = values;
  return h;
}
