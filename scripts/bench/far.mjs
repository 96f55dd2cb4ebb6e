// 0b. Time to a working prompt where users are: the API server a round trip away (a latency relay of
// the bench's own, --far-rtt-ms, default 80 ms) and an exec credential plugin that takes a while
// (--far-credential-ms, default 0.7 s, as `aws eks get-token` does). Measured as in 0.: in a real
// pty from process start until the first typed command's output is back, `kubectl ephemeral shell
// POD` against `kubectl debug -it POD --image=<busybox> -- sh`, both through the same relay and the
// same credential plugin, each pair on a fresh pod, order alternating. Per run: how many times the
// credential plugin ran, and the connections and TLS handshakes that reached the relay (the plugin's
// own and those of every kubectl it spawned).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PtySession } from './lib/pty-session.mjs';
import { pairedRatios, summarize } from './lib/stats.mjs';
import { delay } from './lib/proc.mjs';
import { auditOffset, readAuditEvents, requestsIn } from './lib/cluster.mjs';
import { startLatencyRelay } from './lib/latency-relay.mjs';
import { BUSYBOX } from './debug.mjs';

export async function benchFar(ctx) {
  const { kubectl, ns } = ctx;
  const api = new URL(ctx.cluster.KE_APISERVER);
  const relay = await startLatencyRelay({ host: api.hostname, port: Number(api.port || 443), rttMs: ctx.farRttMs });
  try {
    const { env, calls, user } = await farUser(ctx, relay.port);
    const offset = auditOffset(ctx.cluster);
    const pairs = ctx.warmup + ctx.iterations;
    const variants = {
      plugin: { label: 'kubectl ephemeral shell POD', args: (pod) => ['ephemeral', 'shell', pod, '-n', ns] },
      kubectl: { label: `kubectl debug -it POD --image=${BUSYBOX} -- sh`, args: (pod) => ['debug', '-it', pod, '-n', ns, `--image=${BUSYBOX}`, '--', 'sh'] },
    };
    const fields = () => ({ ms: [], credentialCalls: [], connections: [], tlsHandshakes: [], windows: [] });
    const data = { plugin: fields(), kubectl: fields() };
    for (let i = 0; i < pairs; i++) {
      const [pod] = await ctx.createAppPods('far', 1);
      const order = i % 2 === 0 ? ['plugin', 'kubectl'] : ['kubectl', 'plugin'];
      const got = {};
      for (const id of order) {
        await delay(ctx.settleMs + Math.random() * 1000);
        const [callsBefore, before] = [calls(), relay.counts()];
        const session = new PtySession(kubectl, variants[id].args(pod), { env });
        try {
          const ms = await session.waitAttached();
          got[id] = { ms, window: [session.startWall, session.startWall + ms] };
        } finally {
          await session.end();
        }
        // Counted once the process ended: cleanup's requests and late attach attempts are the run's too.
        const after = relay.counts();
        Object.assign(got[id], { credentialCalls: calls() - callsBefore, connections: after.connections - before.connections, tlsHandshakes: after.tlsHandshakes - before.tlsHandshakes });
      }
      await ctx.admin(['delete', 'pod', pod, '-n', ns, '--wait=false']);
      if (i < ctx.warmup) continue;
      for (const id of order) for (const k of Object.keys(data[id])) data[id][k].push(got[id][k === 'windows' ? 'window' : k]);
      ctx.progress(`far pair ${i + 1 - ctx.warmup}/${ctx.iterations}: plugin ${got.plugin.ms.toFixed(0)} ms (${got.plugin.credentialCalls} credential calls, ${got.plugin.connections} connections), kubectl debug -it ${got.kubectl.ms.toFixed(0)} ms (${got.kubectl.credentialCalls}, ${got.kubectl.connections})`);
    }
    const events = readAuditEvents(ctx.cluster, offset, user);
    const firstRequest = (w) => requestsIn(events, user, w[0], w[1]).requests[0]?.atMs ?? NaN;
    const ratio = pairedRatios(data.kubectl.ms, data.plugin.ms);
    const rows = Object.entries(variants).map(([id, v]) => ({
      id,
      label: v.label,
      ms: summarize(data[id].ms),
      firstRequestMs: summarize(data[id].windows.map(firstRequest)),
      credentialCalls: summarize(data[id].credentialCalls),
      connections: summarize(data[id].connections),
      tlsHandshakes: summarize(data[id].tlsHandshakes),
      raw: data[id],
    }));
    const calls1 = data.plugin.credentialCalls;
    return {
      rttMs: ctx.farRttMs,
      credentialMs: ctx.farCredentialMs,
      rows,
      ratio,
      targets: [
        {
          id: 'far-prompt-time',
          target: `${ctx.farRttMs} ms round trip, ${ctx.farCredentialMs / 1000} s credential plugin: shell POD <= 0.6x kubectl debug -it`,
          value: `${ratio.median.toFixed(2)}x (${rows[0].ms.median.toFixed(0)} vs ${rows[1].ms.median.toFixed(0)} ms)`,
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
