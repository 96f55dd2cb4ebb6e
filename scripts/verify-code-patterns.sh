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
# Dependencies point one way: cli -> commands -> debug -> plan/presets; kube, terminal, output and input sit below.
check 'src/plan or src/presets importing a layer above them' "from '\.\./(commands|debug|cli|terminal)/" 'src/plan src/presets' '^$'
check 'src/debug importing src/commands or src/cli' "from '\.\./(commands|cli)/" src/debug '^$'
check 'src/kube, src/terminal, src/output or src/input importing a layer above them' "from '\.\./(commands|debug|cli)/" 'src/kube src/terminal src/output src/input' '^$'
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
