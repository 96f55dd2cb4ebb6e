#!/usr/bin/env bash
# Installs what building and checking the five release executables needs on a Debian machine, once:
#   - Debian's aarch64 cross compiler (node-pty's pty.node for linux/arm64),
#   - qemu-user-static and the arm64 C/C++ runtime libraries (running the linux/arm64 executable
#     here: QEMU_LD_PREFIX=/usr/aarch64-linux-gnu),
#   - rcodesign (crates.io apple-codesign) into $KE_CACHE/bin/rcodesign-<v>/ (ad hoc signing and
#     verifying of the darwin executables; a cold `cargo install` takes several CPU-minutes).
#   scripts/sea/host-tools.sh [cross] [qemu] [rcodesign]   (default: all three)
# Prints rcodesign's path last when it was asked for.
set -euo pipefail
# shellcheck source=scripts/versions.sh
source "$(dirname "$0")/../versions.sh"
RCODESIGN_VERSION=0.29.0 # build-binary.mjs's RCODESIGN_VERSION
log() { echo "host-tools: $*" >&2; }

apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null; }
}

rcodesign() {
  local out="$KE_CACHE/bin/rcodesign-$RCODESIGN_VERSION"
  [ -x "$out/rcodesign" ] && return 0
  command -v cargo >/dev/null || { log "no cargo: rcodesign (crates.io apple-codesign) signs the darwin executables"; exit 1; }
  mkdir -p "$out"
  local tmp
  tmp=$(mktemp -d "$out/.build.XXXXXX")
  log "cargo install apple-codesign $RCODESIGN_VERSION (several CPU-minutes, once)"
  nice cargo install --quiet --locked apple-codesign --version "$RCODESIGN_VERSION" --root "$tmp" >&2
  mv "$tmp/bin/rcodesign" "$out/rcodesign"
  rm -rf "$tmp"
}

[ $# -gt 0 ] || set -- cross qemu rcodesign
for what in "$@"; do
  case $what in
    cross) apt_install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu binutils-aarch64-linux-gnu ;;
    qemu) apt_install qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross ;;
    rcodesign) rcodesign && echo "$KE_CACHE/bin/rcodesign-$RCODESIGN_VERSION/rcodesign" ;;
    *) log "usage: host-tools.sh [cross] [qemu] [rcodesign]"; exit 64 ;;
  esac
done
