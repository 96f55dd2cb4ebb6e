// The floor of the far scenario (bench only, never product code): the fastest any client could
// reach a working prompt, so that the bench bounds what kubectl ephemeral could. From its own start,
// in parallel: the exec credential plugin of the kubeconfig, one HTTP/2 connection for the API
// requests and a few spare TLS connections (HTTP/1.1) for the attach upgrade. With the token: GET
// the pod and its namespace together, PATCH pods/ephemeralcontainers adding busybox `sh` with
// stdin and tty, then WebSocket attach attempts (v5.channel.k8s.io, else v4) on the spare
// connections, one every half round trip (the GET's) until one gives output; `echo R$((6*7))` is
// typed once an attempt's upgrade is answered (once in all, unless the kubelet refuses that attempt). Container output goes to stdout (the harness's
// pty sees R42 there); the timestamps (ms after this process's start, performance.now()) go to
// the --log file as R42 comes back. It stays up until the harness ends it, as the other tools do.
//
//   node floor-client.mjs --log FILE [--attach-at patch-answered|patch-sent] NAMESPACE POD
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect as connectH2 } from 'node:http2';
import { connect as connectTls } from 'node:tls';
import { parseArgs } from 'node:util';

const scriptAt = performance.now();
const { values: flags, positionals } = parseArgs({ allowPositionals: true, options: { log: { type: 'string' }, 'attach-at': { type: 'string', default: 'patch-answered' } } });
const [ns, pod] = positionals;
const IMAGE = 'docker.io/library/busybox:1.36';
const COMMAND = 'echo R$((6*7))\r';
const SPARES = 6;

const log = { timeOriginWall: performance.timeOrigin, scriptAt, attachAt: flags['attach-at'], attempts: [] };
const mark = (key) => (log[key] ??= performance.now());

/** The current context's server, CA and exec plugin of $KUBECONFIG (JSON, as the far scenario writes it). */
function readKubeconfig() {
  const config = JSON.parse(readFileSync(process.env.KUBECONFIG, 'utf8'));
  const context = config.contexts.find((c) => c.name === config['current-context']).context;
  const cluster = config.clusters.find((c) => c.name === context.cluster).cluster;
  const user = config.users.find((u) => u.name === context.user).user;
  const ca = cluster['certificate-authority-data'] ? Buffer.from(cluster['certificate-authority-data'], 'base64') : readFileSync(cluster['certificate-authority']);
  return { server: new URL(cluster.server), ca, servername: cluster['tls-server-name'], exec: user.exec };
}

/** Runs the exec credential plugin as kubectl does (KUBERNETES_EXEC_INFO, non-interactive); resolves with its token. */
function runCredentialPlugin(exec) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion: exec.apiVersion, kind: 'ExecCredential', spec: { interactive: false } }) };
    for (const e of exec.env ?? []) env[e.name] = e.value;
    const child = spawn(exec.command, exec.args ?? [], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`credential plugin exited ${code}`));
      resolve(JSON.parse(Buffer.concat(out).toString()).status.token);
    });
  });
}

/** One request on the HTTP/2 session; resolves with { status, body } (body parsed JSON). */
function request(session, token, method, path, body, contentType) {
  return new Promise((resolve, reject) => {
    const headers = { ':method': method, ':path': path, authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body) headers['content-type'] = contentType;
    const stream = session.request(headers, { endStream: !body });
    const chunks = [];
    let status = 0;
    stream.on('response', (h) => (status = h[':status']));
    stream.on('data', (d) => chunks.push(d));
    stream.on('error', reject);
    stream.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      if (status >= 300) reject(new Error(`${method} ${path}: ${status} ${text.slice(0, 300)}`));
      else resolve({ status, body: JSON.parse(text) });
    });
    if (body) stream.end(JSON.stringify(body));
  });
}

/** Spare TLS connections (HTTP/1.1) for the attach upgrades: take() hands one out and opens its replacement. */
function sparePool({ server, ca, servername }) {
  const open = () => {
    const socket = connectTls({ host: server.hostname, port: Number(server.port || 443), ca, servername, ALPNProtocols: ['http/1.1'] });
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    socket.once('secureConnect', () => (socket.readyAt = performance.now()));
    return socket;
  };
  const spares = Array.from({ length: SPARES }, open);
  return {
    ready: () => Promise.all(spares.map((s) => new Promise((r) => (s.readyAt ? r() : s.once('secureConnect', r))))),
    take: () => (spares.push(open()), spares.shift()),
    closeAll: () => spares.forEach((s) => s.destroy()),
  };
}

/** A client frame (RFC 6455: masked; FIN set). */
function clientFrame(opcode, payload) {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  const mask = randomBytes(4);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i] ^ mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

/** Splits server frames (unmasked, unfragmented) off buf; calls onFrame(opcode, payload); returns the rest. */
function readFrames(buf, onFrame) {
  while (buf.length >= 2) {
    let len = buf[1] & 0x7f;
    let at = 2;
    if (len === 126) [len, at] = [buf.length >= 4 ? buf.readUInt16BE(2) : Infinity, 4];
    else if (len === 127) [len, at] = [buf.length >= 10 ? Number(buf.readBigUInt64BE(2)) : Infinity, 10];
    if (buf.length < at + len) break;
    onFrame(buf[0] & 0x0f, buf.subarray(at, at + len));
    buf = buf.subarray(at + len);
  }
  return buf;
}

/**
 * One attach attempt on socket: the upgrade request. Calls on.upgraded() once it is answered (the
 * API server answers before it asks the kubelet), on.stdout(data) for channel 1, on.failed() for a
 * refused upgrade, an error status on channel 3 (the kubelet's "not found") or a close before
 * output. entry.type() types the command on channel 0, entry.close() ends the attempt.
 */
function attachAttempt(socket, { server, token, path }, entry, on) {
  const key = randomBytes(16).toString('base64');
  socket.write(
    [`GET ${path} HTTP/1.1`, `Host: ${server.host}`, `Authorization: Bearer ${token}`, 'Upgrade: websocket', 'Connection: Upgrade',
      `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io', '', ''].join('\r\n'),
  );
  let buf = Buffer.alloc(0);
  let upgraded = false;
  let done = false;
  entry.close = () => ((done = true), socket.destroy());
  entry.type = () => (socket.write(clientFrame(2, Buffer.from(`\x00${COMMAND}`))), (entry.typedAt = performance.now()));
  const fail = (reason) => {
    if (done || entry.outputAt) return;
    done = true;
    entry.failedAt = performance.now();
    entry.reason = reason.slice(0, 200);
    socket.destroy();
    on.failed();
  };
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    if (!upgraded) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString();
      if (!head.startsWith('HTTP/1.1 101')) return fail(`${head.split('\r\n')[0]} ${buf.subarray(end + 4).toString()}`);
      upgraded = true;
      entry.upgradedAt = performance.now();
      entry.protocol = /^sec-websocket-protocol:\s*(\S+)/im.exec(head)?.[1];
      buf = buf.subarray(end + 4);
      on.upgraded();
    }
    buf = readFrames(buf, (opcode, payload) => {
      if (opcode === 8) return fail(`closed ${payload.length >= 2 ? payload.readUInt16BE(0) : ''}`);
      if (opcode === 9) return socket.write(clientFrame(10, payload));
      if (opcode !== 2 || payload.length === 0) return;
      if (payload[0] === 1 && payload.length > 1) {
        entry.outputAt ??= performance.now();
        on.stdout(payload.subarray(1));
      } else if (payload[0] === 3 && !/"status":"Success"/.test(payload.toString())) fail(payload.subarray(1).toString());
    });
  });
  socket.on('close', () => fail('connection closed'));
}

/**
 * Attach attempts every spacingMs (and at once after a failure) until one gives output; resolves
 * once R42 is back on stdout. The command is typed once, on the oldest upgraded attempt still
 * alive, and again on the next one only if that attempt is refused (its input is then lost): the
 * kubelet's refusal comes a few ms after the upgrade, well before the next attempt's upgrade.
 */
function attachUntilAnswered(pool, target, spacingMs) {
  return new Promise((resolve) => {
    let seen = '';
    let timer;
    const typeOnce = () => {
      const alive = log.attempts.filter((a) => a.upgradedAt && !a.failedAt && !a.closed);
      if (alive.length && !alive.some((a) => a.typedAt)) alive[0].type();
    };
    const next = () => {
      clearTimeout(timer);
      if (log.attempts.some((a) => a.outputAt)) return;
      const entry = { sentAt: performance.now() };
      log.attempts.push(entry);
      attachAttempt(pool.take(), target, entry, {
        upgraded: typeOnce,
        failed: () => (typeOnce(), log.attempts.every((a) => a.failedAt) && next()),
        stdout: (data) => {
          // Output on any attached stream (all see the terminal): the one that typed is the
          // session, the others end.
          const session = log.attempts.find((a) => a.typedAt && !a.failedAt) ?? entry;
          for (const a of log.attempts) if (a !== session && !a.failedAt && !a.closed) (a.close(), (a.closed = true));
          seen = (seen + data.toString('latin1')).slice(-64);
          // The log is written before R42 reaches the harness, which ends this process on seeing it.
          if (seen.includes('R42') && !log.r42At) (mark('r42At'), writeFileSync(flags.log, JSON.stringify(log)));
          process.stdout.write(data);
          if (log.r42At) resolve();
        },
      });
      timer = setTimeout(next, spacingMs);
    };
    next();
  });
}

async function main() {
  const kube = readKubeconfig();
  const credential = (mark('credentialStartAt'), runCredentialPlugin(kube.exec).then((t) => (mark('tokenAt'), t)));
  const session = connectH2(kube.server.origin, { ca: kube.ca, servername: kube.servername });
  session.once('connect', () => mark('h2ReadyAt'));
  const pool = sparePool(kube);
  void pool.ready().then(() => mark('sparesReadyAt'));
  const token = await credential;

  const base = `/api/v1/namespaces/${ns}`;
  mark('getSentAt');
  await Promise.all([request(session, token, 'GET', `${base}/pods/${pod}`), request(session, token, 'GET', `/api/v1/namespaces/${ns}`)]);
  mark('getAnsweredAt');
  const rttMs = log.getAnsweredAt - log.getSentAt;
  const name = `floor-${randomBytes(3).toString('hex')}`;
  const patch = { spec: { ephemeralContainers: [{ name, image: IMAGE, command: ['sh'], stdin: true, tty: true }] } };
  mark('patchSentAt');
  const patched = request(session, token, 'PATCH', `${base}/pods/${pod}/ephemeralcontainers`, patch, 'application/strategic-merge-patch+json').then(() => mark('patchAnsweredAt'));
  patched.catch((err) => (process.stderr.write(`floor-client: ${err.message}\n`), process.exit(1)));
  if (flags['attach-at'] !== 'patch-sent') await patched;
  const target = { server: kube.server, token, path: `${base}/pods/${pod}/attach?container=${name}&stdin=true&stdout=true&tty=true` };
  Object.assign(log, { rttMs, container: name });
  await attachUntilAnswered(pool, target, Math.max(10, rttMs / 2));
  pool.closeAll();
  setTimeout(() => process.exit(0), 60_000).unref();
}

main().catch((err) => {
  process.stderr.write(`floor-client: ${err.message}\n`);
  process.exit(1);
});
