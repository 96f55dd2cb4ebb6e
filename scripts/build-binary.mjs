// Builds dist/kubectl-ephemeral(.exe): a Node single executable (SEA) of the plugin that needs no
// Node on the machine. The bundle is scripts/build.mjs's, with node-pty bundled too: its addon
// travels as an SEA asset that scripts/sea/native-addon.cjs writes to the user's cache and dlopens.
// Without --target: this machine's executable, on the project's pinned Node (node_modules/node),
// the same binary that makes the blob, as a blob only runs on the Node version that made it.
// With --target os/arch (release.sh): that platform's executable on the release runtime
// (scripts/sea/targets.mjs), its blob made by this machine's runtime of the same version (the blob
// is the same on every platform but for the V8 code cache, made only for this machine's platform);
// darwin executables are signed ad hoc with rcodesign after injection.
//
//   node scripts/build-binary.mjs [--target os/arch] [--entry FILE] [--out FILE] [--no-code-cache] [--no-strip] [--no-check]
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { assertNoDynamicImport, bundleOptions, fileHash, mainBundleOptions, mainLoaderPlugin, NODE_FLAGS, renderHelp } from './build.mjs';
import { patchConoutConnection } from './sea/conout-worker.mjs';
import { nativeFiles } from './sea/native-files.mjs';
import { cacheDir, ensureRuntime, findTarget, hostTarget } from './sea/targets.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const exe = process.platform === 'win32' ? '.exe' : '';
/** The rcodesign (crates.io apple-codesign) scripts/sea/host-tools.sh installs. */
export const RCODESIGN_VERSION = '0.29.0';
// The fuse postject flips so that Node looks for the blob; fixed across Node versions.
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const OPTIONAL_WS_MODULES = ['bufferutil', 'utf-8-validate'];

const log = (msg) => process.stderr.write(`build-binary: ${msg}\n`);
const mb = (bytes) => `${(bytes / 1048576).toFixed(1)} MB`;

/** The pinned runtime: node_modules/node's binary, else the Node running this script. */
export function runtimePath() {
  const pinned = join(root, 'node_modules/node/bin', `node${exe}`);
  return existsSync(pinned) ? pinned : process.execPath;
}

/** esbuild plugins for the SEA bundle: node-pty's loader and conout worker redirected, ws's optional modules stubbed. */
function seaPlugins() {
  return [
    {
      name: 'node-pty-sea-loader',
      setup(b) {
        b.onLoad({ filter: /[\\/]node-pty[\\/]lib[\\/]utils\.js$/ }, () => ({
          contents: readFileSync(join(root, 'scripts/sea/native-addon.cjs'), 'utf8'),
          loader: 'js',
        }));
        // ConPTY's output is drained on a worker thread node-pty starts from a file beside it: from
        // its source here (scripts/sea/conout-worker.mjs). Only Windows runs it; every target
        // bundles the same code, so the Linux packaging test proves the patched one.
        b.onLoad({ filter: /[\\/]node-pty[\\/]lib[\\/]windowsConoutConnection\.js$/ }, (args) => ({
          contents: patchConoutConnection(readFileSync(args.path, 'utf8'), dirname(args.path)),
          loader: 'js',
        }));
      },
    },
    {
      name: 'optional-module-stub',
      setup(b) {
        const filter = new RegExp(`^(${OPTIONAL_WS_MODULES.join('|')})$`);
        // One module per name: a CommonJS module that throws is cached as {} on its second require.
        b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'optional-module-stub' }));
        b.onLoad({ filter: /.*/, namespace: 'optional-module-stub' }, () => ({
          contents: readFileSync(join(root, 'scripts/sea/optional-module-stub.cjs'), 'utf8'),
          loader: 'js',
        }));
      },
    },
  ];
}

/**
 * The executable's two scripts: its SEA main, the small entry that answers --help and --version
 * alone (compiled with the blob's code cache), and main.cjs, an SEA asset that the entry runs
 * through src/code-cache.ts with a code cache in the user's cache directory (the blob's code cache
 * only holds what V8 compiles up front, and compiling the whole bundle first made --help slow).
 * With --entry, one stand-in script and no asset.
 */
async function bundle({ entry, work, native }) {
  const outfile = join(work, 'kubectl-ephemeral.cjs');
  if (entry) {
    assertNoDynamicImport((await bundleOnce({ entry, outfile, native, help: '' })).metafile);
    return { main: outfile, assets: {} };
  }
  // First pass: entry and main in one file, run once to render the --help text the entry embeds.
  await bundleOnce({ outfile, native, help: '' });
  const help = renderHelp((args, env) => execFileSync(process.execPath, [outfile, ...args], { env, encoding: 'utf8' }));
  const mainFile = join(work, 'main.cjs');
  const main = await bundleOnce({ entryPoint: join(root, 'src/main.ts'), outfile: mainFile, native, help, asMain: true });
  assertNoDynamicImport(main.metafile);
  const loader = mainLoaderPlugin({
    source: 'require("node:sea").getAsset("main.cjs", "utf8")',
    // Stack traces name it; require() resolves from it (built-ins only: nothing else is external).
    filename: 'require("node:path").join(require("node:path").dirname(process.execPath), "main.cjs")',
    buildHash: fileHash(mainFile),
  });
  assertNoDynamicImport((await bundleOnce({ outfile, native, help, plugins: [loader] })).metafile);
  return { main: outfile, assets: { 'main.cjs': mainFile } };
}

async function bundleOnce({ entry, entryPoint, outfile, native, help, plugins = [], asMain = false }) {
  const base = bundleOptions({ outfile, plugins: [...plugins, ...seaPlugins()], help });
  const opts = asMain ? mainBundleOptions(base) : base;
  opts.external = opts.external.filter((m) => !OPTIONAL_WS_MODULES.includes(m));
  opts.define = { ...opts.define, __KUBECTL_EPHEMERAL_NATIVE__: JSON.stringify(native) };
  // The blob carries the source verbatim: dropping comments and blanks shrinks it and its parse.
  opts.minifyWhitespace = true;
  if (entryPoint) opts.entryPoints = [entryPoint];
  if (entry) {
    opts.entryPoints = [resolve(entry)];
    opts.nodePaths = [join(root, 'node_modules')]; // a stand-in entry outside the tree
  }
  const result = await build({ ...opts, metafile: true });
  const { imports } = Object.values(result.metafile.outputs)[0];
  // Inside an SEA, require() reaches built-ins only: anything left external would fail at run time.
  const nonBuiltin = imports.filter((i) => i.external && !isBuiltin(i.path));
  if (nonBuiltin.length) throw new Error(`bundle leaves non-built-in modules external: ${nonBuiltin.map((i) => i.path).join(', ')}`);
  return result;
}

/**
 * Drops the Authenticode signature of a PE32+ file (the official node.exe's): injecting the blob
 * breaks it, and a broken signature is worse than none (Node's SEA guide removes it with signtool
 * first). The certificate table is the last thing in the file, named by data directory 4.
 */
export function removeAuthenticode(file) {
  const buf = readFileSync(file);
  const pe = buf.readUInt32LE(0x3c);
  if (buf.toString('latin1', pe, pe + 4) !== 'PE\0\0') throw new Error(`${file} is not a PE file`);
  const optional = pe + 24;
  if (buf.readUInt16LE(optional) !== 0x20b) throw new Error(`${file} is not PE32+`);
  const entry = optional + 112 + 4 * 8;
  const offset = buf.readUInt32LE(entry);
  const size = buf.readUInt32LE(entry + 4);
  if (!size) return;
  if (offset + size !== buf.length) throw new Error(`${file}: the certificate table is not at the end of the file`);
  buf.writeUInt32LE(0, entry);
  buf.writeUInt32LE(0, entry + 4);
  writeFileSync(file, buf.subarray(0, offset));
}

/** rcodesign: $KE_RCODESIGN, else the one scripts/sea/host-tools.sh installed into the cache. */
export function rcodesignPath() {
  const file = process.env.KE_RCODESIGN ?? join(cacheDir(), 'bin', `rcodesign-${RCODESIGN_VERSION}`, 'rcodesign');
  if (!existsSync(file)) throw new Error(`${file} not found: bash scripts/sea/host-tools.sh installs rcodesign (crates.io apple-codesign ${RCODESIGN_VERSION}) to sign darwin executables`);
  return file;
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], ...opts });
}

/** Builds the executable; returns sizes for the report. */
export async function buildBinary({ target: targetName, entry, out, codeCache = true, strip = true, check = true } = {}) {
  const host = hostTarget();
  const target = targetName ? findTarget(targetName) : host;
  // A release carries the release runtime; a development build the checkout's pinned one.
  const runtime = targetName ? ensureRuntime(target).node : runtimePath();
  const blobMaker = targetName ? ensureRuntime(host).node : runtime;
  out ??= join(root, 'dist', target.exe);
  const work = join(dirname(out), 'sea');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  const files = nativeFiles(target);
  const hash = createHash('sha256');
  for (const f of files) hash.update(f.name).update(readFileSync(f.src));
  const native = {
    dir: `native-${target.platform}-${target.nodeArch}-${hash.digest('hex').slice(0, 16)}`,
    // The loader writes a file again unless its SHA-256 is this one (size alone would let a
    // same-sized pty.node planted in the cache be loaded).
    files: files.map((f) => ({ name: f.name, size: statSync(f.src).size, mode: f.mode, sha256: createHash('sha256').update(readFileSync(f.src)).digest('hex') })),
  };

  const { main, assets } = await bundle({ entry, work, native });
  log(`${target.os}/${target.arch}: bundle ${[main, ...Object.values(assets)].map((f) => `${basename(f)} ${mb(statSync(f).size)}`).join(', ')}`);
  // The V8 code cache is only valid on the platform that made it: this machine's own.
  const useCodeCache = codeCache && target === host;

  const blob = join(work, 'sea-prep.blob');
  // main and output relative to the blob maker's cwd (work): the blob records main's path as given,
  // and an absolute one (the output directory's) would make two builds of one commit differ.
  const config = {
    main: relative(work, main),
    output: relative(work, blob),
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache,
    execArgv: NODE_FLAGS,
    assets: { ...Object.fromEntries(files.map((f) => [f.name, f.src])), ...assets },
  };
  writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config, null, 2));
  const gen = spawnSync(blobMaker, ['--experimental-sea-config', 'sea-config.json'], { cwd: work, encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(`making the SEA blob failed: ${gen.stdout}${gen.stderr}`);

  mkdirSync(dirname(out), { recursive: true });
  rmSync(out, { force: true });
  copyFileSync(runtime, out);
  chmodSync(out, 0o755);
  const runtimeSize = statSync(out).size;
  // Strip before injecting: stripping afterwards drops the blob's note and the binary segfaults.
  if (strip && target.platform === 'linux') {
    // binutils warns once per note section of Node's binary ("Can't find string offset"): noise.
    const tool = target.nodeArch === process.arch ? 'strip' : 'aarch64-linux-gnu-strip';
    const r = spawnSync(tool, ['--strip-all', out], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`strip failed: ${r.stderr}`);
  }
  const strippedSize = statSync(out).size;
  if (target.platform === 'darwin' && process.platform === 'darwin') run('codesign', ['--remove-signature', out]);
  if (target.platform === 'win32') removeAuthenticode(out);

  // postject's CLI in a child: its ELF parser warns about each of Node's many note sections.
  const postject = [join(dirname(require.resolve('postject/package.json')), 'dist/cli.js'), out, 'NODE_SEA_BLOB', blob,
    '--sentinel-fuse', SEA_FUSE, '--overwrite'];
  if (target.platform === 'darwin') postject.push('--macho-segment-name', 'NODE_SEA');
  const p = spawnSync(blobMaker, postject, { encoding: 'utf8' });
  const noise = /^warning: Can't find string offset for section name/;
  const said = `${p.stdout}${p.stderr}`
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .filter((l) => l && !noise.test(l) && !/^(Start injection|💉 Injection done)/u.test(l));
  if (p.status !== 0) throw new Error(`postject failed: ${said.join('\n')}`);
  if (said.length) log(`postject: ${said.join('; ')}`);
  // macOS on arm64 runs no executable whose signature does not match its bytes: ad hoc is enough.
  if (target.platform === 'darwin' && process.platform === 'darwin') run('codesign', ['--sign', '-', out]);
  else if (target.platform === 'darwin') run(rcodesignPath(), ['sign', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  const size = statSync(out).size;

  if (check && target === host) {
    // From an empty directory, with no node reachable: the executable must stand alone.
    const cwd = mkdtempSync(join(tmpdir(), 'ke-sea-check-'));
    try {
      // Windows cannot start a process without SystemRoot; it holds no node either.
      const env = { PATH: '/nonexistent', HOME: cwd, ...(process.platform === 'win32' ? { SystemRoot: process.env.SystemRoot } : {}) };
      const v = run(out, ['--version'], { cwd, env }).toString().trim();
      log(`check: ${out} --version -> ${v}`);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }
  log(`${target.os}/${target.arch}: runtime ${mb(runtimeSize)}, stripped ${mb(strippedSize)}, executable ${mb(size)}, code cache ${useCodeCache ? 'on' : 'off'}`);
  return { out, runtimeSize, strippedSize, size, useCodeCache };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' },
      entry: { type: 'string' },
      out: { type: 'string' },
      'no-code-cache': { type: 'boolean', default: false },
      'no-strip': { type: 'boolean', default: false },
      'no-check': { type: 'boolean', default: false },
    },
  });
  await buildBinary({
    target: values.target,
    entry: values.entry,
    out: values.out ? resolve(values.out) : undefined,
    codeCache: !values['no-code-cache'],
    strip: !values['no-strip'],
    check: !values['no-check'],
  });
}
