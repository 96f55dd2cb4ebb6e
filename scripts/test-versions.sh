#!/usr/bin/env bash
# `npm run test:versions`: the API suite (the control-plane tests: test/integration/plugin and
# test/integration/cluster.test.ts; no node needed) against each Kubernetes version of the matrix
# (K8S_MATRIX_VERSIONS in scripts/versions.sh, or the versions given as arguments). Each version runs
# its own control plane beside the default cluster (scripts/cluster.sh derives its state dir and
# ports from the version); binaries are built once per version and cached.
#
#   scripts/test-versions.sh [--down] [vX.Y.Z ...]
#     --down   stop each version's control plane after its suite (CI: frees memory and ports)
#
# Every version runs even when an earlier one fails; the exit code is non-zero if any failed. A
# version that cannot be built or started fails (under CI and locally alike): nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
export PATH="$REPO/node_modules/.bin:$PATH"
# shellcheck source=scripts/versions.sh
source scripts/versions.sh

down=0 versions=()
for a in "$@"; do
  case "$a" in
    --down) down=1 ;;
    v1.*) versions+=("$a") ;;
    *) echo "usage: $0 [--down] [v1.MINOR.PATCH ...]" >&2; exit 2 ;;
  esac
done
# shellcheck disable=SC2206 # a space-separated list by design
[ ${#versions[@]} -gt 0 ] || versions=($K8S_MATRIX_VERSIONS)

step() { printf '\n== %s\n' "$*" >&2; }
now() { date +%s; }

step "build the plugin"
npm run --silent build

results=() failed=0
for v in "${versions[@]}"; do
  state=$REPO/.state/cluster-$v
  [ "$v" = "$K8S_DEFAULT_VERSION" ] && state=$REPO/.state/cluster
  step "Kubernetes $v: control plane in $state"
  t0=$(now)
  if ! K8S_VERSION=$v KE_STATE_DIR=$state scripts/cluster.sh up >/dev/null; then
    results+=("$v: FAILED to build or start the control plane")
    failed=1
    continue
  fi
  t1=$(now)
  step "Kubernetes $v: API suite"
  # The version under test is the one the state dir's env names; the suite checks the server says it.
  if KE_STATE_DIR=$state npx jest --selectProjects integration --ci --runInBand \
    test/integration/plugin/ test/integration/cluster.test.ts; then
    results+=("$v: passed (control plane $((t1 - t0)) s, suite $(($(now) - t1)) s)")
  else
    results+=("$v: FAILED (control plane $((t1 - t0)) s, suite $(($(now) - t1)) s)")
    failed=1
  fi
  [ "$down" = 0 ] || K8S_VERSION=$v KE_STATE_DIR=$state scripts/cluster.sh down || true
done

step "versions"
printf '%s\n' "${results[@]}" >&2
exit $failed
