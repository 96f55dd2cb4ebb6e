#!/usr/bin/env bash
# Builds krew's own tools from the Go module proxy, once per version, into
# $KE_CACHE/bin/krew-<v>/: kubectl-krew (krew itself, named as kubectl finds it) and
# validate-krew-manifest (the krew-index CI's validator). Prints that directory as its last line.
set -euo pipefail
# shellcheck source=scripts/versions.sh
source "$(dirname "$0")/../versions.sh"

export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=-buildvcs=false CGO_ENABLED=0
out="$KE_CACHE/bin/krew-$KREW_VERSION"
if [ -x "$out/kubectl-krew" ] && [ -x "$out/validate-krew-manifest" ]; then
  echo "$out"; exit 0
fi
mkdir -p "$out"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "build-tools: building sigs.k8s.io/krew $KREW_VERSION (about a minute cold)" >&2
# krew's own release build stamps its tag; without it `kubectl krew version` says "unknown".
ld="-s -w -X sigs.k8s.io/krew/internal/version.gitTag=$KREW_VERSION"
# `go install pkg@version` builds against krew's own go.mod (it has no replace lines), outside any module.
GOBIN="$tmp" go install -ldflags "$ld" \
  "sigs.k8s.io/krew/cmd/krew@$KREW_VERSION" \
  "sigs.k8s.io/krew/cmd/validate-krew-manifest@$KREW_VERSION" >&2
mv "$tmp/validate-krew-manifest" "$out/validate-krew-manifest"
mv "$tmp/krew" "$out/kubectl-krew"
echo "$out"
