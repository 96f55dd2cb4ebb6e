// HTTP/2 to the API server, as kubectl: every request and watch of a run on one TLS connection
// (opened while the credential plugin runs), against a local TLS server that offers h2 next to
// HTTP/1.1, and one that offers HTTP/1.1 only. (Against the real kube-apiserver: the integration
// suites in test/integration/connections run through it.)
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CredentialSource } from '../../../src/kube/credentials';
import { KubeHttpClient } from '../../../src/kube/http-client';
import { Http2Sessions, refusedUnprocessed } from '../../../src/kube/http2-sessions';
import type { KubeTarget } from '../../../src/kube/kubeconfig';

let dir = '';
let tls: { key: Buffer; cert: Buffer };
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ke-h2-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-subj', '/CN=ke-h2', '-days', '1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
  tls = { key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Listens on a free port of 127.0.0.1; resolves with the port. */
const listenLocal = async (server: Http2SecureServer | Server): Promise<number> => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
};

const clientFor = (port: number, warnings: string[][] = [], user: KubeTarget['user'] = { name: 'u', token: 'T' }, sleep?: (ms: number) => Promise<void>) => {
  const server = `https://127.0.0.1:${port}`;
  const target: KubeTarget = { cluster: { name: 'k', server, certificateAuthorityData: tls.cert.toString('base64') }, user, namespace: 'default', contextName: 'c', clusterName: 'k', server };
  const credentials = new CredentialSource(target, { stdinIsTerminal: false, stderrLine: () => undefined });
  return new KubeHttpClient(target, { credentials, userAgent: 'test', env: {}, onWarnings: (v) => warnings.push(v), sleep });
};

describe('HTTP/2 when the server offers it', () => {
  let server: Http2SecureServer;
  let port = 0;
  const connections: Socket[] = [];
  const securedAt: number[] = [];
  const versions: string[] = [];
  beforeAll(async () => {
    server = createSecureServer({ ...tls, allowHTTP1: true }, (req: Http2ServerRequest, res: Http2ServerResponse) => {
      versions.push(req.httpVersion);
      if (req.headers.authorization !== 'Bearer T') return void res.writeHead(401).end();
      if (req.url.includes('watch=true')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(`${JSON.stringify({ type: 'ADDED', object: { n: 1 } })}\n`);
        return void setTimeout(() => res.end(`${JSON.stringify({ type: 'MODIFIED', object: { n: 2 } })}\n`), 20);
      }
      res.setHeader('warning', ['299 - "one, with a comma"', '299 - "two"']);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url, method: req.method }));
    });
    server.on('connection', (s: Socket) => connections.push(s));
    server.on('secureConnection', () => securedAt.push(Date.now()));
    port = await listenLocal(server);
  });
  afterAll(async () => {
    connections.forEach((s) => s.destroy());
    await new Promise((r) => server.close(r));
  });

  it('carries concurrent requests, a POST and a watch over one connection, with each Warning value apart', async () => {
    const warnings: string[][] = [];
    const http = clientFor(port, warnings);
    const before = connections.length;
    const answers = await Promise.all([1, 2, 3, 4].map((i) => http.request<{ path: string }>({ path: `/api/v1/namespaces/n${i}` })));
    expect(answers.map((a) => a.path)).toEqual([1, 2, 3, 4].map((i) => `/api/v1/namespaces/n${i}`));
    expect(await http.request({ method: 'POST', path: '/apis/x', body: { a: 1 } })).toEqual({ path: '/apis/x', method: 'POST' });
    const events: number[] = [];
    expect(await http.watch<{ n: number }>({ path: '/api/v1/pods' }, (e) => void events.push(e.object.n))).toBe(false);
    expect(events).toEqual([1, 2]);
    expect([connections.length - before, http.connectionCount, http.requestCount]).toEqual([1, 1, 6]);
    expect(versions.slice(-6).every((v) => v === '2.0')).toBe(true);
    expect(warnings[0]).toEqual(['299 - "one, with a comma"', '299 - "two"']);
    expect(http.roundTripMs()).toBeGreaterThan(0);
    // Handshakes and one answer: more than one round trip.
    expect(http.firstExchangeMs()).toBeGreaterThan(http.roundTripMs()!);
    http.close();
  });

  it('opens its connection while the credential plugin runs (TLS done before the plugin answers)', async () => {
    const plugin = join(dir, 'slow-login');
    writeFileSync(plugin, `#!/bin/sh\nsleep 0.5\ndate +%s%3N > '${join(dir, 'answered')}'\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"T"}}'\n`);
    chmodSync(plugin, 0o755);
    const http = clientFor(port, [], { name: 'u', exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } });
    const before = securedAt.length;
    await http.request({ path: '/version' });
    expect(securedAt.length - before).toBe(1);
    expect(securedAt.at(-1)!).toBeLessThan(Number(readFileSync(join(dir, 'answered'), 'utf8')));
    http.close();
  });
});

describe('streams the server refused unprocessed', () => {
  // As the kube-apiserver for an anonymous request over HTTP/2 (its CVE-2023-44487 mitigation):
  // it answers the connection's first stream, then sends a GOAWAY naming that stream the last it
  // processes, which refuses the others in flight; and a server that resets one stream of its own.
  let server: Http2SecureServer;
  let port = 0;
  let goawayAfterFirst = true;
  let resetCode = 0;
  const processed: string[] = [];
  const sessions: ServerHttp2Session[] = [];
  beforeAll(async () => {
    server = createSecureServer(tls);
    server.on('session', (s: ServerHttp2Session) => sessions.push(s));
    server.on('stream', (stream: ServerHttp2Stream, headers) => {
      const session = stream.session as ServerHttp2Session & { goneAway?: boolean };
      stream.on('error', () => undefined);
      if (session.goneAway) return void stream.close(constants.NGHTTP2_REFUSED_STREAM);
      if (resetCode && headers[':method'] === 'POST') return void stream.close(resetCode);
      processed.push(`${headers[':method']} ${headers[':path']}`);
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end(JSON.stringify({ path: headers[':path'] }));
      if (goawayAfterFirst) {
        session.goneAway = true;
        session.goaway(constants.NGHTTP2_NO_ERROR, stream.id);
      }
    });
    port = await listenLocal(server);
  });
  afterAll(async () => {
    sessions.forEach((s) => s.destroy());
    await new Promise((r) => server.close(r));
  });

  it('sends each again, a POST too, on a new connection, at once the first time, and the server processes each once', async () => {
    const pauses: number[] = [];
    const http = clientFor(port, [], undefined, async (ms) => void pauses.push(ms));
    processed.length = 0;
    const paths = ['/api/v1/namespaces/n/pods/web', '/apis/authentication.k8s.io/v1/selfsubjectreviews', '/api/v1/namespaces/n', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews'];
    const answers = await Promise.all(paths.map((path) => http.request<{ path: string }>({ method: path.endsWith('reviews') ? 'POST' : 'GET', path, body: path.endsWith('reviews') ? {} : undefined })));
    expect(answers.map((a) => a.path.replace(/\?.*/, ''))).toEqual(paths);
    expect(processed.map((p) => p.replace(/\?.*/, '')).sort()).toEqual(paths.map((p) => `${p.endsWith('reviews') ? 'POST' : 'GET'} ${p}`).sort());
    // Every connection processed one stream: four requests, four connections.
    expect(http.connectionCount).toBe(4);
    // The three refused on the first connection went again at once; a second refusal waits (Go's backoff).
    expect(pauses.filter((ms) => ms === 0)).toHaveLength(3);
    expect(pauses.filter((ms) => ms !== 0).every((ms) => ms === 500 || ms === 1000)).toBe(true);
    http.close();
  });

  it('counts as unsent what a closing session refused, not a header HTTP/2 refuses to carry (the same every time)', async () => {
    const sessions = new Http2Sessions(new URL(`https://127.0.0.1:${port}`), { ca: tls.cert }, 5_000, () => undefined);
    const session = (await sessions.session(undefined, undefined))!;
    const badHeader = await sessions.request(session, 'POST', '/apis/x', { connection: 'close' }, Buffer.from('{}'), undefined).catch((e: unknown) => e);
    expect([(badHeader as NodeJS.ErrnoException).code, refusedUnprocessed(badHeader)]).toEqual(['ERR_HTTP2_INVALID_CONNECTION_HEADERS', false]);
    session.close();
    const closing = await sessions.request(session, 'POST', '/apis/x', {}, Buffer.from('{}'), undefined).catch((e: unknown) => e);
    expect([(closing as NodeJS.ErrnoException).code, refusedUnprocessed(closing)]).toEqual(['ERR_HTTP2_GOAWAY_SESSION', true]);
    sessions.close();
  });

  it('does not send a POST again that the server reset for another reason (it may have been processed), as kubectl', async () => {
    goawayAfterFirst = false;
    resetCode = constants.NGHTTP2_INTERNAL_ERROR;
    const http = clientFor(port);
    await expect(http.request({ method: 'POST', path: '/apis/x', body: {} })).rejects.toThrow(/ERR_HTTP2_STREAM_ERROR/);
    expect(http.requestCount).toBe(1);
    http.close();
  });
});

describe('HTTP/1.1 when the server offers nothing else', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createHttpsServer(tls, (req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version: req.httpVersion })));
    port = await listenLocal(server);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('falls back to HTTP/1.1 for the run', async () => {
    const http = clientFor(port);
    expect(await http.request({ path: '/version' })).toEqual({ version: '1.1' });
    expect(await http.request({ path: '/version' })).toEqual({ version: '1.1' });
    // The ALPN probe, then the keep-alive connection that carries both.
    expect(http.connectionCount).toBe(2);
    http.close();
  });
});
