// 0. Time to a working prompt, as a user feels it: in a real pty of the harness, from process start
// until the output of the first typed command comes back. `kubectl ephemeral shell POD` against
// `kubectl debug -it POD --image=<the same busybox> -- sh`, each pair on a fresh pod (a pod debugged
// many times has its kubelet events cut by the spam filter, which no first user meets), in pairs
// A B / B A alternating, after a random pause that keeps runs off the phase of the kubelet's 1 s relist.
import { PtySession } from './lib/pty-session.mjs';
import { pairedRatios, summarize } from './lib/stats.mjs';
import { delay } from './lib/proc.mjs';
import { requestsIn } from './lib/cluster.mjs';
import { BUSYBOX } from './debug.mjs';

export async function benchPrompt(ctx) {
  const { env, kubectl, ns } = ctx;
  const pairs = ctx.warmup + ctx.iterations;
  const variants = {
    plugin: { label: 'kubectl ephemeral shell POD', args: (pod) => ['ephemeral', 'shell', pod, '-n', ns] },
    kubectl: { label: `kubectl debug -it POD --image=${BUSYBOX} -- sh`, args: (pod) => ['debug', '-it', pod, '-n', ns, `--image=${BUSYBOX}`, '--', 'sh'] },
  };
  const data = { plugin: { ms: [], rss: [], windows: [] }, kubectl: { ms: [], rss: [], windows: [] } };
  for (let i = 0; i < pairs; i++) {
    // Each pair's pod is made for it, and deleted after: the node runs one sample app at a time.
    const [pod] = await ctx.createAppPods('prompt', 1);
    // Which tool goes first alternates: the second run on a pod finds the node a little warmer.
    const order = i % 2 === 0 ? ['plugin', 'kubectl'] : ['kubectl', 'plugin'];
    const got = {};
    for (const id of order) {
      await delay(ctx.settleMs + Math.random() * 1000);
      const session = new PtySession(kubectl, variants[id].args(pod), { env });
      try {
        const ms = await session.waitAttached();
        const rss = Object.values(session.peakRss());
        got[id] = { ms, rss, window: [session.startWall, session.startWall + ms] };
      } finally {
        await session.end();
      }
    }
    await ctx.admin(['delete', 'pod', pod, '-n', ns, '--wait=false']);
    if (i < ctx.warmup) continue;
    for (const id of order) {
      const top = got[id].rss.find((p) => p.depth === 0);
      data[id].ms.push(got[id].ms);
      data[id].rss.push(top?.hwmKB ?? NaN);
      data[id].windows.push(got[id].window);
    }
    ctx.progress(`prompt pair ${i + 1 - ctx.warmup}/${ctx.iterations}: plugin ${got.plugin.ms.toFixed(0)} ms, kubectl debug -it ${got.kubectl.ms.toFixed(0)} ms`);
  }
  const events = ctx.auditEvents();
  const firstRequest = (w) => requestsIn(events, ctx.users.tool, w[0], w[1]).requests[0]?.atMs ?? NaN;
  const ratio = pairedRatios(data.kubectl.ms, data.plugin.ms);
  const result = {
    rows: Object.entries(variants).map(([id, v]) => ({
      id,
      label: v.label,
      ms: summarize(data[id].ms),
      firstRequestMs: summarize(data[id].windows.map(firstRequest)),
      rssKB: summarize(data[id].rss),
      raw: data[id].ms,
    })),
    ratio,
  };
  result.targets = [
    {
      id: 'prompt-time',
      target: 'process start to the first typed command\'s output, shell POD <= 0.6x kubectl debug -it',
      value: `${ratio.median.toFixed(2)}x (${result.rows[0].ms.median.toFixed(0)} vs ${result.rows[1].ms.median.toFixed(0)} ms)`,
      met: ratio.median <= 0.6,
    },
    {
      id: 'first-request',
      target: 'first API request after process start <= 150 ms',
      value: `${result.rows[0].firstRequestMs.median.toFixed(0)} ms (kubectl debug: ${result.rows[1].firstRequestMs.median.toFixed(0)} ms)`,
      met: result.rows[0].firstRequestMs.median <= 150,
    },
  ];
  return result;
}
