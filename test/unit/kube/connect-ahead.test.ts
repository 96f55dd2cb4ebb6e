// The connection a debug session opens while its command line is parsed (src/main.ts Connections):
// taken by the connect whose kube flags are the ones it was opened for, its TLS handshake done by
// then; closed unused otherwise. Against a local TLS server that speaks HTTP/2, as the API server.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connections, type WarningState } from '../../../src/main';
import { processPrinter } from '../../../src/output/printer';

let dir = '';
let server: Http2SecureServer;
const sockets: Socket[] = [];
let handshakes = 0;
let env: NodeJS.ProcessEnv = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ke-ahead-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-subj', '/CN=ke-ahead', '-days', '1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
  const tls = { key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) };
  server = createSecureServer(tls, (req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url })));
  server.on('connection', (s: Socket) => sockets.push(s));
  server.on('secureConnection', () => handshakes++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const cluster = (name: string) => `- name: ${name}\n  cluster:\n    server: https://127.0.0.1:${port}\n    certificate-authority-data: ${tls.cert.toString('base64')}\n`;
  const config = `apiVersion: v1\nkind: Config\nclusters:\n${cluster('one')}${cluster('two')}users:\n- name: u\n  user:\n    token: T\ncontexts:\n- name: one\n  context: {cluster: one, user: u, namespace: a}\n- name: two\n  context: {cluster: two, user: u, namespace: b}\ncurrent-context: one\n`;
  writeFileSync(join(dir, 'config'), config);
  env = { KUBECONFIG: join(dir, 'config') };
});
afterAll(async () => {
  sockets.forEach((s) => s.destroy());
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const connections = () => {
  const printer = processPrinter(false, {}, { stdout: { write: () => true }, stderr: { write: () => true } });
  const warnings: WarningState = { asErrors: false };
  return new Connections(printer, env, false, warnings);
};
const whenHandshakes = async (n: number) => {
  for (let i = 0; i < 200 && handshakes < n; i++) await new Promise((r) => setTimeout(r, 5));
  return handshakes;
};

it('the connect with the same flags takes the connection opened ahead: its handshake is done before the first request, and the request adds none', async () => {
  const before = handshakes;
  const c = connections();
  c.preconnect({ namespace: 'a', verbosity: 0 });
  // The parse's work, while the handshake is in flight (its end is seen only after it).
  await new Promise((r) => setImmediate(r));
  for (const end = performance.now() + 150; performance.now() < end; );
  expect(await whenHandshakes(before + 1)).toBe(before + 1);
  // -v differs between the two parses only in ways that do not choose a connection.
  const { target, http } = await c.take({ namespace: 'a', verbosity: 6 });
  expect(target.namespace).toBe('a');
  expect(await http.request<{ path: string }>({ path: '/api/v1/namespaces/a/pods/p' })).toEqual({ path: '/api/v1/namespaces/a/pods/p' });
  expect({ connections: http.connectionCount, handshakes: handshakes - before }).toEqual({ connections: 1, handshakes: 1 });
  // Its handshakes were timed across the work they overlapped (150 ms): what the wire cost is two round trips, then the answer's.
  expect(http.firstExchangeMs()).toBeGreaterThanOrEqual(3 * http.roundTripMs()!);
  expect(http.firstExchangeMs()).toBeLessThan(150);
  http.close();
  c.close();
});

it('a connect with other flags opens its own, and the one opened ahead is closed unused', async () => {
  const c = connections();
  c.preconnect({ namespace: 'a', verbosity: 0 });
  const ahead = (c as unknown as { early: { opened: Promise<{ http: { close(): void } }> } }).early.opened;
  const early = await ahead;
  const closed = jest.spyOn(early.http, 'close');
  const { target, http } = await c.take({ context: 'two', verbosity: 0 });
  expect(target.contextName).toBe('two');
  expect(target.namespace).toBe('b');
  await new Promise((r) => setImmediate(r));
  expect(closed).toHaveBeenCalled();
  expect(http).not.toBe(early.http);
  http.close();
  c.close();
});

it('a failure of the connection opened ahead is the connect\'s own, met when the same flags connect', async () => {
  const c = connections();
  c.preconnect({ context: 'nosuch', verbosity: 0 });
  await expect(c.take({ context: 'nosuch', verbosity: 0 })).rejects.toThrow('context "nosuch" not found in kubeconfig');
  c.close();
});

it('one no command took is closed with the run', async () => {
  const c = connections();
  c.preconnect({ namespace: 'a', verbosity: 0 });
  const early = await (c as unknown as { early: { opened: Promise<{ http: { close(): void } }> } }).early.opened;
  const closed = jest.spyOn(early.http, 'close');
  c.close();
  await new Promise((r) => setImmediate(r));
  expect(closed).toHaveBeenCalled();
});
