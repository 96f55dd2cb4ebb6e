// Builds what the packaging tests install (the single executable, the release archive, krew's
// tools) and runs it the way a user's machine would: no node on PATH, a private HOME, krew in its
// own KREW_ROOT. Nothing here needs the cluster.
import { execFile, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { accessSync, constants, copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

export const REPO = resolve(__dirname, '..', '..', '..');
export const NODE = join(REPO, 'node_modules', '.bin', 'node');
export const VERSION = `v${(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version}`;

/** krew's names for this machine. */
export const KREW_OS = process.platform === 'win32' ? 'windows' : process.platform;
export const KREW_ARCH = process.arch === 'x64' ? 'amd64' : process.arch;

const made: string[] = [];

/** A temp directory, removed by removeTempDirs (each suite's afterAll) or at exit. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ke-pkg-${prefix}-`));
  if (made.push(dir) === 1) process.once('exit', removeTempDirs);
  return dir;
}

/** Removes every directory tempDir made (each executable built here is over 100 MB). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The full path of a program on this PATH, or undefined. */
export function which(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return join(dir, program);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * A PATH of one directory holding only the named programs (symlinks): no node reachable, so the
 * executable proves it stands alone.
 */
export function isolatedPath(programs: Record<string, string>): string {
  const dir = tempDir('path');
  for (const [name, target] of Object.entries(programs)) symlinkSync(target, join(dir, name));
  return dir;
}

/** Runs a command, never throwing: status and both streams. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env, encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Like run, without blocking the event loop (for a server in this process to answer the child). */
export function runAsync(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env, encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000 }, (err, stdout, stderr) =>
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

function build(what: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 600_000): string {
  const r = spawnSync(cmd, args, { cwd: REPO, env, encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * Builds the single executable into a fresh directory (node scripts/build-binary.mjs --out), or with
 * entry a stand-in script bundled as the plugin is (--entry).
 */
export function buildExecutable(entry?: string): string {
  const out = join(tempDir('sea'), 'kubectl-ephemeral');
  build('scripts/build-binary.mjs', NODE, [join(REPO, 'scripts/build-binary.mjs'), '--out', out, ...(entry ? ['--entry', entry] : [])]);
  return out;
}

/** Builds one platform's release archive (scripts/release.sh archive; this machine's by default) into a fresh directory. */
export function buildReleaseArchive(p: Platform = { os: KREW_OS, arch: KREW_ARCH }): { dir: string; archive: string } {
  const dir = tempDir('release');
  build('scripts/release.sh archive', 'bash', [join(REPO, 'scripts/release.sh'), 'archive', `${p.os}/${p.arch}`], { ...process.env, KE_RELEASE_OUT: dir });
  return { dir, archive: join(dir, archiveName(p)) };
}

/** One platform, in krew's names. */
export interface Platform {
  os: string;
  arch: string;
}

/** krew's platforms: the list the release builds and the manifest names (scripts/krew/platforms.json). */
export const PLATFORMS: readonly Platform[] = JSON.parse(readFileSync(join(REPO, 'scripts', 'krew', 'platforms.json'), 'utf8')) as Platform[];

/** A platform's archive name. */
export function archiveName({ os, arch }: Platform): string {
  return `kubectl-ephemeral_${VERSION}_${os}_${arch}.${os === 'windows' ? 'zip' : 'tar.gz'}`;
}

/**
 * The release as `npm run release` makes it (scripts/release.sh): the five archives and the
 * manifest with their sha256, into a fresh directory. Cold (no runtimes, no rcodesign cached) this
 * takes minutes: the runtimes download and rcodesign compiles once per version.
 */
export function buildRelease(): { dir: string; manifest: string; archive: (p: Platform) => string } {
  const dir = tempDir('release');
  const manifest = join(dir, 'krew-manifest.yaml');
  build('scripts/release.sh', 'bash', [join(REPO, 'scripts/release.sh')], { ...process.env, KE_RELEASE_OUT: dir, KE_RELEASE_MANIFEST: manifest }, 1_800_000);
  return { dir, manifest, archive: (p) => join(dir, archiveName(p)) };
}

/** Unpacks an archive (tar.gz or zip) into a fresh directory. */
export function unpack(archive: string): string {
  const dir = tempDir('unpacked');
  if (archive.endsWith('.zip')) build('unzip', 'unzip', ['-q', archive, '-d', dir]);
  else build('tar', 'tar', ['-xzf', archive, '-C', dir]);
  return dir;
}

/** Renders the krew manifest for the archives in a directory to FILE (other platforms zeroed). */
export function renderManifest(archives: string, file: string): string {
  build('render-manifest.mjs', NODE, [join(REPO, 'scripts/krew/render-manifest.mjs'), '--archives', archives, '--out', file, '--allow-missing']);
  return file;
}

/** Why krew's tools cannot be built here, or undefined when they can. */
export function krewToolsUnavailable(): string | undefined {
  return which('go') ? undefined : 'no Go toolchain on PATH: krew and validate-krew-manifest are built from the Go module proxy';
}

/** The directory holding kubectl-krew and validate-krew-manifest (built once, cached). */
export function krewTools(): string {
  const lines = build('scripts/krew/build-tools.sh', 'bash', [join(REPO, 'scripts/krew/build-tools.sh')]).trim().split('\n');
  return lines[lines.length - 1]!;
}

/** validate-krew-manifest needs the file named after the plugin, as in krew-index. */
export function validateManifest(tools: string, manifest: string): SpawnSyncReturns<string> {
  const named = join(tempDir('validate'), 'ephemeral.yaml');
  copyFileSync(manifest, named);
  return run(join(tools, 'validate-krew-manifest'), ['-manifest', named, '-skip-install']);
}
