import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { PluginError } from '../errors/plugin-error.js';
import { loadYaml } from '../input/yaml.js';
import type { KubeUser } from './kubeconfig.js';

/** client-go refreshes an ID token this long before it expires (oidc.go expiryDelta). */
const EXPIRY_DELTA_MS = 10_000;

/** The `exp` of a JWT in ms, or undefined when the token is not a JWT. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The ID token of an `auth-provider: oidc` user, refreshed with its refresh token when it expired,
 * and the new tokens written back to the kubeconfig file that defines the user, as kubectl's
 * persister does (else the next run presents a refresh token the issuer already spent).
 * client-node's OpenIDConnectAuth refreshes in memory only, and loading it loads all of client-node.
 */
export async function oidcIdToken(user: KubeUser, now: number): Promise<{ token: string; expiresAt?: number }> {
  const config = user.authProvider!.config;
  const who = `oidc user "${user.name}"`;
  const current = config['id-token'];
  const exp = current ? jwtExpiry(current) : undefined;
  if (current && exp !== undefined && now + EXPIRY_DELTA_MS < exp) return { token: current, expiresAt: exp - EXPIRY_DELTA_MS };
  const issuer = config['idp-issuer-url'];
  if (!config['client-id'] || !issuer || !config['refresh-token'])
    throw new PluginError('forbidden', `the id-token of ${who} expired and it has no client-id, idp-issuer-url and refresh-token to renew it; log in again`);
  const ca = config['idp-certificate-authority-data']
    ? Buffer.from(config['idp-certificate-authority-data'], 'base64')
    : config['idp-certificate-authority']
      ? readFileSync(config['idp-certificate-authority'])
      : undefined;
  let tokens: { id_token?: string; refresh_token?: string };
  try {
    const discovery = JSON.parse(await send(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, ca)) as { token_endpoint?: string };
    if (!discovery.token_endpoint) throw new Error('the discovery document has no token_endpoint');
    const basic = Buffer.from(`${encodeURIComponent(config['client-id'])}:${encodeURIComponent(config['client-secret'] ?? '')}`).toString('base64');
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: config['refresh-token'] }).toString();
    tokens = JSON.parse(await send(discovery.token_endpoint, ca, { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' }, form)) as typeof tokens;
  } catch (err) {
    throw new PluginError('forbidden', `cannot refresh the id-token of ${who} at ${issuer} (${(err as Error).message}); log in again`, { cause: err });
  }
  if (!tokens.id_token) throw new PluginError('forbidden', `the issuer ${issuer} answered the refresh of ${who} without an id_token; log in again`);
  config['id-token'] = tokens.id_token;
  if (tokens.refresh_token) config['refresh-token'] = tokens.refresh_token;
  if (user.file) await persist(user.file, user.name, { 'id-token': config['id-token'], 'refresh-token': config['refresh-token'] });
  const next = jwtExpiry(tokens.id_token);
  return { token: tokens.id_token, expiresAt: next === undefined ? undefined : next - EXPIRY_DELTA_MS };
}

// Rewrites only the two values in the file's YAML (comments and order kept), atomically, mode kept.
async function persist(file: string, userName: string, values: Record<string, string>): Promise<void> {
  const yaml = await loadYaml();
  const doc = yaml.parseDocument(readFileSync(file, 'utf8'));
  const users = doc.get('users') as { items?: unknown[] } | undefined;
  const index = (users?.items ?? []).findIndex((u) => (u as { get?: (k: string) => unknown }).get?.('name') === userName);
  if (index < 0) return;
  for (const [key, value] of Object.entries(values)) doc.setIn(['users', index, 'user', 'auth-provider', 'config', key], value);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, doc.toString(), { mode: statSync(file).mode & 0o777 });
  renameSync(tmp, file);
}

function send(url: string, ca: Buffer | undefined, headers: Record<string, string> = {}, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const fn = u.protocol === 'http:' ? httpRequest : request;
    const req = fn(u, { method: body ? 'POST' : 'GET', headers: { accept: 'application/json', ...headers }, ...(ca ? { ca } : {}), timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => ((res.statusCode ?? 0) >= 300 ? reject(new Error(`HTTP ${res.statusCode} from ${u.origin}${u.pathname}`)) : resolve(text)));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 30s')));
    req.on('error', reject);
    req.end(body);
  });
}
