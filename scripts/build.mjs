// Bundles src/ into plugin/: one CommonJS file (the form a Node single executable needs too) and a
// launcher named kubectl-ephemeral that runs it on Node >= 22.19 (the project's pinned runtime when
// run from a checkout). `node scripts/build.mjs --metafile` also writes the bundle analysis.
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version = process.env.KUBECTL_EPHEMERAL_VERSION ?? `v${pkg.version}`;

/** esbuild options shared with scripts/build-binary.mjs. */
export function bundleOptions({ outfile, external = [], plugins = [] }) {
  return {
    entryPoints: [join(root, 'src/main.ts')],
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
    },
    banner: { js: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    // ws probes these optional accelerators inside try/catch; they are never installed.
    external: ['bufferutil', 'utf-8-validate', ...external],
    plugins,
  };
}

const launcher = `#!/bin/sh
# kubectl-ephemeral launcher (development build): runs the bundle on Node >= 22.19.
# KUBECTL_EPHEMERAL_NODE picks the runtime; otherwise the checkout's pinned Node 24, then node on PATH.
self=$(readlink -f "$0")
dir=$(dirname "$self")
node=\${KUBECTL_EPHEMERAL_NODE:-}
[ -n "$node" ] || { [ -x "$dir/../node_modules/node/bin/node" ] && node="$dir/../node_modules/node/bin/node"; }
[ -n "$node" ] || node=node
exec "$node" "$dir/lib/kubectl-ephemeral.cjs" "$@"
`;

async function main() {
  const lib = join(root, 'plugin/lib');
  mkdirSync(lib, { recursive: true });
  const metafile = process.argv.includes('--metafile');
  // node-pty stays external here: its native addon is found next to its own package.
  const result = await build({ ...bundleOptions({ outfile: join(lib, 'kubectl-ephemeral.cjs'), external: ['node-pty'] }), metafile });
  if (metafile) writeFileSync(join(root, 'dist-meta.json'), JSON.stringify(result.metafile));
  for (const [name, body] of [['kubectl-ephemeral', launcher]]) {
    const file = join(root, 'plugin', name);
    writeFileSync(file, body);
    chmodSync(file, 0o755);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
