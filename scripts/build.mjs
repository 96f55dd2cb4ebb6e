// Bundles src/ into plugin/: a launcher named kubectl-ephemeral that runs the bundle on Node >= 22.19
// (the project's pinned runtime when run from a checkout). A small CommonJS entry answers
// `--version` and `--help` (rendered once at build time for the built-in presets) by itself and
// loads main, one CommonJS file whose modules are evaluated on first import, for the rest:
// `presets` never evaluates the Kubernetes client or node-pty.
// scripts/build-binary.mjs reuses bundleOptions() and renderHelp() for the single CommonJS file.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version = process.env.KUBECTL_EPHEMERAL_VERSION ?? `v${pkg.version}`;
const lib = join(root, 'plugin/lib');
const requireBuiltin = createRequire(import.meta.url);

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Built-ins whose exports are plain functions and classes, never used before the first API request
 * by most commands, yet loaded by whoever imports them at the top: child_process (the kubectl
 * runner), crypto (audit hashes), util (yargs; reading its exports one by one, as esbuild's
 * interop does, also loads the lazy ones: parseArgs, TextDecoder, worker_threads ...), assert
 * (yargs, for its own checks). Each gets a stand-in whose exports, named at build time, load the
 * module on first use; assert's stand-in is also a function that calls assert.
 */
const LAZY_BUILTINS = new Set(['assert', 'child_process', 'crypto', 'util', 'zlib', 'readline', 'readline/promises']);

/**
 * Built-in modules through require(), never ES module import: an ES module import of node:http or
 * node:https builds the module's ES facade, which reads every export, the lazy fetch/WebSocket
 * getters too, and so loads undici (~25 ms of start-up), and an import() left in a CommonJS bundle
 * keeps the single executable from having a code cache. Each built-in becomes a CommonJS module of
 * one require, evaluated on first import (LAZY_BUILTINS: on first use).
 */
const builtinsViaRequire = {
  name: 'builtins-via-require',
  setup(b) {
    const names = builtinModules.filter((m) => !m.startsWith('_')).map(escapeRegExp).join('|');
    b.onResolve({ filter: new RegExp(`^(node:)?(${names})$`) }, (args) =>
      // The stub's own require stays a plain require of the built-in.
      args.namespace === 'builtin' ? { path: args.path, external: true } : { path: args.path.startsWith('node:') ? args.path : `node:${args.path}`, namespace: 'builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => {
      const name = args.path.slice('node:'.length);
      const id = JSON.stringify(args.path);
      if (!LAZY_BUILTINS.has(name)) return { contents: `module.exports = require(${id});`, loader: 'js' };
      const mod = requireBuiltin(args.path);
      const callable = typeof mod === 'function';
      const keys = Object.getOwnPropertyNames(mod).filter((k) => !(callable && ['length', 'name', 'prototype'].includes(k)));
      return {
        contents: [
          'let mod;',
          `const load = () => (mod ??= require(${id}));`,
          ...(callable ? ['module.exports = function (...args) { return load()(...args); };'] : []),
          `for (const key of ${JSON.stringify(keys)})`,
          '  Object.defineProperty(module.exports, key, { enumerable: true, get: () => load()[key], set: (v) => { load()[key] = v; } });',
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

/**
 * string-width (yargs, cliui and wrap-ansi each import one) builds an Intl.Segmenter when it is
 * evaluated: the first use of Intl loads ICU data, ~20 ms. It is only needed to lay out help and
 * usage errors, so each import gets a stand-in that evaluates the real module on its first call.
 */
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData?.real) return undefined;
      const real = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { real: true } });
      // Relative, as esbuild names files in the bundle: an absolute path would differ per checkout.
      return real.errors.length ? { errors: real.errors } : { path: relative(root, real.path), namespace: 'lazy-string-width' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-string-width' }, (args) => ({
      contents: `let width;\nexport default function stringWidth(text, options) {\n  width ??= require(${JSON.stringify(`./${basename(args.path)}`)}).default;\n  return width(text, options);\n}\n`,
      resolveDir: dirname(join(root, args.path)),
      loader: 'js',
    }));
  },
};

/**
 * yargs checks the arguments of each call to its own API (argsert: a usage string parsed per call,
 * then only a console warning on a mismatch): with the ~60 options a preset command declares, ~2 ms
 * of a debug session's parse. The calls are the plugin's own, fixed in src/cli; the unit tests run
 * yargs unbundled, checks included, so a wrong call still shows there.
 */
const yargsWithoutArgsert = {
  name: 'yargs-without-argsert',
  setup(b) {
    b.onLoad({ filter: /[\\/]yargs[\\/]build[\\/]lib[\\/]argsert\.js$/ }, () => ({ contents: 'export function argsert() {}\n', loader: 'js' }));
  },
};

/** esbuild options shared with scripts/build-binary.mjs: one CommonJS file (what a Node SEA needs). */
export function bundleOptions({ outfile, external = [], plugins = [], help = '' }) {
  return {
    entryPoints: [join(root, 'src/entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'warning',
    define: {
      'import.meta.url': '__importMetaUrl',
      __KUBECTL_EPHEMERAL_VERSION__: JSON.stringify(version),
      __KUBECTL_EPHEMERAL_HELP__: JSON.stringify(help),
    },
    banner: { js: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    // ws probes these optional accelerators inside try/catch; they are never installed.
    external: ['bufferutil', 'utf-8-validate', ...external],
    plugins: [builtinsViaRequire, lazyStringWidth, yargsWithoutArgsert, ...plugins],
  };
}

/**
 * How the entry's `import('./main.js')` loads main, as a virtual module: src/code-cache.ts runs the
 * main bundle with a V8 code cache. `source` is the JavaScript expression of the bundle's text
 * and `filename` of its path; `buildHash` is the bundle's SHA-256.
 */
export function mainLoaderPlugin({ source, filename, buildHash }) {
  return {
    name: 'main-loader',
    setup(b) {
      b.onResolve({ filter: /^\.\/main\.js$/ }, (args) => (args.importer.endsWith(join('src', 'entry.ts')) ? { path: 'main', namespace: 'main-loader' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'main-loader' }, () => ({
        contents: [
          `const { runBundleCached } = require(${JSON.stringify(join(root, 'src/code-cache.ts'))});`,
          `const filename = ${filename};`,
          `module.exports = runBundleCached({ source: ${source}, filename, buildHash: ${JSON.stringify(buildHash)} }, process.env, process.argv.slice(2));`,
        ].join('\n'),
        resolveDir: root,
        loader: 'js',
      }));
    },
  };
}

/**
 * Options for main as src/code-cache.ts runs it: one function expression of Node's CommonJS
 * parameters, so that V8 compiles the file's own text (no wrapped copy of it), with comments and
 * blanks dropped (their non-ASCII characters made V8 hold the whole source in two bytes a
 * character: 4 MB of heap for a 1 MB file).
 */
export function mainBundleOptions(opts) {
  return {
    ...opts,
    minifyWhitespace: true,
    banner: { js: `(function (exports, require, module, __filename, __dirname) {${opts.banner.js}` },
    footer: { js: '\n})' },
  };
}

/** The SHA-256 of a built file (what names its code cache). */
export function fileHash(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * Development build, part 1: the entry as a small CommonJS file that answers --help and --version
 * alone and loads main.cjs next to it for the rest (through src/code-cache.ts).
 */
function devEntryOptions(help, mainHash) {
  const opts = bundleOptions({ outfile: join(lib, 'kubectl-ephemeral.cjs'), help });
  const loader = mainLoaderPlugin({
    source: 'require("node:fs").readFileSync(filename, "utf8")',
    filename: 'require("node:path").join(__dirname, "main.cjs")',
    buildHash: mainHash,
  });
  return { ...opts, plugins: [...opts.plugins, loader] };
}

/**
 * Development build, part 2: main as one CommonJS file; node-pty stays external (the checkout's
 * build of it). esbuild wraps each module reached through import() in a function run on first
 * use, so a command evaluates only what it imports, as split ES chunks did, without the ES module
 * loader's cost per chunk (resolution, linking, a facade per built-in).
 */
function devMainOptions(help) {
  return mainBundleOptions({ ...bundleOptions({ outfile: join(lib, 'main.cjs'), external: ['node-pty'], help }), entryPoints: [join(root, 'src/main.ts')] });
}

async function buildDev(help, metafile) {
  // main first: the entry names main's code cache after main's hash.
  const main = await build({ ...devMainOptions(help), metafile: true });
  assertNoDynamicImport(main.metafile);
  const entry = await build({ ...devEntryOptions(help, fileHash(join(lib, 'main.cjs'))), metafile });
  return { inputs: { ...entry.metafile?.inputs, ...main.metafile?.inputs }, outputs: { ...entry.metafile?.outputs, ...main.metafile?.outputs } };
}

/** main runs as a vm.Script, which has no module loader: an import() left in it would fail at run time. */
export function assertNoDynamicImport(metafile) {
  for (const [file, out] of Object.entries(metafile.outputs))
    if (out.imports.some((i) => i.kind === 'dynamic-import')) throw new Error(`${file} keeps an import() of ${out.imports.find((i) => i.kind === 'dynamic-import').path}: it would fail when run from the code cache loader`);
}

/**
 * Runs a first build's `--help` with no user preset file: the text the final build embeds.
 * `run(args, env)` executes that first build.
 */
export function renderHelp(run) {
  const home = mkdtempSync(join(tmpdir(), 'ke-help-'));
  try {
    // A fresh HOME has no preset file (a named one that is missing would be an error).
    const env = { PATH: process.env.PATH, HOME: home };
    return run(['--help'], env).replace(/\n$/, '');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * V8 flags the plugin runs with (the launcher's and the single executable's): young-generation
 * semi-spaces of 1 MB instead of growing to 8-16 MB. Start-up allocates a few MB of short-lived
 * objects; with the default the new space grew to 8 MB and the peak RSS with it (measured on
 * `shell POD --dry-run -o yaml`: 66 MB instead of 70-76 MB, CPU time unchanged).
 */
export const NODE_FLAGS = ['--max-semi-space-size=1'];

const launcher = `#!/bin/sh
# kubectl-ephemeral launcher (development build): runs the bundle on Node >= 22.19.
# KUBECTL_EPHEMERAL_NODE picks the runtime; otherwise the checkout's pinned Node 24, then node on PATH.
# Through a symlink (npm's bin link), the plugin's own directory; readlink is a process of its
# own, ~2 ms of a start that --help keeps near bare node's, so only then.
self=$0
[ -L "$self" ] && self=$(readlink -f "$self")
case $self in */*) ;; *) self=./$self ;; esac
dir=\${self%/*}
node=\${KUBECTL_EPHEMERAL_NODE:-}
[ -n "$node" ] || { [ -x "$dir/../node_modules/node/bin/node" ] && node="$dir/../node_modules/node/bin/node"; }
[ -n "$node" ] || node=node
exec "$node" ${NODE_FLAGS.join(' ')} "$dir/lib/kubectl-ephemeral.cjs" "$@"
`;

async function main() {
  rmSync(lib, { recursive: true, force: true });
  mkdirSync(lib, { recursive: true });
  await buildDev('', false);
  const help = renderHelp((args, env) => execFileSync(process.execPath, [join(lib, 'kubectl-ephemeral.cjs'), ...args], { env, encoding: 'utf8' }));
  rmSync(lib, { recursive: true, force: true });
  const metafile = process.argv.includes('--metafile');
  const meta = await buildDev(help, metafile);
  if (metafile) writeFileSync(join(root, 'dist-meta.json'), JSON.stringify(meta));
  const file = join(root, 'plugin', 'kubectl-ephemeral');
  writeFileSync(file, launcher);
  chmodSync(file, 0o755);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
