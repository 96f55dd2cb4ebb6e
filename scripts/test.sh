#!/usr/bin/env bash
# The README's test command (`npm test`): builds the plugin, runs the unit tests, brings up the local
# cluster (control plane + one real node, built from the registries and cached), then the API suite,
# the packaging tests and the end-to-end sessions. Leaves the cluster up for the next run (reused in
# seconds); `scripts/cluster.sh down` stops it. KE_NO_NODE=1 skips the real node and the e2e suite.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
step() { printf '\n== %s\n' "$*" >&2; }

step "host tools the tests use"
# tcpdump decodes the pcaps the capture tests write; curl makes requests to pods from the host.
missing=()
for tool in tcpdump curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; }
fi

step "typecheck, code patterns and build"
npx tsc --noEmit -p tsconfig.json
bash scripts/verify-code-patterns.sh
npm run --silent build

step "unit tests"
npx jest --selectProjects unit --ci

step "local cluster"
if [ "${KE_NO_NODE:-}" = 1 ]; then scripts/cluster.sh up >/dev/null; else scripts/cluster.sh up --node >/dev/null; fi
scripts/cluster.sh status >&2 || true

step "API suite, packaging and end-to-end sessions"
projects=(integration)
[ "${KE_NO_NODE:-}" = 1 ] || projects+=(e2e)
npx jest --selectProjects "${projects[@]}" --ci --runInBand
