// Runs the main bundle (plugin/lib/main.cjs, or the single executable's main asset) with a V8 code
// cache kept in the user's cache directory. Node compiles a function only when it is first called,
// on every run; the cache, written once at the end of a run, holds the bytecode of every function
// that run compiled, so the next run skips compiling them: ~25 ms less before the first API request.
// (Node's own module.enableCompileCache saves the cache right after compiling the file, before any
// of its functions ran, and saved ~10 ms.)
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { Script } from 'node:vm';

/** The bundle to run: its source, the file name it reports in stack traces and resolves requires from, and the hash of the build. */
export interface Bundle {
  /** A function expression of (exports, require, module, __filename, __dirname): a CommonJS file's body, wrapped by the build. */
  source: string;
  filename: string;
  /** Identifies this exact source (computed at build time): V8 itself only compares source lengths. */
  buildHash: string;
}

/**
 * ${XDG_CACHE_HOME:-~/.cache}/kubectl-ephemeral/code-cache when it is ours alone, else undefined.
 * Bytecode read from there is run as is: a directory another user can write to would let them
 * run code as this user, so it is used only if it and its parent belong to this user and no one
 * else can write to them.
 */
export function codeCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  const xdg = env.XDG_CACHE_HOME;
  const root = join(xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.cache'), 'kubectl-ephemeral');
  const dir = join(root, 'code-cache');
  if (typeof process.getuid !== 'function') return undefined; // no owner to check (Windows): go without
  const uid = process.getuid();
  const ours = (d: string) => {
    const st = lstatSync(d);
    return st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0;
  };
  try {
    // Checked before anything is made inside it.
    mkdirSync(root, { recursive: true, mode: 0o700 });
    if (!ours(root)) return undefined;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return ours(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** What running a bundle gave: its exports, and how to save the code cache when this run adds to it. */
export interface RunBundleResult {
  exports: unknown;
  /** Writes the code cache (call it at the end of the run, when most functions were compiled). */
  saveCache?: () => void;
}

/**
 * Runs the bundle as Node runs a CommonJS file. A code cache of this build and Node version is
 * used when present. The cache holds what the runs that wrote it compiled: a run of a kind of
 * command (`kind`: list, attach, a preset ...) that it does not cover yet, or a missing or refused
 * cache, makes the result say how to save one that adds this run's functions (at most once per
 * kind and build). Any failure to read or write the cache only costs the time it would have saved.
 * The file: one line of JSON ({ kinds }) then V8's data.
 */
export function runBundle(bundle: Bundle, cacheDir: string | undefined, kind: string): RunBundleResult {
  const build = `main-${bundle.buildHash.slice(0, 16)}-`;
  const file = cacheDir ? join(cacheDir, `${build}${process.version}-${process.arch}.v8`) : undefined;
  let cachedData: Buffer | undefined;
  let kinds: string[] = [];
  try {
    if (file) {
      const raw = readFileSync(file);
      const eol = raw.indexOf(10);
      kinds = (JSON.parse(raw.subarray(0, eol).toString('utf8')) as { kinds: string[] }).kinds.filter((k) => typeof k === 'string');
      cachedData = raw.subarray(eol + 1);
    }
  } catch {
    cachedData = undefined;
    kinds = [];
  }
  const script = new Script(bundle.source, { filename: bundle.filename, cachedData });
  if (!cachedData || script.cachedDataRejected) kinds = [];
  const module = { exports: {} as unknown };
  const fn = script.runInThisContext() as (...args: unknown[]) => void;
  fn.call(module.exports, module.exports, createRequire(bundle.filename), module, bundle.filename, dirname(bundle.filename));
  const adds = cacheDir && file && !kinds.includes(kind);
  return { exports: module.exports, saveCache: adds ? () => saveCache(cacheDir, file, build, script, [...kinds, kind]) : undefined };
}

/**
 * The kind of command a command line runs, as far as the code it compiles goes: its command word,
 * or "preset". A guess from the words before `--` (a pod named "list" passes for the list command:
 * it only decides which run adds to the cache).
 */
export function commandKind(args: string[]): string {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).find((a) => COMMAND_KINDS.includes(a)) ?? 'preset';
}

const COMMAND_KINDS = ['__complete', 'presets', 'list', 'attach', 'capture', 'collect', 'sessions', 'cleanup'];

/** Runs the bundle, and saves its code cache as the process exits when this run adds to it. */
export function runBundleCached(bundle: Bundle, env: NodeJS.ProcessEnv, args: string[]): unknown {
  const { exports, saveCache } = runBundle(bundle, codeCacheDir(env), commandKind(args));
  if (saveCache) process.once('exit', saveCache);
  return exports;
}

function saveCache(dir: string, file: string, build: string, script: Script, kinds: string[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(`${JSON.stringify({ kinds })}\n`), script.createCachedData()]), { mode: 0o600 });
    // A concurrent run sees the old file or the new one, never half of one.
    renameSync(tmp, file);
    // Caches of other builds are never read again (other Node versions' are kept).
    for (const f of readdirSync(dir)) if (f.startsWith('main-') && !f.startsWith(build) && !f.endsWith('.tmp')) rmSync(join(dir, f), { force: true });
  } catch {
    rmSync(tmp, { force: true });
  }
}
