// `npm run bench`: kubectl-ephemeral against plain kubectl, side by side in one run, on the local
// cluster with its real node (scripts/cluster.sh up --node). See the README's Performance section.
//
//   npm run bench [-- --iterations N] [--warmup N] [--quick] [--only startup,prompt,far,debug,attach,scale]
//                  [--pods N] [--attach-mb N] [--keystrokes N] [--settle-ms MS] [--build | --ref GITREF]
//                  [--far-rtt-ms MS] [--far-credential-ms MS] [--keep] [--strict]
//
// The plugin measured is plugin/ as built (a copy taken at start; --build runs npm run build
// first), or with --ref the plugin (and single executable, if dist/ has one) built from that
// commit in a scratch export, untouched by work in progress in the tree.
// Every comparison runs A B A B ... (warm-up rounds first, not counted); the table shows medians
// with [min-max] and ratios taken pair by pair. The commands measured run as a user of their own
// (a client certificate this run signs with the local CA), so the audit log tells their requests
// apart from anything else using the cluster. Results: bench-results/bench-<time>.json (+ .md).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { adminKubectl, auditOffset, bindingsManifest, BENCH_LABEL, createIdentities, ObserverClient, readAuditEvents, readClusterEnv } from './lib/cluster.mjs';
import { delay, runTimed } from './lib/proc.mjs';
import { mb, median, range, ratio, renderMarkdown, renderText } from './lib/report.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pinnedNode = join(root, 'node_modules', 'node', 'bin', 'node');

// node-pty is built for the pinned runtime: run there whatever `node` started us.
if (existsSync(pinnedNode) && realpathSync(process.execPath) !== realpathSync(pinnedNode)) {
  const r = spawnSync(pinnedNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const { values: flags } = parseArgs({
  options: {
    iterations: { type: 'string' },
    warmup: { type: 'string' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    pods: { type: 'string' },
    'attach-mb': { type: 'string' },
    keystrokes: { type: 'string' },
    'settle-ms': { type: 'string' },
    'far-rtt-ms': { type: 'string' },
    'far-credential-ms': { type: 'string' },
    build: { type: 'boolean', default: false },
    ref: { type: 'string' },
    keep: { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).slice(0, 12).map((l) => l.slice(3)).join('\n') + '\n');
  process.exit(0);
}
const int = (v, d, name) => {
  if (v === undefined) return d;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} needs a whole number, not ${v}`);
  return n;
};
const quick = flags.quick;
const opts = {
  iterations: Math.max(1, int(flags.iterations, quick ? 1 : 10, 'iterations')),
  warmup: int(flags.warmup, quick ? 0 : 2, 'warmup'),
  scalePods: int(flags.pods, quick ? 200 : 2000, 'pods'),
  attachBytes: int(flags['attach-mb'], quick ? 2 : 20, 'attach-mb') * 1_000_000,
  keystrokes: int(flags.keystrokes, quick ? 30 : 400, 'keystrokes'),
  settleMs: int(flags['settle-ms'], 3000, 'settle-ms'),
  // The far scenario: a round trip of 80 ms to the API server, a credential plugin taking 0.7 s.
  farRttMs: int(flags['far-rtt-ms'], 80, 'far-rtt-ms'),
  farCredentialMs: int(flags['far-credential-ms'], 700, 'far-credential-ms'),
  only: new Set((flags.only ?? 'startup,prompt,far,debug,attach,scale').split(',').map((s) => s.trim())),
};
for (const s of opts.only) if (!['startup', 'prompt', 'far', 'debug', 'attach', 'scale'].includes(s)) throw new Error(`--only: unknown scenario ${s}`);

const log = (msg) => process.stderr.write(`bench: ${msg}\n`);
const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';
const runId = randomBytes(3).toString('hex');
const resultsDir = join(root, 'bench-results');
const work = join(resultsDir, `.work-${runId}`);

const cluster = readClusterEnv(root);
const admin = adminKubectl(cluster, KUBECTL);
const cleanups = [];
let cleaning;
async function cleanup() {
  cleaning ??= (async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        log(`cleanup: ${err.message.split('\n')[0]}`);
      }
    }
  })();
  return cleaning;
}
for (const s of ['SIGINT', 'SIGTERM']) process.once(s, () => void cleanup().then(() => process.exit(130)));

async function main() {
  await checkNode();
  mkdirSync(work, { recursive: true, mode: 0o700 });
  if (!flags.keep) cleanups.push(async () => rmSync(work, { recursive: true, force: true }));
  const plugin = snapshotPlugin();
  const startOffset = auditOffset(cluster);

  const ids = createIdentities(cluster, work, runId);
  await admin(['apply', '-f', '-'], { input: JSON.stringify(bindingsManifest(ids.users, runId)) });
  cleanups.push(() => admin(['delete', 'clusterrolebinding', '-l', `${BENCH_LABEL}=${runId}`, '--ignore-not-found']));
  const observer = new ObserverClient(cluster.KE_APISERVER, { ca: ids.ca, ...ids.creds.observer });

  const ns = `ke-bench-${runId}`;
  const scaleNamespaces = [];
  cleanups.push(() => deleteNamespaces([ns], scaleNamespaces));
  await admin(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { [BENCH_LABEL]: runId } } }) });
  await waitForServiceAccount(ns);

  // The floor for any plugin kubectl runs: one that execs `node -e 0` through a shell launcher.
  const floor = join(work, 'floor-plugin');
  mkdirSync(floor);
  writeFileSync(join(floor, 'kubectl-benchnode'), `#!/bin/sh\nexec "${pinnedNode}" -e 0\n`, { mode: 0o755 });
  const env = {
    ...process.env,
    PATH: `${plugin.dir}:${floor}:${process.env.PATH}`,
    KUBECONFIG: ids.kubeconfig,
    // No user preset file; recordings and the plugin's cache (server version) under the run's
    // directory: a fresh user, whose first (warm-up) run fills the cache as a user's first run would.
    XDG_CONFIG_HOME: join(work, 'config'),
    XDG_STATE_HOME: join(work, 'state'),
    XDG_CACHE_HOME: join(work, 'cache'),
    KUBECTL_EPHEMERAL_KUBECTL: KUBECTL,
  };
  delete env.KUBECTL_EPHEMERAL_NODE;
  delete env.KUBECTL_EPHEMERAL_CONFIG;
  const sea = !opts.only.has('startup') ? undefined : flags.ref ? plugin.sea : snapshotExecutable();

  // A build that cannot reach the cluster would fail every scenario but the first: stop here.
  const smoke = await runTimed(KUBECTL, ['ephemeral', 'list', '-n', ns], { env });
  if (smoke.code !== 0) throw new Error(`the plugin build fails (kubectl ephemeral list -n ${ns} exited ${smoke.code}): ${smoke.stderr.trim().slice(0, 500)}`);

  let podSeq = 0;
  const ctx = {
    ...opts,
    runId,
    work,
    cluster,
    admin,
    observer,
    ns,
    env,
    users: ids.users,
    kubectl: KUBECTL,
    nodeBin: pinnedNode,
    nodeVersion: process.version,
    launcher: join(plugin.dir, 'kubectl-ephemeral'),
    sea,
    scaleNamespaces,
    progress: log,
    auditEvents: () => readAuditEvents(cluster, startOffset, `ke-bench-${runId}-`),
    waitForServiceAccount,
    async createAppPods(prefix, count) {
      const names = Array.from({ length: count }, () => `${prefix}-${podSeq++}`);
      const items = names.map((name) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: ns, labels: { app: 'bench' } },
        spec: {
          nodeName: cluster.KE_NODE_NAME,
          terminationGracePeriodSeconds: 1,
          automountServiceAccountToken: false,
          containers: [{ name: 'app', image: 'localhost/kubectl-ephemeral/sample-app:1', imagePullPolicy: 'Never' }],
        },
      }));
      await admin(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
      await admin(['wait', '-n', ns, '--for=condition=Ready', '--timeout=120s', ...names.map((n) => `pod/${n}`)]);
      return names;
    },
    async addShellContainer(pod, name) {
      const spec = { name, image: 'docker.io/library/busybox:1.36', command: ['sh'], stdin: true, tty: true };
      await admin(['patch', 'pod', pod, '-n', ns, '--subresource=ephemeralcontainers', '--type=strategic', '-p', JSON.stringify({ spec: { ephemeralContainers: [spec] } })]);
      await admin(['wait', '-n', ns, `pod/${pod}`, `--for=jsonpath={.status.ephemeralContainerStatuses[?(@.name=="${name}")].state.running}`, '--timeout=120s']);
    },
  };
  if (sea && opts.only.has('startup')) ctx.bareSea = await bareSingleExecutable();

  const machine = machineInfo();
  log(`run ${runId}: ${opts.iterations} counted + ${opts.warmup} warm-up runs each; plugin build ${plugin.sha256.slice(0, 12)} (${plugin.files} files, ${(plugin.bytes / 1e6).toFixed(1)} MB, ${plugin.built}, ${plugin.git}); ${machine.cpus}x ${machine.cpuModel}, load ${machine.loadStart.join(' ')}`);
  const results = {};
  const scenarios = [
    ['startup', () => import('./startup.mjs').then((m) => m.benchStartup(ctx))],
    ['prompt', () => import('./prompt.mjs').then((m) => m.benchPrompt(ctx))],
    ['far', () => import('./far.mjs').then((m) => m.benchFar(ctx))],
    ['debug', () => import('./debug.mjs').then((m) => m.benchDebug(ctx))],
    ['attach', () => import('./attach.mjs').then((m) => m.benchAttach(ctx))],
    ['scale', () => import('./scale.mjs').then((m) => m.benchScale(ctx))],
  ];
  let failed = false;
  for (const [name, run] of scenarios) {
    if (!opts.only.has(name)) continue;
    const t = performance.now();
    try {
      results[name] = await run();
    } catch (err) {
      failed = true;
      results[name] = { error: err.stack ?? String(err) };
      log(`${name} failed: ${err.message}`);
    }
    log(`${name} done in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  }
  machine.loadEnd = loadavg().map((l) => l.toFixed(2));

  const tables = buildTables(results, ctx);
  const targets = Object.values(results).flatMap((r) => r.targets ?? []);
  const text = [...tables.map(renderText), renderTargets(targets)].join('\n\n');
  process.stdout.write(`\n${text}\n`);

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const base = join(resultsDir, `bench-${stamp}${quick ? '-quick' : ''}`);
  const report = { runId, date: new Date().toISOString(), options: { ...opts, only: [...opts.only], quick }, machine, plugin, sea: sea ? { path: 'dist/kubectl-ephemeral', size: statSync(sea).size, sha256: createHash('sha256').update(readFileSync(sea)).digest('hex') } : null, users: ids.users, results, targets };
  writeFileSync(`${base}.json`, JSON.stringify(report, null, 2));
  const md = [`Run ${report.date} on ${machine.summary}; ${opts.iterations} counted runs each after ${opts.warmup} warm-up; median [min-max], ratios pair by pair.`, '', ...tables.map(renderMarkdown).flatMap((t) => [t, '']), renderTargetsMarkdown(targets)].join('\n');
  writeFileSync(`${base}.md`, md + '\n');
  log(`wrote ${base}.json and .md`);

  await cleanup();
  if (failed) return 1;
  if (flags.strict && targets.some((t) => !t.met)) return 1;
  return 0;
}

/** The real node must be up: a kubelet on containerd, Ready. */
async function checkNode() {
  const node = JSON.parse(await admin(['get', 'node', cluster.KE_NODE_NAME, '-o', 'json']).catch(() => '{}'));
  const runtime = node.status?.nodeInfo?.containerRuntimeVersion ?? '';
  const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready')?.status === 'True';
  if (!runtime.startsWith('containerd://') || !ready) throw new Error(`node ${cluster.KE_NODE_NAME} is not a Ready containerd node (runtime "${runtime}"); run scripts/cluster.sh up --node`);
}

async function waitForServiceAccount(namespace) {
  for (let i = 0; i < 150; i++) {
    if (await admin(['get', 'serviceaccount', 'default', '-n', namespace]).then(() => true, () => false)) return;
    await delay(200);
  }
  throw new Error(`no default ServiceAccount in ${namespace} after 30 s`);
}

/**
 * A copy of plugin/ for this run (others may rebuild plugin/ while it runs), with node_modules
 * linked beside it so that the launcher finds the pinned Node and the bundle finds node-pty
 * exactly as from the checkout. Builds plugin/ first with --build or when it is missing.
 */
function snapshotPlugin() {
  if (flags.ref) return buildFromRef(flags.ref);
  if (flags.build || !existsSync(join(root, 'plugin', 'kubectl-ephemeral')) || !existsSync(join(root, 'plugin', 'lib'))) {
    log('building plugin/ (npm run build)');
    execFileSync(pinnedNode, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  }
  const dir = join(work, 'plugin');
  symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'));
  for (let attempt = 0; ; attempt++) {
    rmSync(dir, { recursive: true, force: true });
    cpSync(join(root, 'plugin'), dir, { recursive: true });
    // A copy taken while someone rebuilds plugin/ fails this check: take it again.
    if (spawnSync(join(dir, 'kubectl-ephemeral'), ['--version'], { stdio: 'ignore', timeout: 20_000 }).status === 0) break;
    if (attempt >= 2) throw new Error('plugin/kubectl-ephemeral --version fails: run npm run build (or pass --build)');
    spawnSync('sleep', ['5']);
  }
  return describeBuild(dir, `plugin/ at ${gitInfo()}`);
}

/** plugin/ (and dist/kubectl-ephemeral when the tree has one) built from a commit, in the run's directory. */
function buildFromRef(ref) {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: root, encoding: 'utf8' }).trim();
  const src = join(work, `src-${sha.slice(0, 12)}`);
  mkdirSync(src);
  execFileSync('sh', ['-c', 'git archive "$1" | tar -x -C "$2"', 'sh', sha, src], { cwd: root });
  symlinkSync(join(root, 'node_modules'), join(src, 'node_modules'));
  log(`building plugin/ of ${ref} (${sha.slice(0, 12)})`);
  execFileSync(pinnedNode, [join(src, 'scripts', 'build.mjs')], { cwd: src, stdio: ['ignore', 'ignore', 'inherit'] });
  let sea;
  if (opts.only.has('startup') && existsSync(join(root, 'dist', 'kubectl-ephemeral')) && existsSync(join(src, 'scripts', 'build-binary.mjs'))) {
    log(`building dist/kubectl-ephemeral of ${ref}`);
    execFileSync(pinnedNode, [join(src, 'scripts', 'build-binary.mjs')], { cwd: src, stdio: ['ignore', 'ignore', 'inherit'] });
    sea = join(src, 'dist', 'kubectl-ephemeral');
  }
  const dir = join(src, 'plugin');
  return { ...describeBuild(dir, `${ref} = ${sha.slice(0, 12)}`), sea };
}

/** The build's identity: a hash over every file under lib/ (one bundle, or an entry and its chunks). */
function describeBuild(dir, git) {
  const hash = createHash('sha256');
  let bytes = 0;
  const files = readdirSync(join(dir, 'lib')).sort();
  for (const f of files) {
    const body = readFileSync(join(dir, 'lib', f));
    hash.update(f).update(body);
    bytes += body.length;
  }
  return { dir, sha256: hash.digest('hex'), files: files.length, bytes, built: statSync(join(dir, 'lib')).mtime.toISOString(), git };
}

/** A working copy of dist/kubectl-ephemeral for this run (it may be rebuilt meanwhile), or undefined without one. */
function snapshotExecutable() {
  const src = join(root, 'dist', 'kubectl-ephemeral');
  const dst = join(work, 'kubectl-ephemeral-sea');
  for (let attempt = 0; attempt < 3 && existsSync(src); attempt++) {
    cpSync(src, dst);
    // A copy taken while build:binary rewrites the file fails this check: take it again.
    if (spawnSync(dst, ['--version'], { stdio: 'ignore', timeout: 20_000 }).status === 0) return dst;
    spawnSync('sleep', ['5']);
  }
  if (existsSync(src)) log(`dist/kubectl-ephemeral does not run (being rebuilt?): left out`);
  return undefined;
}

function gitInfo() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'scripts/build.mjs'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return `${head}${dirty ? ' (src/ modified)' : ''}`;
  } catch {
    return 'unknown';
  }
}

/**
 * The single executable's own bare runtime: the same pinned Node made into a single executable
 * the same way (scripts/build-binary.mjs: strip, code cache, blob) around an empty script.
 * Cached under bench-results/.cache, keyed by the runtime binary.
 */
async function bareSingleExecutable() {
  const st = statSync(pinnedNode);
  const key = createHash('sha256').update(`${process.version}:${st.size}:${st.mtimeMs}:${readFileSync(join(root, 'scripts', 'build-binary.mjs'))}`).digest('hex').slice(0, 16);
  const out = join(resultsDir, '.cache', `bare-sea-${key}`, 'bare');
  if (!existsSync(out)) {
    log('building a bare single executable of the pinned runtime (once; cached in bench-results/.cache)');
    const entry = join(work, 'empty.cjs');
    writeFileSync(entry, '');
    const { buildBinary } = await import('../build-binary.mjs');
    await buildBinary({ entry, out, check: false });
  }
  return out;
}

async function deleteNamespaces(debugNamespaces, scaleNamespaces) {
  if (flags.keep) {
    log(`--keep: namespaces ${[...debugNamespaces, ...scaleNamespaces].join(', ')} stay`);
    return;
  }
  // Pods on the node no kubelet runs would wait forever for a graceful stop: delete them at once.
  await Promise.all(scaleNamespaces.map((n) => admin(['delete', 'pods', '--all', '-n', n, '--grace-period=0', '--force', '--wait=false'], { timeoutMs: 600_000 }).catch(() => undefined)));
  const all = [...debugNamespaces, ...scaleNamespaces];
  if (all.length === 0) return;
  await admin(['delete', 'namespace', ...all, '--ignore-not-found', '--wait=true', '--timeout=120s'], { timeoutMs: 180_000 });
  log(`deleted namespaces ${all.join(', ')}`);
}

function machineInfo() {
  const c = cpus();
  const kubectlVersion = (() => {
    try {
      return JSON.parse(execFileSync(KUBECTL, ['version', '--client', '-o', 'json'], { encoding: 'utf8' })).clientVersion.gitVersion;
    } catch {
      return 'unknown';
    }
  })();
  const m = {
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memGB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    kubectl: `${KUBECTL} ${kubectlVersion}`,
    server: cluster.KE_K8S_VERSION,
    loadStart: loadavg().map((l) => l.toFixed(2)),
  };
  m.summary = `${m.cpus} vCPU ${m.cpuModel}, ${m.memGB} GB, Linux ${m.kernel}, Node ${m.node}, kubectl ${kubectlVersion}, API server ${m.server ?? '?'}`;
  return m;
}

function buildTables(results, ctx) {
  const tables = [];
  const s = results.startup;
  if (s?.rows) {
    tables.push({
      title: `1. Startup (ms, median [min-max] of ${ctx.iterations}; ratio pair by pair against the base in the same round)`,
      headers: ['command', 'ms', 'ratio', 'vs', 'peak RSS', 'API requests'],
      rows: s.rows.map((r) => [r.label, range(r.ms), r.ratio ? ratio(r.ratio) : '', { node: 'node -e 0', 'k-node': 'kubectl benchnode', 'bare-sea': 'bare SEA', kdebug: 'kubectl debug --help' }[r.ratio?.base] ?? '', mb(r.rssKB), median(r.requests, 0)]),
      notes: [`kubectl ephemeral --help / kubectl debug --help: ${ratio(s.kHelpVsDebug)}`],
    });
  }
  const pr = results.prompt;
  if (pr?.rows) {
    tables.push({
      title: `2a. Time to a working prompt (ms from process start until the first typed command's output is back; real pty, real node, a fresh pod per pair; ${ctx.iterations} pairs)`,
      headers: ['command', 'ms', 'ratio', 'first request at', 'peak RSS'],
      rows: pr.rows.map((r) => [r.label, range(r.ms, 0), r.id === 'plugin' ? ratio(pr.ratio) : '1.00x', median(r.firstRequestMs, 0), mb(r.rssKB)]),
    });
  }
  const far = results.far;
  if (far?.rows) {
    const lab = pr?.rows ? Object.fromEntries(pr.rows.map((r) => [r.id, r])) : {};
    tables.push({
      title: `2b. Time to a working prompt where users are: ${far.rttMs} ms round trip to the API server, a ${far.credentialMs / 1000} s exec credential plugin (same measure as 2a; ${ctx.iterations} rounds on fresh pods; counts per run, the plugin's spawned kubectl included)`,
      headers: ['command', 'far ms', 'ratio', 'lab ms (2a)', 'first request at', 'credential calls', 'connections', 'TLS handshakes'],
      rows: far.rows.map((r) => [r.label, range(r.ms, 0), r.ratio ? ratio(r.ratio) : '1.00x', lab[r.id] ? median(lab[r.id].ms, 0) : '-', median(r.firstRequestMs, 0), range(r.credentialCalls, 0), range(r.connections, 0), range(r.tlsHandshakes, 0)]),
      notes: far.notes,
    });
  }
  const d = results.debug;
  if (d?.plugin) {
    const p = d.plugin;
    const k = d.kubectl;
    tables.push({
      title: `2. Time to a running debug container (ms from process start; real node; ${ctx.iterations} pairs on the same pods)`,
      headers: ['command', 'until reported running', 'ratio', 'first request at', 'PATCH at', 'API showed running at', 'then reported after', 'API requests', 'peak RSS'],
      rows: [
        ['kubectl ephemeral shell POD --no-attach --new', range(p.ms, 0), ratio(d.ratio), median(p.firstRequestMs, 0), median(p.patchAtMs, 0), median(p.observedRunningMs, 0), median(p.reportMs, 0), median(p.requests, 0), mb(p.rssKB)],
        ['kubectl debug ... -- sleep 3600 + kubectl wait', range(k.ms, 0), '1.00x', median(k.firstRequestMs, 0), median(k.patchAtMs, 0), median(k.observedRunningMs, 0), median(k.reportMs, 0), `${median(k.requests, 0)} (${median(k.requestsDebug, 0)} + ${median(k.requestsWait, 0)} wait)`, `${mb(k.rssKBDebug)} / ${mb(k.rssKBWait)}`],
        ['  of which kubectl debug', range(k.debugMs, 0), '', '', '', '', '', median(k.requestsDebug, 0), mb(k.rssKBDebug)],
        ['  of which kubectl wait (harness)', range(k.waitMs, 0), '', '', '', '', '', median(k.requestsWait, 0), mb(k.rssKBWait)],
      ],
      notes: [
        `plugin requests: ${(p.requestSample ?? []).map((r) => `${r.verb} ${r.uri.split('?')[0]}`).join(', ')}`,
        `kubectl requests: ${(k.requestSample ?? []).map((r) => `${r.agent} ${r.verb} ${r.uri.split('?')[0]}`).join(', ')}`,
      ],
    });
  }
  const a = results.attach;
  if (a?.rows) {
    tables.push({
      title: `3. Attach relay under a pty (${(a.payloadBytes / 1e6).toFixed(1)} MB of output; ${a.keystrokes} keystrokes per session; ${ctx.iterations} rounds)`,
      headers: ['command', 'attached after ms', 'MB/s', 'throughput ratio', 'echo median ms', 'echo p99 ms', 'added p99 ms (paired)', 'CPU s (process / kubectl child)', 'peak RSS (process / kubectl child)', 'API requests'],
      rows: a.rows.map((r) => [
        r.label,
        median(r.attachMs, 0),
        range(r.mbps, 2),
        r.throughputRatio ? ratio(r.throughputRatio) : '1.00x',
        r.latency.median.toFixed(2),
        r.latency.p99.toFixed(2),
        r.id === 'direct' ? '' : `${a.added[r.id].p99 >= 0 ? '+' : ''}${a.added[r.id].p99.toFixed(2)} (median ${a.added[r.id].median >= 0 ? '+' : ''}${a.added[r.id].median.toFixed(2)})`,
        r.id === 'direct' ? median(r.cpuTopMs, 2, 1e-3) : `${median(r.cpuTopMs, 2, 1e-3)} / ${median(r.cpuChildMs, 2, 1e-3)}`,
        r.id === 'direct' ? mb(r.rssTopKB) : `${mb(r.rssTopKB)} / ${mb(r.rssChildKB)}`,
        median(r.requests, 0),
      ]),
      notes: a.rows.filter((r) => r.extraCarriageReturns.median > 0).map((r) => `${r.label}: ${r.extraCarriageReturns.median} lines arrived as \\r\\r\\n (the container's \\r\\n translated again)`),
    });
  }
  const mem = [];
  if (pr?.rows) mem.push(['session start to first output', mb(pr.rows[0].rssKB), '-', `${mb(pr.rows[1].rssKB)} (kubectl debug -it)`]);
  if (d?.plugin) mem.push(['debug container until running', mb(d.plugin.rssKB), '-', `${mb(d.kubectl.rssKBDebug)} (debug), ${mb(d.kubectl.rssKBWait)} (wait)`]);
  if (a?.rows) {
    const by = Object.fromEntries(a.rows.map((r) => [r.id, r]));
    mem.push(['attach session', mb(by.plugin.rssTopKB), mb(by.plugin.rssChildKB), mb(by.direct.rssTopKB)]);
    mem.push(['attach session, --record', mb(by.record.rssTopKB), mb(by.record.rssChildKB), mb(by.direct.rssTopKB)]);
  }
  const sc = results.scale;
  if (sc?.plugin) mem.push([`list -A (${sc.setup.totalPodsInCluster} pods)`, mb(sc.plugin.rssKB), '-', `${mb(sc.kubectl.rssKBKubectl)} (kubectl get) + ${mb(sc.kubectl.rssKBJq)} (jq)`]);
  if (s?.rows) {
    const by = Object.fromEntries(s.rows.map((r) => [r.id, r]));
    mem.unshift(['--help', mb(by['k-help'].rssKB), '-', `${mb(by.kdebug.rssKB)} (kubectl debug --help); node -e 0: ${mb(by.node.rssKB)}`]);
  }
  if (mem.length) tables.push({ title: '4. Peak RSS (median)', headers: ['scenario', 'plugin process', 'its kubectl child', 'kubectl'], rows: mem });
  if (sc?.plugin) {
    tables.push({
      title: `5. Scale: list over ${sc.setup.totalPodsInCluster} pods (${sc.setup.created} created in ${sc.setup.namespaces.length} bench-scale-* namespaces, ${sc.setup.withEphemeral} with a debug container)`,
      headers: ['command', 'ms', 'ratio', 'rows', 'list pages', 'API requests', 'peak RSS'],
      rows: [
        [sc.plugin.command, range(sc.plugin.ms, 0), ratio(sc.ratio), median(sc.plugin.rows, 0), `${sc.plugin.pages}${sc.plugin.paged ? ' (limit/continue)' : ''}`, median(sc.plugin.requests, 0), mb(sc.plugin.rssKB)],
        [sc.kubectl.command, range(sc.kubectl.ms, 0), '1.00x', median(sc.kubectl.rows, 0), `${sc.kubectl.pages}${sc.kubectl.paged ? ' (limit/continue)' : ''}`, median(sc.kubectl.requests, 0), `${mb(sc.kubectl.rssKBKubectl)} + ${mb(sc.kubectl.rssKBJq)} jq`],
      ],
      notes: [`plugin pages: ${sc.plugin.pageUris.join(' ; ')}`],
    });
  }
  for (const [name, r] of Object.entries(results)) if (r.error) tables.push({ title: `${name}: FAILED`, headers: ['error'], rows: [[r.error.split('\n')[0]]] });
  return tables;
}

function renderTargets(targets) {
  return ['== Targets', ...targets.map((t) => `${t.met ? 'met   ' : 'MISSED'}  ${t.target}: ${t.value}`)].join('\n');
}

function renderTargetsMarkdown(targets) {
  return ['| target | result | |', '| --- | --- | --- |', ...targets.map((t) => `| ${t.target} | ${t.value} | ${t.met ? 'met' : '**missed**'} |`)].join('\n');
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    log(`error: ${err.stack ?? err}`);
    await cleanup();
    process.exit(1);
  },
);
