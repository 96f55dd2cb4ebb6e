// 5. Scale: `kubectl ephemeral list -A` over a cluster holding N extra pods (default 2,000, in four
// bench-scale-* namespaces, bound to the registered node no kubelet runs, so they stay Pending and
// cost nothing; a few carry ephemeral containers) against `kubectl get pods -A -o json | jq` that
// prints the same rows. The audit log shows how each pages through the list (limit/continue).
import { readFileSync } from 'node:fs';
import { pairedRatios, summarize } from './lib/stats.mjs';
import { runTimed } from './lib/proc.mjs';
import { BENCH_LABEL, requestsIn } from './lib/cluster.mjs';
import { BUSYBOX } from './debug.mjs';

const NAMESPACES = 4;
const WITH_EPHEMERAL = 20;

// One row per ephemeral container, like the plugin's table (namespace, pod, container, preset, image, state).
const JQ_FILTER = `.items[] | select(.spec.ephemeralContainers) | . as $p | .spec.ephemeralContainers[] | . as $c
  | [$p.metadata.namespace, $p.metadata.name, $c.name,
     (([$c.env[]? | select(.name == "KUBECTL_EPHEMERAL_PRESET") | .value] | first) // "-"), $c.image,
     ((($p.status.ephemeralContainerStatuses // []) | map(select(.name == $c.name)) | first | .state // {} | keys | first) // "waiting")]
  | @tsv`;

export async function createScalePods(ctx, total) {
  const per = Math.ceil(total / NAMESPACES);
  const names = Array.from({ length: NAMESPACES }, (_, i) => `bench-scale-${ctx.runId}-${i}`);
  await ctx.admin(['create', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: names.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [BENCH_LABEL]: ctx.runId } } })) }),
  });
  ctx.scaleNamespaces.push(...names);
  await Promise.all(names.map((n) => ctx.waitForServiceAccount(n)));
  const t = performance.now();
  // Batches of 250 per kubectl create, four namespaces at once.
  await Promise.all(
    names.map(async (namespace, n) => {
      for (let start = 0; start < per && n * per + start < total; start += 250) {
        const items = [];
        for (let i = start; i < Math.min(per, start + 250) && n * per + i < total; i++)
          items.push({
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: `pod-${String(i).padStart(4, '0')}`, namespace, labels: { app: 'bench-scale' } },
            spec: {
              nodeName: ctx.cluster.KE_FAKE_NODE,
              automountServiceAccountToken: false,
              terminationGracePeriodSeconds: 0,
              containers: [{ name: 'app', image: BUSYBOX, command: ['sleep', 'infinity'], resources: { requests: { cpu: '1m', memory: '1Mi' } } }],
            },
          });
        await ctx.admin(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }), timeoutMs: 300_000 });
      }
    }),
  );
  // A few pods with a debug container each, stamped the way the plugin stamps its own.
  const targets = Array.from({ length: WITH_EPHEMERAL }, (_, i) => [names[i % NAMESPACES], `pod-${String(Math.floor(i / NAMESPACES) * 7).padStart(4, '0')}`]);
  for (let i = 0; i < targets.length; i += 5)
    await Promise.all(
      targets.slice(i, i + 5).map(([namespace, pod], j) =>
        ctx.admin(['patch', 'pod', pod, '-n', namespace, '--subresource=ephemeralcontainers', '--type=strategic', '-p',
          JSON.stringify({ spec: { ephemeralContainers: [{ name: `debugger-shell-b${i + j}`, image: BUSYBOX, command: ['sh'], stdin: true, tty: true, env: [{ name: 'KUBECTL_EPHEMERAL_PRESET', value: 'shell' }, { name: 'KUBECTL_EPHEMERAL_USER', value: 'bench' }] }] } })]),
      ),
    );
  return { namespaces: names, created: total, withEphemeral: targets.length, createMs: performance.now() - t };
}

export async function benchScale(ctx) {
  const { env, kubectl } = ctx;
  const setup = await createScalePods(ctx, ctx.scalePods);
  ctx.progress(`scale: ${setup.created} pods in ${setup.namespaces.length} namespaces created in ${(setup.createMs / 1000).toFixed(1)} s`);
  const first = JSON.parse(await ctx.admin(['get', '--raw', '/api/v1/pods?limit=1']));
  const totalPods = first.items.length + (first.metadata.remainingItemCount ?? 0);

  const plugin = { ms: [], rss: [], rows: [], windows: [] };
  const kq = { ms: [], rssKubectl: [], rssJq: [], rows: [], windows: [] };
  const rounds = ctx.warmup + ctx.iterations;
  for (let round = 0; round < rounds; round++) {
    const a = await runTimed(kubectl, ['ephemeral', 'list', '-A'], { env, rss: true, tmpDir: ctx.work });
    if (a.code !== 0) throw new Error(`kubectl ephemeral list -A exited ${a.code}: ${a.stderr.slice(0, 800)}`);
    // The pipeline under sh, each side under /usr/bin/time: time for the whole, peak RSS for each.
    const k = `${ctx.work}/kq-rss-k`;
    const j = `${ctx.work}/kq-rss-j`;
    const script = `/usr/bin/time -f %M -o ${k} "$0" get pods -A -o json | /usr/bin/time -f %M -o ${j} jq -r "$1"`;
    const b = await runTimed('/bin/sh', ['-c', script, kubectl, JQ_FILTER], { env });
    if (b.code !== 0) throw new Error(`kubectl get pods -A -o json | jq exited ${b.code}: ${b.stderr.slice(0, 800)}`);
    if (round < ctx.warmup) continue;
    const last = (f) => Number(readFileSync(f, 'utf8').trim().split('\n').pop());
    plugin.ms.push(a.ms);
    plugin.rss.push(a.rssKB);
    plugin.rows.push(a.stdout.trim().split('\n').length - 1);
    plugin.windows.push([a.startWall, a.endWall]);
    kq.ms.push(b.ms);
    kq.rssKubectl.push(last(k));
    kq.rssJq.push(last(j));
    kq.rows.push(b.stdout.trim() ? b.stdout.trim().split('\n').length : 0);
    kq.windows.push([b.startWall, b.endWall]);
    ctx.progress(`scale round ${round + 1 - ctx.warmup}/${ctx.iterations}: list -A ${a.ms.toFixed(0)} ms, get|jq ${b.ms.toFixed(0)} ms`);
  }
  const events = ctx.auditEvents();
  const pages = (reqs) => reqs.requests.filter((r) => r.verb === 'list');
  const pReqs = plugin.windows.map(([s, e]) => requestsIn(events, ctx.users.tool, s, e));
  const kReqs = kq.windows.map(([s, e]) => requestsIn(events, ctx.users.tool, s, e));
  const pPages = pages(pReqs.at(-1));
  const kPages = pages(kReqs.at(-1));
  // Paged: every list request carries a limit, every one after the first a continue token, and
  // there are as many as the pod count needs at that limit (others may add pods meanwhile).
  const paged = (p) => {
    const limit = Number(/[?&]limit=(\d+)/.exec(p[0]?.uri ?? '')?.[1]);
    return limit > 0 && p.every((r) => /[?&]limit=\d+/.test(r.uri)) && p.slice(1).every((r) => /[?&]continue=/.test(r.uri)) && Math.abs(p.length - Math.ceil(totalPods / limit)) <= (totalPods > limit ? 1 : 0);
  };
  return {
    setup: { ...setup, totalPodsInCluster: totalPods },
    plugin: { command: 'kubectl ephemeral list -A', ms: summarize(plugin.ms), rssKB: summarize(plugin.rss), rows: summarize(plugin.rows), requests: summarize(pReqs.map((r) => r.count)), pages: pPages.length, paged: paged(pPages), pageUris: pPages.map((r) => r.uri.replace(/continue=[^&]+/, 'continue=…')) },
    kubectl: { command: 'kubectl get pods -A -o json | jq -r FILTER', ms: summarize(kq.ms), rssKBKubectl: summarize(kq.rssKubectl), rssKBJq: summarize(kq.rssJq), rows: summarize(kq.rows), requests: summarize(kReqs.map((r) => r.count)), pages: kPages.length, paged: paged(kPages) },
    ratio: pairedRatios(kq.ms, plugin.ms),
    targets: [
      { id: 'scale-paging', target: 'list -A pages with limit/continue', value: `${pPages.length} list requests (${/limit=(\d+)/.exec(pPages[0]?.uri ?? '')?.[1] ?? 'no'} limit) for ${totalPods} pods`, met: paged(pPages) },
    ],
  };
}
