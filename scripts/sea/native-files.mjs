// node-pty's native files for one target, as the executable carries them (SEA assets that
// scripts/sea/native-addon.cjs writes to the user's cache and loads). Linux x64 uses the checkout's
// own build (node-pty compiles at npm install); linux arm64 is cross-built here with Debian's
// aarch64 gcc against the arm64 runtime's headers, once per node-pty and Node version; darwin uses
// node-pty's prebuilds (pty.node and the spawn-helper macOS spawns through), windows its ConPTY prebuilds.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, ensureRuntime, RELEASE_NODE_VERSION } from './targets.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const ptyRoot = dirname(require.resolve('node-pty/package.json'));
const ptyVersion = require('node-pty/package.json').version;

/** The files, each { name, src, mode }, for a target ({ platform, nodeArch }). */
export function nativeFiles(target) {
  const { platform, nodeArch } = target;
  if (platform === 'win32') {
    // ConPTY as node-pty runs it with useConpty and useConptyDll (src/terminal/pty-loader.ts):
    // conpty.node loads conpty\conpty.dll from its own directory, which starts OpenConsole.exe from
    // its own. No winpty (pty.node, for useConpty off) and no conpty_console_list.node (forked by
    // node-pty's kill only without the DLL).
    const dir = join(ptyRoot, 'prebuilds', `win32-${nodeArch}`);
    return ['conpty.node', 'conpty/conpty.dll', 'conpty/OpenConsole.exe'].map((name) => ({ name, src: join(dir, name), mode: 0o755 }));
  }
  if (platform === 'darwin') {
    const dir = join(ptyRoot, 'prebuilds', `darwin-${nodeArch}`);
    return [
      { name: 'pty.node', src: join(dir, 'pty.node'), mode: 0o755 },
      // macOS spawns through a helper that must sit beside the addon, executable.
      { name: 'spawn-helper', src: join(dir, 'spawn-helper'), mode: 0o755 },
    ];
  }
  if (nodeArch === process.arch && process.platform === 'linux') {
    const addon = join(ptyRoot, 'build/Release/pty.node');
    if (!existsSync(addon)) throw new Error(`node-pty has no ${addon}: run npm rebuild node-pty`);
    return [{ name: 'pty.node', src: addon, mode: 0o755 }];
  }
  if (nodeArch === 'arm64' && process.platform === 'linux' && process.arch === 'x64') return [{ name: 'pty.node', src: crossBuildLinuxArm64(target), mode: 0o755 }];
  throw new Error(`no way to build node-pty for ${platform}-${nodeArch} on ${process.platform}-${process.arch}`);
}

/** pty.node for linux/arm64, built with aarch64-linux-gnu-g++ by node-gyp (npm's own). */
function crossBuildLinuxArm64(target) {
  const dir = join(cacheDir(), 'release', `node-pty-${ptyVersion}-linux-arm64-node-v${RELEASE_NODE_VERSION}`);
  const out = join(dir, 'pty.node');
  if (existsSync(out)) return out;
  const { headers } = ensureRuntime(target);
  for (const tool of ['aarch64-linux-gnu-gcc', 'aarch64-linux-gnu-g++'])
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} not found: scripts/sea/host-tools.sh installs Debian's gcc-aarch64-linux-gnu and g++-aarch64-linux-gnu`);
    }
  const nodeGyp = join(execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim(), 'npm/node_modules/node-gyp/bin/node-gyp.js');
  if (!existsSync(nodeGyp)) throw new Error(`npm's node-gyp not found at ${nodeGyp}`);
  mkdirSync(dirname(dir), { recursive: true });
  const work = mkdtempSync(`${dir}.build-`);
  try {
    // A copy of node-pty's sources: the checkout's own build (linux x64) stays as it is.
    for (const f of ['binding.gyp', 'src', 'scripts', 'package.json']) if (existsSync(join(ptyRoot, f))) cpSync(join(ptyRoot, f), join(work, f), { recursive: true });
    process.stderr.write(`native-files: cross-building node-pty ${ptyVersion} for linux/arm64 (aarch64-linux-gnu-g++)\n`);
    execFileSync(process.execPath, [nodeGyp, 'rebuild', '--arch=arm64', `--nodedir=${dirname(dirname(headers))}`], {
      cwd: work,
      stdio: ['ignore', 'ignore', 'inherit'],
      // binding.gyp asks `node -p "require('node-addon-api')"`: resolved from the checkout.
      env: { ...process.env, NODE_PATH: join(root, 'node_modules'), CC: 'aarch64-linux-gnu-gcc', CXX: 'aarch64-linux-gnu-g++', LINK: 'aarch64-linux-gnu-g++', AR: 'aarch64-linux-gnu-ar', npm_config_devdir: join(work, '.gyp') },
    });
    mkdirSync(`${dir}.tmp`, { recursive: true });
    cpSync(join(work, 'build/Release/pty.node'), join(`${dir}.tmp`, 'pty.node'));
    rmSync(dir, { recursive: true, force: true });
    renameSync(`${dir}.tmp`, dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(`${dir}.tmp`, { recursive: true, force: true });
  }
  return out;
}
