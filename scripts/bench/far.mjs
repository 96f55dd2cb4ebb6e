// 0b. Time to a working prompt where users are: the API server a round trip away (a latency relay of
// the bench's own, --far-rtt-ms, default 80 ms) and an exec credential plugin that takes a while
// (--far-credential-ms, default 0.7 s, as `aws eks get-token` does). Measured as in 0.: in a real
// pty from process start until the first typed command's output is back, `kubectl ephemeral shell
// POD` against `kubectl debug -it POD --image=<busybox> -- sh`, both through the same relay and the
// same credential plugin, each pair on a fresh pod, order alternating. Per run: how many times the
// credential plugin ran, and the connections and TLS handshakes that reached the relay (the plugin's
// own and those of every kubectl it spawned). A third row, the floor: an ideal client of the bench's
// own (floor-client.mjs, bench only) on the same pod, relay and credential plugin, that does only
// what any client must, as early as it can; it bounds what the plugin could reach. And a fourth:
// the same client started the way kubectl ephemeral is, through kubectl's plugin dispatch.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PtySession } from './lib/pty-session.mjs';
import { pairedRatios, summarize } from './lib/stats.mjs';
import { delay } from './lib/proc.mjs';
import { auditOffset, readAuditEvents, requestsIn } from './lib/cluster.mjs';
import { startLatencyRelay } from './lib/latency-relay.mjs';
import { BUSYBOX } from './debug.mjs';

const FLOOR_CLIENT = join(dirname(fileURLToPath(import.meta.url)), 'floor-client.mjs');
const FLOORS = ['floor', 'floorPlugin'];
// Round i runs the tools rotated by i, reversed every other cycle: each runs in each place alike.
const orderOf = (ids, i) => {
  const rotated = ids.map((_, j) => ids[(i + j) % ids.length]);
  return Math.floor(i / ids.length) % 2 ? rotated.reverse() : rotated;
};

export async function benchFar(ctx) {
  const { kubectl, ns } = ctx;
  const api = new URL(ctx.cluster.KE_APISERVER);
  const relay = await startLatencyRelay({ host: api.hostname, port: Number(api.port || 443), rttMs: ctx.farRttMs });
  try {
    const { env, calls, user } = await farUser(ctx, relay.port);
    const offset = auditOffset(ctx.cluster);
    const rounds = ctx.warmup + ctx.iterations;
    const variants = {
      plugin: { label: 'kubectl ephemeral shell POD', start: (pod) => new PtySession(kubectl, ['ephemeral', 'shell', pod, '-n', ns], { env }), wait: (s) => s.waitAttached() },
      kubectl: { label: `kubectl debug -it POD --image=${BUSYBOX} -- sh`, start: (pod) => new PtySession(kubectl, ['debug', '-it', pod, '-n', ns, `--image=${BUSYBOX}`, '--', 'sh'], { env }), wait: (s) => s.waitAttached() },
      floor: { label: 'floor: ideal client (bench only)', start: (pod, logFile) => new PtySession(ctx.nodeBin, [FLOOR_CLIENT, '--log', logFile, ns, pod], { env }), wait: waitForFloor },
      floorPlugin: { label: 'floor as a kubectl plugin (kubectl benchfloor)', start: (pod, logFile) => new PtySession(kubectl, ['benchfloor', '--log', logFile, ns, pod], { env: floorPluginEnv(ctx, env) }), wait: waitForFloor },
    };
    const fields = () => ({ ms: [], credentialCalls: [], connections: [], tlsHandshakes: [], windows: [] });
    const data = Object.fromEntries(Object.keys(variants).map((id) => [id, fields()]));
    const floorLogs = { floor: [], floorPlugin: [] };
    for (let i = 0; i < rounds; i++) {
      const [pod] = await ctx.createAppPods('far', 1);
      const order = orderOf(Object.keys(variants), i);
      const got = {};
      for (const id of order) {
        const logFile = join(ctx.work, 'far', `${id}-${i}.json`);
        await delay(ctx.settleMs + Math.random() * 1000);
        const [callsBefore, before] = [calls(), relay.counts()];
        const session = variants[id].start(pod, logFile);
        try {
          const ms = await variants[id].wait(session);
          got[id] = { ms, window: [session.startWall, session.startWall + ms] };
        } finally {
          await session.end();
        }
        // Counted once the process ended: cleanup's requests and late attach attempts are the run's too.
        const after = relay.counts();
        Object.assign(got[id], { credentialCalls: calls() - callsBefore, connections: after.connections - before.connections, tlsHandshakes: after.tlsHandshakes - before.tlsHandshakes });
        if (FLOORS.includes(id)) got[id].log = { ...JSON.parse(readFileSync(logFile, 'utf8')), spawnWall: session.startWall, ptyR42Ms: got[id].ms };
      }
      await ctx.admin(['delete', 'pod', pod, '-n', ns, '--wait=false']);
      if (i < ctx.warmup) continue;
      for (const id of order) for (const k of Object.keys(data[id])) data[id][k].push(got[id][k === 'windows' ? 'window' : k]);
      for (const id of FLOORS) floorLogs[id].push(got[id].log);
      const say = (id) => `${got[id].ms.toFixed(0)} ms (${got[id].credentialCalls} credential calls, ${got[id].connections} connections)`;
      ctx.progress(`far round ${i + 1 - ctx.warmup}/${ctx.iterations}: plugin ${say('plugin')}, kubectl debug -it ${say('kubectl')}, floor ${say('floor')}, floor as a plugin ${say('floorPlugin')}`);
    }
    const events = readAuditEvents(ctx.cluster, offset, user);
    const firstRequest = (w) => requestsIn(events, user, w[0], w[1]).requests[0]?.atMs ?? NaN;
    const ratio = pairedRatios(data.kubectl.ms, data.plugin.ms);
    const floorRatio = pairedRatios(data.kubectl.ms, data.floor.ms);
    const rows = Object.entries(variants).map(([id, v]) => ({
      id,
      label: v.label,
      ms: summarize(data[id].ms),
      ratio: id === 'kubectl' ? undefined : pairedRatios(data.kubectl.ms, data[id].ms),
      firstRequestMs: summarize(data[id].windows.map(firstRequest)),
      credentialCalls: summarize(data[id].credentialCalls),
      connections: summarize(data[id].connections),
      tlsHandshakes: summarize(data[id].tlsHandshakes),
      raw: data[id],
    }));
    const calls1 = data.plugin.credentialCalls;
    const floor = floorPhases(floorLogs.floor);
    const floorPlugin = floorPhases(floorLogs.floorPlugin);
    return {
      rttMs: ctx.farRttMs,
      credentialMs: ctx.farCredentialMs,
      rows,
      ratio,
      floorRatio,
      floor,
      floorPlugin,
      notes: floorNotes(floor, floorPlugin),
      targets: [
        {
          id: 'far-prompt-time',
          target: `${ctx.farRttMs} ms round trip, ${ctx.farCredentialMs / 1000} s credential plugin: shell POD <= 0.6x kubectl debug -it`,
          value: `${ratio.median.toFixed(2)}x (${rows[0].ms.median.toFixed(0)} vs ${rows[1].ms.median.toFixed(0)} ms; the floor of any client: ${floorRatio.median.toFixed(2)}x, ${rows[2].ms.median.toFixed(0)} ms; of a kubectl plugin: ${rows[3].ratio.median.toFixed(2)}x, ${rows[3].ms.median.toFixed(0)} ms)`,
          met: ratio.median <= 0.6,
        },
        {
          id: 'far-credential-calls',
          target: 'exactly one credential plugin call per plugin run',
          value: `${calls1.join(', ')} (kubectl debug -it: ${data.kubectl.credentialCalls.join(', ')})`,
          met: calls1.length > 0 && calls1.every((n) => n === 1),
        },
      ],
    };
  } finally {
    await relay.close();
  }
}

/** The floor client's time: from spawn until R42 shows in its pty (it types the command itself once attached). */
async function waitForFloor(session) {
  const seen = session.waitFor('R42', 30_000);
  // It stays up once R42 is out; an exit before that is a failure (the output had time to arrive).
  const gone = session.exited.then((e) => delay(300).then(() => Promise.reject(new Error(`floor client exited (${JSON.stringify(e)}): ${Buffer.concat(session.transcript).toString().slice(-600)}`))));
  gone.catch(() => undefined);
  return (await Promise.race([seen, gone])) - session.t0;
}

/**
 * Where the floor's time goes, from its own timestamps (ms after its process start) and the
 * harness's spawn: medians over the rounds, each phase from the end of the one before.
 */
function floorPhases(logs) {
  const at = (l, key) => l[key] + (l.timeOriginWall - l.spawnWall);
  // The attempt whose typed command came back: the one that typed and was not refused.
  const won = (l) => l.attempts.find((a) => a.typedAt && !a.failedAt);
  const phases = {
    'spawn to script start (exec, Node start, module load)': (l) => at(l, 'scriptAt'),
    'credential plugin (from script start)': (l) => at(l, 'tokenAt') - at(l, 'scriptAt'),
    'GET pod + namespace (1 round trip)': (l) => l.getAnsweredAt - l.tokenAt,
    'PATCH (1 round trip)': (l) => l.patchAnsweredAt - l.getAnsweredAt,
    'PATCH answered to the winning attach attempt sent (container start, retries)': (l) => won(l).sentAt - l.patchAnsweredAt,
    'winning attempt: upgrade answered': (l) => won(l).upgradedAt - won(l).sentAt,
    'typed to R42 back (1 round trip)': (l) => l.r42At - won(l).typedAt,
    'client R42 to pty R42': (l) => l.ptyR42Ms - at(l, 'r42At'),
  };
  const summary = Object.fromEntries(Object.entries(phases).map(([k, f]) => [k, summarize(logs.map(f))]));
  return {
    phases: summary,
    h2ReadyMs: summarize(logs.map((l) => at(l, 'h2ReadyAt'))),
    sparesReadyMs: summarize(logs.map((l) => at(l, 'sparesReadyAt'))),
    tokenMs: summarize(logs.map((l) => at(l, 'tokenAt'))),
    patchAnsweredMs: summarize(logs.map((l) => at(l, 'patchAnsweredAt'))),
    attempts: summarize(logs.map((l) => l.attempts.length)),
    measuredRttMs: summarize(logs.map((l) => l.rttMs)),
    failures: [...new Set(logs.flatMap((l) => l.attempts.filter((a) => a.reason).map((a) => a.reason.replace(/floor-[0-9a-f]+/g, 'floor-*').slice(0, 120))))].slice(0, 4),
    logs,
  };
}

function floorNotes(f, fp) {
  const m = (s) => (s.n ? s.median.toFixed(0) : '-');
  const start = 'spawn to script start (exec, Node start, module load)';
  return [
    'floor: an ideal client of the bench (scripts/bench/floor-client.mjs, Node, not the product): credential plugin, HTTP/2 connection and spare TLS sockets opened at once; GET pod + namespace, PATCH, then WebSocket attach attempts every half round trip on the spares, typing once upgraded; timed like the others (spawn to R42 in its pty)',
    `floor, medians in ms: ${Object.entries(f.phases).map(([k, s]) => `${k} ${m(s)}`).join('; ')}`,
    `floor as a kubectl plugin: the same client run by kubectl's plugin dispatch through a shell launcher, as kubectl ephemeral is: spawn to script start ${m(fp.phases[start])} ms (direct: ${m(f.phases[start])}), token at ${m(fp.tokenMs)}`,
    `floor: token at ${m(f.tokenMs)} ms (HTTP/2 ready at ${m(f.h2ReadyMs)}, spares at ${m(f.sparesReadyMs)}), PATCH answered at ${m(f.patchAnsweredMs)}, ${m(f.attempts)} attach attempts (measured round trip ${m(f.measuredRttMs)} ms); refusals seen: ${f.failures.join(' | ') || 'none'}`,
  ];
}

/** env with `kubectl benchfloor` on PATH: a launcher that execs the floor client on the pinned Node, as kubectl-ephemeral's does. */
function floorPluginEnv(ctx, env) {
  const dir = join(ctx.work, 'far', 'bin');
  const launcher = join(dir, 'kubectl-benchfloor');
  if (!existsSync(launcher)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(launcher, `#!/bin/sh\nexec "${ctx.nodeBin}" "${FLOOR_CLIENT}" "$@"\n`, { mode: 0o755 });
  }
  return { ...env, PATH: `${dir}:${env.PATH}` };
}

/**
 * A kubeconfig whose server is the relay and whose user is an exec plugin that sleeps, counts its
 * calls and answers with a bearer token valid for 15 minutes, as `aws eks get-token` does: the
 * token of a ServiceAccount of the bench's namespace, bound there (RoleBindings in that namespace
 * only) to the roles the `tool` user has.
 */
async function farUser(ctx, port) {
  const { admin, ns } = ctx;
  const dir = join(ctx.work, 'far');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const count = join(dir, 'credential-calls');
  const sa = 'far-user';
  await admin(['create', 'serviceaccount', sa, '-n', ns]);
  for (const role of ['kubectl-ephemeral-debugger', 'kubectl-ephemeral-audit'])
    await admin(['create', 'rolebinding', `${sa}-${role}`, `--clusterrole=${role}`, `--serviceaccount=${ns}:${sa}`, '-n', ns]);
  const token = (await admin(['create', 'token', sa, '-n', ns, '--duration=2h'])).trim();
  writeFileSync(join(dir, 'token'), token, { mode: 0o600 });
  writeFileSync(count, '');
  const script = join(dir, 'get-token');
  writeFileSync(
    script,
    [
      '#!/bin/sh',
      `echo x >> '${count}'`,
      `sleep ${ctx.farCredentialMs / 1000}`,
      'exp=$(date -u -d "@$(( $(date +%s) + 900 ))" +%Y-%m-%dT%H:%M:%SZ)',
      `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}' "$(cat '${join(dir, 'token')}')" "$exp"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const config = JSON.parse(readFileSync(ctx.env.KUBECONFIG, 'utf8'));
  const far = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'far', cluster: { ...config.clusters[0].cluster, server: `https://127.0.0.1:${port}` } }],
    users: [{ name: 'far', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: script, interactiveMode: 'Never' } } }],
    contexts: [{ name: 'far', context: { cluster: 'far', user: 'far', namespace: ns } }],
    'current-context': 'far',
  };
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, JSON.stringify(far), { mode: 0o600 });
  return { env: { ...ctx.env, KUBECONFIG: path }, calls: () => readFileSync(count, 'utf8').split('\n').filter(Boolean).length, user: `system:serviceaccount:${ns}:${sa}` };
}
