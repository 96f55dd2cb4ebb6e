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

KE_LOG_PREFIX=${KE_LOG_PREFIX:-node}
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
