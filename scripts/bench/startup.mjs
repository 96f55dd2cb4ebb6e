// 1. Startup: the plugin's --help, --version and presets, run as kubectl runs it (`kubectl
// ephemeral`, the plugin found on PATH) and directly (its launcher), against bare `node -e 0` on
// the same runtime and against `kubectl debug --help`; the single executable against a bare single
// executable built from the same runtime. Every command runs once per round, rounds repeat, and
// each ratio is taken within a round.
import { pairedRatios, summarize } from './lib/stats.mjs';
import { runTimed } from './lib/proc.mjs';
import { requestsIn } from './lib/cluster.mjs';

export async function benchStartup(ctx) {
  const { env, nodeBin, kubectl, launcher, sea, bareSea } = ctx;
  const variants = [
    { id: 'node', label: `node -e 0 (${ctx.nodeVersion})`, cmd: nodeBin, args: ['-e', '0'] },
    { id: 'help', label: 'plugin --help (launcher)', cmd: launcher, args: ['--help'], base: 'node' },
    { id: 'version', label: 'plugin --version (launcher)', cmd: launcher, args: ['--version'], base: 'node' },
    { id: 'presets', label: 'plugin presets (launcher)', cmd: launcher, args: ['presets'], base: 'node' },
    // kubectl finds a plugin on PATH and execs it; this one only runs `node -e 0`: the floor for plugins run through kubectl.
    { id: 'k-node', label: 'kubectl benchnode (plugin = sh + node -e 0)', cmd: kubectl, args: ['benchnode'] },
    { id: 'k-help', label: 'kubectl ephemeral --help', cmd: kubectl, args: ['ephemeral', '--help'], base: 'k-node' },
    { id: 'k-version', label: 'kubectl ephemeral --version', cmd: kubectl, args: ['ephemeral', '--version'], base: 'k-node' },
    { id: 'k-presets', label: 'kubectl ephemeral presets', cmd: kubectl, args: ['ephemeral', 'presets'], base: 'k-node' },
    { id: 'kdebug', label: 'kubectl debug --help', cmd: kubectl, args: ['debug', '--help'], base: 'node' },
  ];
  if (sea) {
    variants.push(
      { id: 'bare-sea', label: 'bare single executable (same runtime, empty script)', cmd: bareSea, args: [] },
      { id: 'sea-help', label: 'dist/kubectl-ephemeral --help', cmd: sea, args: ['--help'], base: 'bare-sea' },
      { id: 'sea-version', label: 'dist/kubectl-ephemeral --version', cmd: sea, args: ['--version'], base: 'bare-sea' },
      { id: 'sea-presets', label: 'dist/kubectl-ephemeral presets', cmd: sea, args: ['presets'], base: 'bare-sea' },
    );
  }
  const times = Object.fromEntries(variants.map((v) => [v.id, []]));
  const windows = Object.fromEntries(variants.map((v) => [v.id, []]));
  const rounds = ctx.warmup + ctx.iterations;
  for (let round = 0; round < rounds; round++) {
    for (const v of variants) {
      const r = await runTimed(v.cmd, v.args, { env });
      if (r.code !== 0) throw new Error(`${v.label} exited ${r.code ?? r.signal}: ${r.stderr.slice(0, 500)}`);
      if (round >= ctx.warmup) {
        times[v.id].push(r.ms);
        windows[v.id].push([r.startWall, r.endWall]);
      }
    }
    ctx.progress(`startup round ${round + 1}/${rounds}${round < ctx.warmup ? ' (warm-up)' : ''}`);
  }
  // Peak RSS in separate runs: /usr/bin/time adds a fork+exec that the timed runs go without.
  const rss = Object.fromEntries(variants.map((v) => [v.id, []]));
  for (let i = 0; i < Math.min(3, ctx.iterations); i++)
    for (const v of variants) rss[v.id].push((await runTimed(v.cmd, v.args, { env, rss: true, tmpDir: ctx.work })).rssKB);

  const events = ctx.auditEvents();
  const rows = variants.map((v) => {
    const reqs = windows[v.id].map(([a, b]) => requestsIn(events, ctx.users.tool, a, b).count);
    return {
      id: v.id,
      label: v.label,
      command: [v.cmd, ...v.args].join(' '),
      ms: summarize(times[v.id]),
      ratio: v.base ? { base: v.base, ...pairedRatios(times[v.base], times[v.id]) } : undefined,
      rssKB: summarize(rss[v.id]),
      requests: summarize(reqs),
      raw: times[v.id],
    };
  });
  const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
  const kHelpVsDebug = pairedRatios(times.kdebug, times['k-help']);
  const help = byId.help.ratio;
  const targets = [
    {
      id: 'startup-help',
      target: '--help within 1.10x of bare node -e 0 (single executable: 1.15x of a bare one)',
      value:
        `${help.median.toFixed(2)}x (launcher vs node -e 0), ${byId['k-help'].ratio.median.toFixed(2)}x (via kubectl vs a plugin running node -e 0)` +
        (sea ? `; single executable ${byId['sea-help'].ratio.median.toFixed(2)}x of its bare runtime` : ''),
      met: help.median <= 1.1 && byId['k-help'].ratio.median <= 1.1 && (!sea || byId['sea-help'].ratio.median <= 1.15),
    },
  ];
  return { rows, kHelpVsDebug, targets };
}
