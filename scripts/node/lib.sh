# Helpers shared by scripts/node.sh and scripts/images.sh (sourced, not run).
# shellcheck shell=bash
# shellcheck source=scripts/versions.sh
source "$(dirname "${BASH_SOURCE[0]}")/../versions.sh"
KE_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KE_STATE_DIR=${KE_STATE_DIR:-$KE_REPO/.state/cluster}
# shellcheck disable=SC2034 # used by the scripts that source this file
KE_NODE_DIR=$KE_STATE_DIR/node
# shellcheck disable=SC2034
KE_IMAGE_CACHE=$KE_CACHE/images

log() { echo "${KE_LOG_PREFIX:-node}: $*" >&2; }
die() { log "error: $*"; exit 1; }

# Installs the Debian packages that are missing (a fresh CI machine has none of them).
need_pkgs() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} = 0 ] && return 0
  log "installing ${missing[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
  fi
}
