// The benchmark's side of the local cluster (scripts/cluster.sh up --node): its own identities, so
// that its requests can be told apart in the audit log from anything else using the cluster at the
// same time, setup and teardown as admin, an observer watch, and request counting from the log.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { readClusterEnv as readEnvFile } from '../../cluster/env.mjs';

/** Reads .state/cluster/env (written by scripts/cluster.sh up) with the node's defaults. */
export function readClusterEnv(root) {
  const vars = readEnvFile(root, { required: ['KE_APISERVER', 'KE_CA_CRT', 'KE_CA_KEY', 'KE_ADMIN_KUBECONFIG', 'KE_AUDIT_LOG'], up: 'scripts/cluster.sh up --node' });
  return { ...vars, KE_NODE_NAME: vars.KE_NODE_NAME ?? '127.0.0.1', KE_FAKE_NODE: vars.KE_FAKE_NODE ?? 'ke-fake-node' };
}

/** Label on everything the benchmark creates. */
export const BENCH_LABEL = 'kubectl-ephemeral.dev/bench';

/**
 * Client certificates signed by the local cluster's CA for three users of this run:
 * `tool` (the commands measured; bound to the plugin's ClusterRole, like the README's debugger),
 * `wait` (the harness's `kubectl wait` after `kubectl debug`) and `observer` (the harness's watch).
 * Writes a kubeconfig with one context per user; `tool` is current.
 */
export function createIdentities(cluster, work, runId) {
  const users = { tool: `ke-bench-${runId}-tool`, wait: `ke-bench-${runId}-wait`, observer: `ke-bench-${runId}-observer` };
  const ca = readFileSync(cluster.KE_CA_CRT);
  const creds = {};
  for (const [ctx, name] of Object.entries(users)) {
    const key = join(work, `${ctx}.key`);
    const csr = join(work, `${ctx}.csr`);
    const crt = join(work, `${ctx}.crt`);
    const ext = join(work, `${ctx}.ext`);
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key], { stdio: 'ignore' });
    execFileSync('openssl', ['req', '-new', '-key', key, '-subj', `/CN=${name}/O=ke-bench`, '-out', csr], { stdio: 'ignore' });
    writeFileSync(ext, 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
    // -set_serial: -CAcreateserial would write a serial file next to the cluster's CA.
    execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', cluster.KE_CA_CRT, '-CAkey', cluster.KE_CA_KEY, '-set_serial', `0x${randomBytes(12).toString('hex')}`,
      '-days', '2', '-sha256', '-extfile', ext, '-out', crt], { stdio: 'ignore' });
    creds[ctx] = { cert: readFileSync(crt), key: readFileSync(key) };
  }
  const b64 = (b) => Buffer.from(b).toString('base64');
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server: cluster.KE_APISERVER, 'certificate-authority-data': b64(ca) } }],
    users: Object.keys(users).map((ctx) => ({ name: ctx, user: { 'client-certificate-data': b64(creds[ctx].cert), 'client-key-data': b64(creds[ctx].key) } })),
    contexts: Object.keys(users).map((ctx) => ({ name: ctx, context: { cluster: 'local', user: ctx, namespace: 'default' } })),
    'current-context': 'tool',
  };
  const path = join(work, 'kubeconfig');
  writeFileSync(path, JSON.stringify(kubeconfig, null, 2), { mode: 0o600 });
  return { users, kubeconfig: path, ca, creds };
}

/** ClusterRoleBindings for the identities (the plugin's own role for tool, read-only for the others). */
export function bindingsManifest(users, runId) {
  const binding = (name, role, user) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { [BENCH_LABEL]: runId } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
  });
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      binding(users.tool, 'kubectl-ephemeral-debugger', users.tool),
      // The audit role too: the measured run writes the annotation, as it did with the all-in-one role.
      binding(`${users.tool}-audit`, 'kubectl-ephemeral-audit', users.tool),
      binding(users.wait, 'kubectl-ephemeral-reader', users.wait),
      binding(users.observer, 'kubectl-ephemeral-reader', users.observer),
    ],
  };
}

/** kubectl as the cluster admin (setup and teardown only; never measured). */
export function adminKubectl(cluster, kubectlBin) {
  return (args, { input, timeoutMs = 180_000 } = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn(kubectlBin, ['--kubeconfig', cluster.KE_ADMIN_KUBECONFIG, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out = [];
      const err = [];
      child.stdout.on('data', (d) => out.push(d));
      child.stderr.on('data', (d) => err.push(d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        const stdout = Buffer.concat(out).toString();
        if (code === 0) resolve(stdout);
        else reject(new Error(`kubectl ${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString().trim().slice(0, 2000)}`));
      });
      child.stdin.end(input ?? '');
    });
}

/** A minimal HTTPS client for the observer identity: GET and watch. */
export class ObserverClient {
  constructor(server, { ca, cert, key }) {
    this.url = new URL(server);
    this.agent = new Agent({ ca, cert, key, keepAlive: true });
  }

  open(path) {
    return new Promise((resolve, reject) => {
      const req = request({ hostname: this.url.hostname, port: this.url.port || 443, path, agent: this.agent, headers: { Accept: 'application/json', 'User-Agent': 'ke-bench-observer' } }, resolve);
      req.on('error', reject);
      req.end();
    });
  }

  async get(path) {
    const res = await this.open(path);
    const chunks = [];
    for await (const c of res) chunks.push(c);
    const text = Buffer.concat(chunks).toString();
    if (res.statusCode >= 300) throw new Error(`GET ${path}: ${res.statusCode} ${text.slice(0, 500)}`);
    return JSON.parse(text);
  }

  /** Watches a collection from its current state, calling onObject(object, wallMs) for every event; returns { close }. */
  async watch(collectionPath, onObject) {
    const list = await this.get(collectionPath);
    for (const item of list.items ?? []) onObject(item, performance.timeOrigin + performance.now());
    let closed = false;
    let res;
    let rv = list.metadata?.resourceVersion;
    const loop = async () => {
      while (!closed) {
        try {
          res = await this.open(`${collectionPath}${collectionPath.includes('?') ? '&' : '?'}watch=true&allowWatchBookmarks=true&resourceVersion=${rv}`);
          let buffer = '';
          res.setEncoding('utf8');
          for await (const chunk of res) {
            const at = performance.timeOrigin + performance.now();
            buffer += chunk;
            let nl;
            while ((nl = buffer.indexOf('\n')) >= 0) {
              const line = buffer.slice(0, nl);
              buffer = buffer.slice(nl + 1);
              if (!line.trim()) continue;
              const ev = JSON.parse(line);
              if (ev.type === 'ERROR') {
                rv = (await this.get(collectionPath)).metadata?.resourceVersion;
                break;
              }
              rv = ev.object?.metadata?.resourceVersion ?? rv;
              if (ev.type !== 'BOOKMARK') onObject(ev.object, at);
            }
          }
        } catch (err) {
          if (closed) return;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    void loop();
    return {
      close: () => {
        closed = true;
        res?.destroy();
        this.agent.destroy();
      },
    };
  }
}

/** The audit log's current size: events written after it belong to what runs next. */
export function auditOffset(cluster) {
  return existsSync(cluster.KE_AUDIT_LOG) ? statSync(cluster.KE_AUDIT_LOG).size : 0;
}

/** Audit events written since offset whose user name starts with prefix. */
export function readAuditEvents(cluster, offset, userPrefix) {
  const size = auditOffset(cluster);
  if (size <= offset) return [];
  const fd = openSync(cluster.KE_AUDIT_LOG, 'r');
  const buf = Buffer.alloc(size - offset);
  try {
    readSync(fd, buf, 0, buf.length, offset);
  } finally {
    closeSync(fd);
  }
  const events = [];
  for (const line of buf.toString('utf8').split('\n')) {
    if (!line.includes(userPrefix)) continue;
    try {
      const e = JSON.parse(line);
      if (e.user?.username?.startsWith(userPrefix)) events.push({ ...e, receivedMs: parseMicroTime(e.requestReceivedTimestamp) });
    } catch {
      // a line still being written
    }
  }
  return events;
}

/** "2026-11-26T23:57:17.632369Z" to epoch ms with the microseconds kept. */
export function parseMicroTime(ts) {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(ts ?? '');
  if (!m) return NaN;
  return Date.parse(`${m[1]}Z`) + Number(`0.${m[2] ?? '0'}`) * 1000;
}

/**
 * The distinct requests (by auditID) of user received within [fromMs, toMs]: { count, byAgent,
 * requests: [{ verb, uri, agent, atMs (from fromMs) }] }.
 */
export function requestsIn(events, user, fromMs, toMs) {
  const byId = new Map();
  for (const e of events) {
    if (e.user.username !== user || !(e.receivedMs >= fromMs - 1 && e.receivedMs <= toMs + 1)) continue;
    if (!byId.has(e.auditID)) byId.set(e.auditID, e);
  }
  const requests = [...byId.values()]
    .sort((a, b) => a.receivedMs - b.receivedMs)
    .map((e) => ({ verb: e.verb, uri: e.requestURI, agent: agentName(e.userAgent), atMs: Math.round((e.receivedMs - fromMs) * 10) / 10 }));
  const byAgent = {};
  for (const r of requests) byAgent[r.agent] = (byAgent[r.agent] ?? 0) + 1;
  return { count: requests.length, byAgent, requests };
}

/** "kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07" -> "kubectl"; the plugin's -> "kubectl-ephemeral". */
export function agentName(ua = '') {
  return ua.split(/[/ ]/)[0] || '?';
}
