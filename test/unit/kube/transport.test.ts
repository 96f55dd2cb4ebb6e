// The transport against a local plain-HTTP fake API server: credentials per request, retries,
// deadlines. (The same behaviours against the real kube-apiserver: test/integration/connections.)
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { CredentialSource } from '../../../src/kube/credentials';
import { KubeHttpClient } from '../../../src/kube/http-client';
import type { KubeTarget, KubeUser } from '../../../src/kube/kubeconfig';
import { PluginError } from '../../../src/errors/plugin-error';

let dir = '';
let server: Server;
let handler: (req: IncomingMessage, res: ServerResponse) => void;
let base = '';
const seen: IncomingMessage[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ke-transport-'));
  seen.length = 0;
  server = createServer((req, res) => {
    seen.push(req);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const target = (user: Partial<KubeUser>): KubeTarget => ({
  cluster: { name: 'k', server: base },
  user: { name: 'u', ...user },
  namespace: 'default',
  contextName: 'c',
  clusterName: 'k',
  server: base,
});
const stderr: string[] = [];
const client = (user: Partial<KubeUser>, opts: { now?: () => number; requestTimeoutMs?: number } = {}) => {
  const t = target(user);
  const credentials = new CredentialSource(t, { stdinIsTerminal: false, stderrLine: (l) => stderr.push(l) }, opts.now);
  return { credentials, http: new KubeHttpClient(t, { credentials, userAgent: 'test', env: {}, sleep: async () => undefined, requestTimeoutMs: opts.requestTimeoutMs }) };
};
const json = (res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

/** An exec credential plugin: counts its runs, prints a prompt on stderr, answers token-<run>. */
function execScript(opts: { expiresInS?: number; exit?: number } = {}): string {
  const script = join(dir, 'get-token');
  const exp = opts.expiresInS === undefined ? '' : `,\\"expirationTimestamp\\":\\"$(date -u -d @$(( $(date +%s) + ${opts.expiresInS} )) +%Y-%m-%dT%H:%M:%SZ)\\"`;
  writeFileSync(
    script,
    `#!/bin/sh\nn=$(( $(cat "${dir}/runs" 2>/dev/null || echo 0) + 1 )); echo $n > "${dir}/runs"\nprintf '%s' "$KUBERNETES_EXEC_INFO" > "${dir}/info"\necho "open the browser to log in ($1)" >&2\n${opts.exit ? `echo "login refused" >&2; exit ${opts.exit}\n` : ''}echo "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"token-$n\\"${exp}}}"\n`,
  );
  chmodSync(script, 0o755);
  return script;
}
const runs = () => Number(readFileSync(join(dir, 'runs'), 'utf8'));
const exec = (command: string, extra: object = {}) => ({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command, args: ['arg1'], interactiveMode: 'IfAvailable' as const, ...extra } });

describe('credentials per request', () => {
  it('exec: stderr shown, KUBERNETES_EXEC_INFO with the cluster, cached until expiry, run again after it', async () => {
    let now = Date.now();
    const { credentials } = client(exec(execScript({ expiresInS: 60 }), { provideClusterInfo: true }), { now: () => now });
    stderr.length = 0;
    expect((await credentials.identity()).headers.Authorization).toBe('Bearer token-1');
    expect(stderr).toEqual(['open the browser to log in (arg1)']);
    expect(JSON.parse(readFileSync(join(dir, 'info'), 'utf8'))).toEqual({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: { interactive: false, cluster: { server: base } } });
    await Promise.all([credentials.identity(), credentials.identity()]);
    expect(runs()).toBe(1);
    now += 61_000;
    const [a, b] = await Promise.all([credentials.identity(), credentials.identity()]);
    expect([a.headers.Authorization, b.headers.Authorization, runs()]).toEqual(['Bearer token-2', 'Bearer token-2', 2]);
  });

  it('exec: a 401 fetches the credential again, once, and the request goes on', async () => {
    handler = (req, res) => (req.headers.authorization === 'Bearer token-1' ? json(res, 401, { message: 'Unauthorized' }) : json(res, 200, { ok: req.headers.authorization }));
    const { http } = client(exec(execScript()));
    expect(await http.request({ path: '/x' })).toEqual({ ok: 'Bearer token-2' });
    expect(runs()).toBe(2);
  });

  it('exec: a failing plugin is one line with its exit code and last message', async () => {
    const err = (await client(exec(execScript({ exit: 3 }))).credentials.identity().catch((e: unknown) => e)) as PluginError;
    expect(err.message).toMatch(/^exec credential plugin ".*get-token" of user "u" failed with exit code 3: login refused; log in again or fix the plugin$/);
  });

  it('exec: a missing command shows the installHint', async () => {
    const err = (await client(exec(join(dir, 'nope'), { installHint: 'install it with\n  brew install nope' })).credentials.identity().catch((e: unknown) => e)) as PluginError;
    expect([err.kind, err.message]).toEqual(['config', `exec credential plugin "${join(dir, 'nope')}" of user "u" not found: install it with brew install nope`]);
  });

  it('exec: v1 without interactiveMode and Always without a terminal are refused as client-go does', async () => {
    await expect(client({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'x' } }).credentials.identity()).rejects.toThrow(/has no interactiveMode/);
    await expect(client(exec('x', { interactiveMode: 'Always' })).credentials.identity()).rejects.toThrow(/cannot support interactive mode: standard input is not a terminal/);
    await expect(client(exec('x', { apiVersion: 'client.authentication.k8s.io/v1alpha1' })).credentials.identity()).rejects.toThrow(/apiVersion "client.authentication.k8s.io\/v1alpha1"/);
  });

  it('tokenFile: read again when it changes', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'first\n');
    const { credentials } = client({ tokenFile: file });
    expect((await credentials.identity()).headers.Authorization).toBe('Bearer first');
    writeFileSync(file, 'second-token\n');
    expect((await credentials.identity()).headers.Authorization).toBe('Bearer second-token');
  });

  it('impersonation headers from the user (as, as-uid, as-groups, as-user-extra)', async () => {
    const { credentials } = client({ token: 't', impersonate: 'alice', impersonateUid: '7', impersonateGroups: ['a', 'b'], impersonateUserExtra: { 'acme.com/scopes': ['x'] } });
    expect((await credentials.identity()).headers).toEqual({
      Authorization: 'Bearer t', 'Impersonate-User': 'alice', 'Impersonate-Uid': '7', 'Impersonate-Group': ['a', 'b'], 'Impersonate-Extra-acme.com%2Fscopes': ['x'],
    });
  });
});

describe('faults, as client-go survives them', () => {
  it('429 and 5xx with Retry-After are tried again; a 5xx without it is not', async () => {
    let n = 0;
    handler = (_req, res) => (++n < 3 ? json(res, n === 1 ? 429 : 503, { message: 'slow down' }, { 'retry-after': '1' }) : json(res, 200, { n }));
    const { http } = client({ token: 't' });
    expect(await http.request({ path: '/x' })).toEqual({ n: 3 });
    handler = (_req, res) => json(res, 500, { message: 'boom' });
    await expect(http.request({ path: '/y' })).rejects.toMatchObject({ status: 500 });
    expect(seen.filter((r) => r.url === '/y')).toHaveLength(1);
  });

  it('at most 10 retries, then the last answer', async () => {
    handler = (_req, res) => json(res, 429, { message: 'too many' }, { 'retry-after': '0' });
    await expect(client({ token: 't' }).http.request({ path: '/x' })).rejects.toMatchObject({ status: 429 });
    expect(seen).toHaveLength(11);
  });

  it('a GET cut by a connection reset is tried again; a POST is not', async () => {
    let n = 0;
    handler = (req, res) => (++n === 1 ? req.socket.destroy() : json(res, 200, { n }));
    const { http } = client({ token: 't' });
    expect(await http.request({ path: '/x' })).toEqual({ n: 2 });
    n = 0;
    await expect(http.request({ method: 'POST', path: '/x', body: {} })).rejects.toMatchObject({ kind: 'unreachable' });
  });

  it('a refused connection fails at once, as in kubectl (server down: one line, no waiting)', async () => {
    const port = (server.address() as AddressInfo).port;
    await new Promise((r) => server.close(r));
    const t = { ...target({ token: 't' }), server: `http://127.0.0.1:${port}` };
    const credentials = new CredentialSource(t, { stdinIsTerminal: false, stderrLine: () => undefined });
    const pauses: number[] = [];
    const http = new KubeHttpClient(t, { credentials, userAgent: 'test', env: {}, sleep: async (ms) => void pauses.push(ms) });
    await expect(http.request({ path: '/x' })).rejects.toMatchObject({ kind: 'unreachable', message: expect.stringContaining('(ECONNREFUSED)') });
    expect(pauses).toEqual([]);
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  });

  it('--request-timeout: a deadline for the request, sent as ?timeout=; never a timer on a watch', async () => {
    handler = (req, res) => {
      if (req.url?.includes('watch=true')) {
        res.writeHead(200);
        setTimeout(() => res.end(`${JSON.stringify({ type: 'ADDED', object: { late: true } })}\n`), 600);
      }
      // Anything else: never answered.
    };
    const { http } = client({ token: 't' }, { requestTimeoutMs: 300 });
    const started = Date.now();
    const err = (await http.request({ path: '/slow' }).catch((e: unknown) => e)) as PluginError;
    expect(err.message).toMatch(/^GET \/slow got no answer from the API server .* within --request-timeout \(0.3s\)/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(seen[0]!.url).toBe('/slow?timeout=1s');
    const events: unknown[] = [];
    await http.watch({ path: '/w' }, (e) => (events.push(e.object), true));
    expect(events).toEqual([{ late: true }]);
    expect(seen[1]!.url).not.toMatch(/timeout=/);
  });
});

describe('oidc auth-provider', () => {
  const jwt = (exp: number) => `e30.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.sig`;
  it('an expired id-token is refreshed with the refresh token, and both new tokens are written back to the kubeconfig', async () => {
    const fresh = jwt(Math.floor(Date.now() / 1000) + 3600);
    const forms: string[] = [];
    handler = (req, res) => {
      if (req.url === '/.well-known/openid-configuration') return json(res, 200, { issuer: base, token_endpoint: `${base}/token` });
      let body = '';
      req.on('data', (d) => (body += d)).on('end', () => {
        forms.push(`${req.headers.authorization} ${body}`);
        json(res, 200, { id_token: fresh, refresh_token: 'refresh-2', token_type: 'Bearer' });
      });
    };
    const file = join(dir, 'config');
    const config = { 'client-id': 'kubectl', 'idp-issuer-url': base, 'id-token': jwt(1), 'refresh-token': 'refresh-1' };
    writeFileSync(file, `# my clusters\nusers:\n- name: u\n  user:\n    auth-provider:\n      name: oidc\n      config:\n${Object.entries(config).map(([k, v]) => `        ${k}: ${v}\n`).join('')}`);
    const { credentials } = client({ authProvider: { name: 'oidc', config: { ...config } }, file });
    expect((await credentials.identity()).headers.Authorization).toBe(`Bearer ${fresh}`);
    expect(forms).toEqual([`Basic ${Buffer.from('kubectl:').toString('base64')} grant_type=refresh_token&refresh_token=refresh-1`]);
    const written = readFileSync(file, 'utf8');
    expect(written).toContain('# my clusters');
    expect(written).toContain(`id-token: ${fresh}`);
    expect(written).toContain('refresh-token: refresh-2');
    // Still valid: no second refresh.
    await credentials.identity();
    expect(forms).toHaveLength(1);
  });
});
