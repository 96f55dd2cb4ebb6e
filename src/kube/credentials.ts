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
    const headers: Record<string, string | string[]> = { ...this.impersonation };
    const tls = this.staticTlsFiles();
    const identity: RequestIdentity = { headers, ...tls };
    if (u.token) headers.Authorization = `Bearer ${u.token}`;
    else if (u.tokenFile) headers.Authorization = `Bearer ${this.readTokenFile(u.tokenFile)}`;
    else if (u.username !== undefined || u.password !== undefined)
      headers.Authorization = `Basic ${Buffer.from(`${u.username ?? ''}:${u.password ?? ''}`).toString('base64')}`;
    else if (u.authProvider?.name === 'oidc') headers.Authorization = `Bearer ${(await this.oidcToken()).token}`;
    if (u.exec && !headers.Authorization && !identity.cert) {
      const cred = await this.execCredential();
      if (cred.token) headers.Authorization = `Bearer ${cred.token}`;
      if (cred.clientCertificateData) Object.assign(identity, { cert: cred.clientCertificateData, key: cred.clientKeyData });
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

  private staticTlsFiles(): { cert?: string | Buffer; key?: string | Buffer } {
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
    const cached = this.exec.value;
    if (cached && (cached.expiresAt === undefined || cached.expiresAt > this.now())) return cached;
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
    const cached = this.oidc.value;
    if (cached && (cached.expiresAt === undefined || cached.expiresAt > this.now())) return cached;
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
