// 3. The attach relay. One running shell container; each round attaches to it three ways under a
// pty of the harness — `kubectl attach -it` directly, `kubectl ephemeral attach` (kubectl under
// the plugin's own node-pty, every byte relayed) and the same with --record=FILE — and in each
// session: time until typing reaches the shell, a large output (base64 of zeros) read to its end,
// then single keystrokes into `cat`, each timed until its echo is back.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PtySession } from './lib/pty-session.mjs';
import { pairedDifferences, pairedRatios, quantile, summarize } from './lib/stats.mjs';
import { requestsIn } from './lib/cluster.mjs';
import { delay } from './lib/proc.mjs';

const signed = (v) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}`;

/** Bytes a tty shows for `head -c n /dev/zero | base64`: 76-column lines ending in \r\n. */
export function base64TtyBytes(n) {
  const chars = 4 * Math.ceil(n / 3);
  return chars + 2 * Math.ceil(chars / 76);
}

export async function benchAttach(ctx) {
  const { env, kubectl, ns } = ctx;
  const [pod] = await ctx.createAppPods('attach', 1);
  const container = 'bench-sh';
  await ctx.addShellContainer(pod, container);
  const bytes = ctx.attachBytes;
  const payload = base64TtyBytes(bytes);

  const variants = [
    { id: 'direct', label: 'kubectl attach -it (direct)', args: () => ['attach', '-it', pod, '-c', container, '-n', ns] },
    { id: 'plugin', label: 'kubectl ephemeral attach', args: () => ['ephemeral', 'attach', pod, container, '-n', ns] },
    { id: 'record', label: 'kubectl ephemeral attach --record=FILE', args: (i) => ['ephemeral', 'attach', pod, container, '-n', ns, `--record=${join(ctx.work, `session-${i}.cast`)}`] },
  ];
  const data = Object.fromEntries(variants.map((v) => [v.id, { attachMs: [], mbps: [], transferMs: [], latMedian: [], latP99: [], samples: [], rssTop: [], rssChild: [], cpuTop: [], cpuChild: [], windows: [], crcrlf: [], received: [], exit: [] }]));
  const rounds = ctx.warmup + ctx.iterations;
  for (let round = 0; round < rounds; round++) {
    for (const v of variants) {
      const session = new PtySession(kubectl, v.args(round), { env });
      let result;
      try {
        const attachMs = await session.waitAttached();
        const t = await session.throughput(bytes);
        const samples = await session.keystrokeLatencies(ctx.keystrokes);
        // Peak RSS is read before the session is ended, so teardown does not count.
        const rss = Object.values(session.peakRss());
        result = { attachMs, t, samples, rss };
      } finally {
        const exit = await session.end();
        if (result) result.exit = exit;
        rmSync(join(ctx.work, `session-${round}.cast`), { force: true });
      }
      const d = data[v.id];
      if (round < ctx.warmup) continue;
      const top = result.rss.find((p) => p.depth === 0);
      // The kubectl the plugin spawns: its largest child (the launcher's short-lived dirname is one too).
      const child = result.rss.filter((p) => p.depth === 1).sort((x, y) => y.hwmKB - x.hwmKB)[0];
      d.attachMs.push(result.attachMs);
      d.transferMs.push(result.t.ms);
      d.mbps.push(payload / 1e6 / (result.t.ms / 1000));
      d.received.push(result.t.bytes);
      d.crcrlf.push(session.crcrlf);
      d.samples.push(...result.samples);
      d.latMedian.push(quantile(result.samples, 0.5));
      d.latP99.push(quantile(result.samples, 0.99));
      d.rssTop.push(top ? top.hwmKB : NaN);
      d.rssChild.push(child ? child.hwmKB : NaN);
      d.cpuTop.push(top ? top.cpuMs : NaN);
      d.cpuChild.push(child ? child.cpuMs : NaN);
      d.topName = top?.name;
      d.childName = child?.name;
      d.windows.push([session.startWall, session.startWall + (performance.now() - session.t0)]);
      d.exit.push(result.exit);
      await delay(100);
    }
    ctx.progress(`attach round ${round + 1}/${rounds}${round < ctx.warmup ? ' (warm-up)' : ''}: ${variants.map((v) => `${v.id} ${data[v.id].mbps.at(-1)?.toFixed(1) ?? '-'} MB/s`).join(', ')}`);
  }

  const events = ctx.auditEvents();
  const rows = variants.map((v) => {
    const d = data[v.id];
    const reqs = d.windows.map(([s, e]) => requestsIn(events, ctx.users.tool, s, e));
    return {
      id: v.id,
      label: v.label,
      attachMs: summarize(d.attachMs),
      transferMs: summarize(d.transferMs),
      mbps: summarize(d.mbps),
      throughputRatio: v.id === 'direct' ? undefined : pairedRatios(data.direct.transferMs.map((ms) => 1 / ms), d.transferMs.map((ms) => 1 / ms)),
      latency: { n: d.samples.length, median: quantile(d.samples, 0.5), p99: quantile(d.samples, 0.99), max: Math.max(...d.samples) },
      sessionMedian: summarize(d.latMedian),
      sessionP99: summarize(d.latP99),
      addedMedian: v.id === 'direct' ? undefined : pairedDifferences(data.direct.latMedian, d.latMedian),
      addedP99: v.id === 'direct' ? undefined : pairedDifferences(data.direct.latP99, d.latP99),
      rssTopKB: summarize(d.rssTop),
      rssChildKB: summarize(d.rssChild),
      cpuTopMs: summarize(d.cpuTop),
      cpuChildMs: summarize(d.cpuChild),
      topName: d.topName,
      childName: d.childName,
      requests: summarize(reqs.map((r) => r.count)),
      requestSample: reqs.at(-1)?.requests,
      bytesReceived: summarize(d.received),
      extraCarriageReturns: summarize(d.crcrlf),
    };
  });
  const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
  // Added latency pair by pair: each session's median and p99 minus those of the direct session
  // of the same round (pooled p99s swing with a single noisy session on either side).
  const addedFor = (id) => ({
    median: byId[id].addedMedian.median,
    p99: byId[id].addedP99.median,
    p99Min: byId[id].addedP99.min,
    p99Max: byId[id].addedP99.max,
    pooledP99: byId[id].latency.p99 - byId.direct.latency.p99,
  });
  const added = { plugin: addedFor('plugin'), record: addedFor('record') };
  const targets = [
    {
      id: 'attach-throughput',
      target: 'relay throughput >= 0.95x kubectl attach (also with --record)',
      value: `${byId.plugin.throughputRatio.median.toFixed(2)}x, recording ${byId.record.throughputRatio.median.toFixed(2)}x`,
      met: byId.plugin.throughputRatio.median >= 0.95 && byId.record.throughputRatio.median >= 0.95,
    },
    {
      id: 'attach-latency',
      target: 'added keystroke echo p99 < 2 ms',
      value: `${signed(added.plugin.p99)} ms p99 [${signed(added.plugin.p99Min)} to ${signed(added.plugin.p99Max)}] (${signed(added.plugin.median)} ms median, pooled p99 ${signed(added.plugin.pooledP99)}); recording ${signed(added.record.p99)} ms p99`,
      met: added.plugin.p99 < 2 && added.record.p99 < 2,
    },
  ];
  return { pod, container, bytes, payloadBytes: payload, keystrokes: ctx.keystrokes, rows, added, targets };
}
