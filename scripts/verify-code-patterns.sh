#!/usr/bin/env bash
# Forbids the shortcuts the team agreed to avoid (see ../shared/STYLE.md, rule 10). Run by npm test.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
fail=0
check() { # description, grep -E pattern, files to search, files allowed to match
  local what=$1 pattern=$2 where=$3 allowed=$4 hits
  # shellcheck disable=SC2086 # $where is a list of folders
  hits=$(grep -rnE "$pattern" $where --include='*.ts' | grep -vE "$allowed" || true)
  if [ -n "$hits" ]; then echo "verify-code-patterns: $what:" >&2; echo "$hits" >&2; fail=1; fi
}
check 'process.exit outside src/main.ts' 'process\.exit\(' src '^src/main\.ts:'
check 'console.* outside src/output' '\bconsole\.(log|error|warn|info|debug)\(' src '^src/output/'
check '@kubernetes/client-node (values) outside src/kube' "^import [^t].*from '@kubernetes/client-node'" src '^src/kube/'
check 'node-pty outside src/terminal' "(from|require\\()\\s*'node-pty'" src '^src/terminal/'
# The printer escapes control characters from the cluster: text reaches the console through it.
check 'process.stdout/stderr.write outside src/output and src/terminal (print through the Printer, which escapes)' 'process\.(stdout|stderr)\.write\(' src '^src/(output|terminal)/'
check 'a stack trace printed outside main.ts' '\.stack\b' src '^src/main\.ts:'
check 'watching a pod outside the one waiter (src/debug/wait-for-container.ts)' '\.watchPod\(' src '^src/(kube/cluster-api|debug/wait-for-container)\.ts:'
# Dependencies point one way, down the layers: completion -> cli -> commands -> debug -> plan ->
# presets -> kube | output | terminal -> input -> errors. A folder imports only folders of a lower
# layer (types included); a new folder of src/ must be placed here first. Files at the top of src/
# (main.ts, entry.ts) wire everything and may import anything; of them, version.ts is for all and
# context.ts (the CommandContext the commands are handed) for debug and above.
layer_hits=$(node - <<'NODE'
const { readdirSync, readFileSync, statSync } = require('node:fs');
const { dirname, join, relative, resolve } = require('node:path');
const layers = { completion: 8, cli: 7, commands: 6, debug: 5, plan: 4, presets: 3, kube: 2, output: 2, terminal: 2, input: 1, errors: 0 };
const top = (file) => { const parts = relative('src', file).split('/'); return parts.length > 1 ? parts[0] : undefined; };
const walk = (dir) => readdirSync(dir).flatMap((n) => { const p = join(dir, n); return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : []; });
for (const file of walk('src')) {
  const from = top(file);
  if (from === undefined) continue;
  readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    for (const m of line.matchAll(/(?:from|import\()\s*'(\.[^']*)'/g)) {
      const target = relative('.', resolve(dirname(file), m[1]));
      const to = top(target);
      if (to === from || /^src\/version\.js$/.test(target) || (/^src\/context\.js$/.test(target) && layers[from] >= layers.debug)) continue;
      if (!(from in layers) || to === undefined || !(to in layers) || layers[to] >= layers[from])
        console.log(`${file}:${i + 1}: ${from} -> ${to ?? 'the top of src/'}`);
    }
  });
}
NODE
)
if [ -n "$layer_hits" ]; then echo "verify-code-patterns: an import that runs up the layers (or a folder not placed in them):" >&2; echo "$layer_hits" >&2; fail=1; fi
# Shell scripts: shellcheck (installed from Debian when missing, as the test tools are).
if ! command -v shellcheck >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; } ||
    { echo "verify-code-patterns: shellcheck is missing and could not be installed" >&2; fail=1; }
fi
if command -v shellcheck >/dev/null; then
  shellcheck -x scripts/*.sh scripts/node/*.sh .ci/run >&2 || { echo "verify-code-patterns: shellcheck found problems (above)" >&2; fail=1; }
fi
exit $fail
