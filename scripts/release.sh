#!/usr/bin/env bash
# Release artifacts for the version in package.json, all built on this machine (linux/amd64) from
# registry packages (scripts/sea/targets.mjs: one Node version in all five).
#
#   scripts/release.sh                  the five archives (linux amd64/arm64, darwin amd64/arm64,
#                                       windows amd64), then krew-manifest.yaml with their sha256
#   scripts/release.sh archive [OS/ARCH] one archive (default: this machine's platform)
#   scripts/release.sh manifest DIR     krew-manifest.yaml from every platform's archive in DIR (all required)
#
# An archive is flat: kubectl-ephemeral(.exe), kubectl_complete-ephemeral (not on Windows), LICENSE,
# README.md; named kubectl-ephemeral_<v>_<os>_<arch>.tar.gz (.zip on Windows), with a .sha256 beside.
# KE_RELEASE_REPO (owner/name) sets the download URLs, KE_RELEASE_OUT the output directory,
# KE_RELEASE_MANIFEST where the manifest goes (default krew-manifest.yaml), SOURCE_DATE_EPOCH the
# archive timestamps. Runtimes, the cross-built pty.node and rcodesign are
# cached by version under ${KUBECTL_EPHEMERAL_CACHE:-~/.cache/kubectl-ephemeral}.
set -euo pipefail
cd "$(dirname "$0")/.."
# The pinned runtime's own binary (node_modules/.bin/node is a shim script on Windows), else PATH's.
node=node_modules/node/bin/node
[ -x "$node" ] || node=node
version="v$("$node" -p 'require("./package.json").version')"
out=${KE_RELEASE_OUT:-dist/release}
# The one platform list (render-manifest.mjs and scripts/sea/targets.mjs read it too), as os_arch.
TARGETS=$("$node" -p 'require("./scripts/krew/platforms.json").map((p) => p.os + "_" + p.arch).join(" ")')
log() { echo "release: $*" >&2; }

platform() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;; Darwin) os=darwin ;; MINGW* | MSYS* | CYGWIN*) os=windows ;;
    *) log "unsupported OS $(uname -s)"; exit 1 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;;
    *) log "unsupported architecture $(uname -m)"; exit 1 ;;
  esac
  echo "${os}_${arch}"
}

sha256_of() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# build_archive OS_ARCH
build_archive() {
  local plat=${1//\//_} exe stage archive epoch
  case " $TARGETS " in *" $plat "*) ;; *) log "unknown platform $1: one of $TARGETS"; exit 64 ;; esac
  exe=kubectl-ephemeral; [ "${plat%%_*}" = windows ] && exe=kubectl-ephemeral.exe
  [ -f README.md ] || { log "README.md is missing: it goes into the archive"; exit 1; }
  stage="$out/stage-$plat"
  rm -rf "$stage" && mkdir -p "$stage"
  # Built straight into the stage: release runs with different KE_RELEASE_OUT never share a file.
  # No V8 code cache in the blob: V8's is not the same bytes twice, so the archive would not be
  # either (it is made for linux/amd64 only, and gained nothing measurable for the small entry).
  "$node" scripts/build-binary.mjs --target "$plat" --out "$stage/$exe" --no-code-cache >&2
  rm -rf "$stage/sea"
  cp LICENSE README.md "$stage/"
  [ "${plat%%_*}" = windows ] || cp plugin/kubectl_complete-ephemeral "$stage/"
  # Reproducible archives: fixed modes (not the umask's), timestamps (the last commit's), owners and order.
  chmod 0644 "$stage/LICENSE" "$stage/README.md"
  chmod 0755 "$stage/$exe"
  [ ! -f "$stage/kubectl_complete-ephemeral" ] || chmod 0755 "$stage/kubectl_complete-ephemeral"
  # The manifest is not in any archive: committing the one rendered here must not change them.
  epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct -- . ':(exclude)krew-manifest.yaml' 2>/dev/null)}
  epoch=${epoch:-0}
  if [ "${plat%%_*}" = windows ]; then
    archive="$out/kubectl-ephemeral_${version}_${plat}.zip"
    rm -f "$archive"
    if command -v zip >/dev/null; then
      # zip stores each file's mtime: the same fixed one, and no extra (uid, atime) fields. Its
      # DOS time is local time: UTC, so that the archive does not depend on the builder's zone.
      find "$stage" -exec touch -h -d "@$epoch" {} +
      (cd "$stage" && TZ=UTC zip -q -X -9 "../$(basename "$archive")" ./*)
    else
      (cd "$stage" && 7z a -tzip -bso0 "../$(basename "$archive")" ./*)
    fi
  else
    archive="$out/kubectl-ephemeral_${version}_${plat}.tar.gz"
    local tarflags=(--owner=0 --group=0 --numeric-owner --sort=name "--mtime=@$epoch")
    tar --version 2>/dev/null | grep -q 'GNU tar' || tarflags=(--uid 0 --gid 0) # bsdtar (macOS)
    (cd "$stage" && tar "${tarflags[@]}" -cf - ./*) | gzip -9 -n > "$archive"
  fi
  echo "$(sha256_of "$archive")  $(basename "$archive")" > "$archive.sha256"
  rm -rf "$stage" # over 100 MB each
  log "$(basename "$archive"): $(wc -c < "$archive" | tr -d ' ') bytes, sha256 $(cut -d' ' -f1 "$archive.sha256")"
}

render_manifest() {
  local manifest=${KE_RELEASE_MANIFEST:-krew-manifest.yaml}
  "$node" scripts/krew/render-manifest.mjs --archives "$1" --version "$version" --out "$manifest" "${@:2}"
  local tools
  if tools=$(bash scripts/krew/build-tools.sh 2>/dev/null | tail -1) && [ -x "$tools/validate-krew-manifest" ]; then
    # The validator wants the file named after the plugin, as in krew-index: plugins/ephemeral.yaml.
    local check
    check=$(mktemp -d)
    cp "$manifest" "$check/ephemeral.yaml"
    "$tools/validate-krew-manifest" -manifest "$check/ephemeral.yaml" -skip-install 2>"$check/log" ||
      { cat "$check/log" >&2; rm -rf "$check"; exit 1; }
    rm -rf "$check"
    log "$manifest passes validate-krew-manifest"
  else
    log "validate-krew-manifest unavailable (no Go?): $manifest not validated"
  fi
}

# What building for other platforms takes (installed once, cached): the aarch64 cross compiler for
# linux/arm64's pty.node, rcodesign for darwin's signature.
host_tools() {
  [ "$(platform)" = linux_amd64 ] || { log "the other platforms are cross-built from linux/amd64"; exit 1; }
  local need=()
  for plat in "$@"; do
    case $plat in linux_arm64) need+=(cross) ;; darwin_*) need+=(rcodesign) ;; esac
  done
  [ ${#need[@]} -eq 0 ] || bash scripts/sea/host-tools.sh "${need[@]}" >/dev/null
}

mkdir -p "$out"
case "${1:-all}" in
  archive)
    plat=${2:-$(platform)}
    plat=${plat//\//_}
    [ "$plat" = "$(platform)" ] || host_tools "$plat"
    build_archive "$plat" ;;
  manifest) render_manifest "${2:?usage: release.sh manifest DIR}" ;;
  all)
    # shellcheck disable=SC2086 # the list of platforms
    host_tools $TARGETS
    for plat in $TARGETS; do build_archive "$plat"; done
    render_manifest "$out" ;;
  *) log "usage: release.sh [archive [OS/ARCH] | manifest DIR]"; exit 64 ;;
esac
