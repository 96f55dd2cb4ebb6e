// Helpers for test/integration/connections: proxies on loopback that resolve names nothing else
// resolves (so a direct connection fails), a TLS front that injects faults, an exec credential
// script, service account tokens, and kubectl run with the same kubeconfig and flags as the plugin.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROLES } from '../../src/kube/access-rules';
import { clusterEnv, KUBECTL } from './cluster';

/** A name only the test proxies resolve (the .invalid TLD never resolves in DNS). */
export const PROXY_ONLY_NAME = 'apiserver.ke-proxy.invalid';

/** A running proxy: its URL, the targets it was asked for, and how to stop it. */
export interface TestProxy {
  url: string;
  requests: string[];
  close: () => Promise<void>;
}

// Where the proxy connects for a requested host: the names it alone knows, else the host itself.
const resolveVia = (names: Record<string, string>, host: string) => names[host] ?? host;

/**
 * An HTTP CONNECT proxy on 127.0.0.1 that resolves `names` (default: PROXY_ONLY_NAME → 127.0.0.1);
 * with `tls`, an https:// proxy (clients speak TLS to it before the CONNECT).
 */
export async function startConnectProxy(names: Record<string, string> = { [PROXY_ONLY_NAME]: '127.0.0.1' }, opts: { tls?: { key: Buffer; cert: Buffer } } = {}): Promise<TestProxy> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const refuse = (_req: IncomingMessage, res: ServerResponse) => res.writeHead(405).end();
  const server = opts.tls ? createHttpsServer(opts.tls, refuse) : createHttpServer(refuse);
  // The raw TCP sockets (for https, the TLS sockets sit on them): destroyed on close.
  server.on('connection', (s: Socket) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    requests.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(/:(?=\d+$)/);
    const upstream = connect(Number(port), resolveVia(names, host!), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))),
  };
}

/** A SOCKS5 proxy (no authentication, CONNECT only) on 127.0.0.1 that resolves `names`. */
export async function startSocks5Proxy(names: Record<string, string> = { [PROXY_ONLY_NAME]: '127.0.0.1' }): Promise<TestProxy> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createTcpServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let stage: 'greeting' | 'request' | 'piping' = 'greeting';
    client.on('data', function onData(chunk: Buffer) {
      buf = Buffer.concat([buf, chunk]);
      if (stage === 'greeting' && buf.length >= 2 && buf.length >= 2 + buf[1]!) {
        buf = buf.subarray(2 + buf[1]!);
        client.write(Buffer.from([5, 0]));
        stage = 'request';
      }
      if (stage === 'request' && buf.length >= 5) {
        const type = buf[3];
        let host: string;
        let at: number;
        if (type === 1) [host, at] = [[...buf.subarray(4, 8)].join('.'), 8];
        else if (type === 3) [host, at] = [buf.subarray(5, 5 + buf[4]!).toString(), 5 + buf[4]!];
        else return void client.end(Buffer.from([5, 8, 0, 1, 0, 0, 0, 0, 0, 0]));
        if (buf.length < at + 2) return;
        const port = buf.readUInt16BE(at);
        const rest = buf.subarray(at + 2);
        stage = 'piping';
        client.off('data', onData);
        requests.push(`${host}:${port}`);
        const upstream = connect(port, resolveVia(names, host), () => {
          client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
          if (rest.length) upstream.write(rest);
          upstream.pipe(client).pipe(upstream);
        });
        upstream.on('error', () => client.end(Buffer.from([5, 4, 0, 1, 0, 0, 0, 0, 0, 0])));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `socks5://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))),
  };
}

/** A throwaway CA of the test's own (no kubeconfig or trust store knows it): its key and certificate files in `dir`. */
export function mintTestCa(dir: string): { caCrt: string; caKey: string } {
  const caKey = join(dir, 'test-ca.key');
  const caCrt = join(dir, 'test-ca.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', caKey, '-out', caCrt, '-subj', '/CN=ke-test-ca', '-days', '1'], { stdio: 'pipe' });
  return { caCrt, caKey };
}

/**
 * A serving key and certificate for `san` (default IP:127.0.0.1), signed by the cluster's CA (so
 * clients of the cluster trust it) unless another CA is given.
 */
export function mintServingCert(dir: string, opts: { san?: string; ca?: { caCrt: string; caKey: string }; name?: string } = {}): { key: Buffer; cert: Buffer } {
  const { caCrt, caKey } = opts.ca ?? clusterEnv();
  const base = join(dir, opts.name ?? 'front');
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${base}.key`]);
  execFileSync('openssl', ['req', '-new', '-key', `${base}.key`, '-subj', '/CN=ke-test-serving', '-out', `${base}.csr`]);
  writeFileSync(`${base}.ext`, `basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=${opts.san ?? 'IP:127.0.0.1'}\n`);
  execFileSync('openssl', ['x509', '-req', '-in', `${base}.csr`, '-CA', caCrt, '-CAkey', caKey, '-CAcreateserial', '-CAserial', `${base}.srl`, '-days', '1', '-sha256', '-extfile', `${base}.ext`, '-out', `${base}.crt`], { stdio: 'pipe' });
  return { key: readFileSync(`${base}.key`), cert: readFileSync(`${base}.crt`) };
}

/** What the fault front answers instead of the API server (undefined: pass the request on). */
export type Fault = { status: number; retryAfter?: string } | undefined;

/**
 * A TLS front on 127.0.0.1 (certificate from the cluster CA) that forwards requests to the API
 * server, bearer token and all, unless `fault` answers them itself (e.g. 429 with Retry-After).
 */
export async function startFaultFront(fault: (req: IncomingMessage, seen: number) => Fault): Promise<{ url: string; faults: string[]; forwarded: string[]; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ke-front-'));
  const { key, cert } = mintServingCert(dir);
  const upstream = new URL(clusterEnv().apiserver);
  const ca = readFileSync(clusterEnv().caCrt);
  const faults: string[] = [];
  const forwarded: string[] = [];
  const server = createHttpsServer({ key, cert }, (req, res) => {
    const f = fault(req, faults.length + forwarded.length);
    if (f) {
      faults.push(`${req.method} ${req.url}`);
      res.writeHead(f.status, { 'content-type': 'application/json', ...(f.retryAfter !== undefined ? { 'retry-after': f.retryAfter } : {}) });
      return void res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'injected by the test', code: f.status }));
    }
    forwarded.push(`${req.method} ${req.url}`);
    const headers = { ...req.headers, host: upstream.host };
    const up = httpsRequest({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers, ca }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    faults,
    forwarded,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => (rmSync(dir, { recursive: true, force: true }), r()));
      }),
  };
}

/**
 * An exec credential plugin as a shell script: counts its runs in `<dir>/runs`, prints a login
 * prompt on stderr, and answers with the token in `<dir>/token`, expiring `expiresInS` from now.
 */
export function writeExecCredentialScript(path: string, dir: string, expiresInS?: number): void {
  const exp = expiresInS === undefined ? '' : `,\\"expirationTimestamp\\":\\"$(date -u -d @$(( $(date +%s) + ${expiresInS} )) +%Y-%m-%dT%H:%M:%SZ)\\"`;
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      `n=$(( $(cat "${dir}/runs" 2>/dev/null || echo 0) + 1 )); echo $n > "${dir}/runs"`,
      `date +%s >> "${dir}/run-times"`,
      'echo "ke-test-login: using the cached session" >&2',
      `echo "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"$(cat "${dir}/token")\\"${exp}}}"`,
      '',
    ].join('\n'),
  );
  chmodSync(path, 0o755);
}

/**
 * A token of a ServiceAccount (created if missing) bound in `ns` to `clusterRoles`: by default every
 * shipped role, as the test user `debugger` has them (the core role alone cannot --copy).
 */
export function serviceAccountToken(ns: string, name: string, clusterRoles: string | string[] = [ROLES.core, ROLES.copy, ROLES.cleanup, ROLES.audit]): string {
  const admin = ['--kubeconfig', clusterEnv().kubeconfig, '--context', 'admin', '-n', ns];
  try {
    execFileSync(KUBECTL, [...admin, 'create', 'serviceaccount', name], { stdio: 'pipe' });
    for (const role of [clusterRoles].flat())
      execFileSync(KUBECTL, [...admin, 'create', 'rolebinding', `${name}-${role}`, `--clusterrole=${role}`, `--serviceaccount=${ns}:${name}`], { stdio: 'pipe' });
  } catch {
    /* exists already */
  }
  return execFileSync(KUBECTL, [...admin, 'create', 'token', name, '--duration=1h'], { encoding: 'utf8' }).trim();
}

/** kubectl with exactly the arguments and environment given (no --context added), never throwing. */
export function runKubectl(args: string[], env: Record<string, string | undefined> = {}, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(KUBECTL, args, { env: { PATH: process.env.PATH, HOME: tmpdir(), ...env }, cwd, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}
