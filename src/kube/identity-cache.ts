import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KubeTarget } from './kubeconfig.js';

/**
 * The user name the API server will see, when the credentials say it without asking: the
 * impersonated user (--as), else the CN of a client certificate. Undefined for tokens and exec
 * plugins, whose identity only the server knows (a SelfSubjectReview then).
 */
export function localIdentity(target: KubeTarget, as: string | undefined): string | undefined {
  if (as ?? target.user.impersonate) return as ?? target.user.impersonate;
  const user = target.user;
  try {
    const pem = user.clientCertificateData ? Buffer.from(user.clientCertificateData, 'base64') : user.clientCertificate ? readFileSync(user.clientCertificate) : undefined;
    if (!pem || user.token || user.tokenFile || user.exec || user.authProvider || user.username !== undefined) return undefined;
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(new X509Certificate(pem).subject)?.[1];
    return cn || undefined;
  } catch {
    return undefined;
  }
}

/** What the plugin keeps between runs about a server: its version and how it serves ephemeral containers. */
export interface CachedVersion {
  gitVersion: string;
  ephemeralContainersKind: string | undefined;
  at: number;
}

const VERSION_TTL_MS = 24 * 3_600_000;

function cacheFile(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME ?? homedir(), '.cache'), 'kubectl-ephemeral', 'server-versions.json');
}

/**
 * Server facts cached per API server URL for a day, like kubectl's discovery cache: the preflight
 * only needs to know the server serves ephemeral containers as a Pod, which an upgrade never undoes.
 */
export const versionCache = {
  get(env: NodeJS.ProcessEnv, server: string, now: number): CachedVersion | undefined {
    try {
      const entry = (JSON.parse(readFileSync(cacheFile(env), 'utf8')) as Record<string, CachedVersion>)[server];
      // Entries written before discovery was kept (version only) count as missing.
      return entry && entry.ephemeralContainersKind && now - entry.at < VERSION_TTL_MS ? entry : undefined;
    } catch {
      return undefined;
    }
  },
  put(env: NodeJS.ProcessEnv, server: string, version: Omit<CachedVersion, 'at'>, now: number): void {
    const file = cacheFile(env);
    try {
      let all: Record<string, CachedVersion> = {};
      try {
        all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, CachedVersion>;
      } catch {
        /* first entry */
      }
      all[server] = { ...version, at: now };
      mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
      // Atomic replace: concurrent runs never read half a file.
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(all), { mode: 0o600 });
      renameSync(tmp, file);
    } catch {
      /* a read-only home only costs a request next time */
    }
  },
};
