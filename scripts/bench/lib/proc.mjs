// Running the measured commands: wall time from just before spawn to exit (hrtime), output
// captured, peak RSS either from /usr/bin/time (wait4's ru_maxrss: the whole exec chain, e.g. kubectl
// exec'ing the plugin's launcher exec'ing node) or by polling /proc/PID/status VmHWM per process.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

/** Wall-clock now in ms with sub-ms precision (comparable with the audit log's timestamps). */
export function wallNow() {
  return performance.timeOrigin + performance.now();
}

/**
 * Runs cmd to completion. Resolves with { ms, code, signal, stdout, stderr, startWall, endWall,
 * rssKB }; rssKB only with { rss: true }, read from /usr/bin/time -f %M (which costs the same
 * fork+exec for every command measured this way).
 */
export function runTimed(cmd, args, { env, cwd, rss = false, input, timeoutMs = 300_000, tmpDir } = {}) {
  let file = cmd;
  let argv = args;
  let rssFile;
  if (rss && existsSync(GNU_TIME)) {
    rssFile = join(tmpDir ?? '/tmp', `rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
    file = GNU_TIME;
    argv = ['-f', '%M', '-o', rssFile, cmd, ...args];
  }
  return new Promise((resolve, reject) => {
    const startWall = wallNow();
    const t0 = process.hrtime.bigint();
    const child = spawn(file, argv, { env, cwd, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    if (input !== undefined) child.stdin.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const endWall = wallNow();
      clearTimeout(timer);
      let rssKB;
      if (rssFile) {
        try {
          // GNU time prefixes "Command exited with non-zero status N" lines; the number is last.
          rssKB = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
        } catch {
          rssKB = undefined;
        }
        rmSync(rssFile, { force: true });
      }
      resolve({ ms, code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), startWall, endWall, rssKB });
    });
  });
}

/** Runs a command and throws with its stderr when it fails; returns stdout. */
export async function runChecked(cmd, args, opts = {}) {
  const r = await runTimed(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
  return r.stdout;
}

// Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) on every architecture Node runs on.
const USER_HZ = 100;

function readStatus(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const name = /^Name:\s*(.*)$/m.exec(text)?.[1] ?? '?';
    const hwm = Number(/^VmHWM:\s*(\d+)/m.exec(text)?.[1] ?? NaN);
    // utime and stime: fields 14 and 15, counted after the parenthesised command name.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuMs = ((Number(f[11]) + Number(f[12])) * 1000) / USER_HZ;
    return { name, hwmKB: hwm, cpuMs };
  } catch {
    return undefined;
  }
}

function childrenOf(pid) {
  const kids = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) kids.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // gone
  }
  return kids;
}

/**
 * Polls VmHWM (the per-process peak RSS) of pid and its descendants every intervalMs until stop();
 * stop() reads once more and returns { [pid]: { name, hwmKB, cpuMs, depth } } (cpuMs: user+system
 * CPU time so far). VmHWM is a high-water
 * mark, so the last read before the process ends is its peak up to that moment.
 */
export function pollPeakRss(pid, intervalMs = 20) {
  const seen = new Map();
  const sample = () => {
    const walk = (p, depth) => {
      const s = readStatus(p);
      if (!s || !Number.isFinite(s.hwmKB)) return;
      const prev = seen.get(p);
      // An exec (kubectl -> the plugin's launcher -> node) replaces the image and resets VmHWM:
      // the process is then reported under its last name, with that image's peak.
      const same = prev && prev.name === s.name;
      seen.set(p, { name: s.name, hwmKB: same ? Math.max(prev.hwmKB, s.hwmKB) : s.hwmKB, cpuMs: s.cpuMs, depth });
      for (const c of childrenOf(p)) walk(c, depth + 1);
    };
    walk(pid, 0);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      sample();
      clearInterval(timer);
      return Object.fromEntries(seen);
    },
  };
}

export function delay(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
