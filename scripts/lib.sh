# Shell helpers shared by the scripts (sourced, not run): one log/die, one package installer, one
# waiter, one way to start a daemon. Set KE_LOG_PREFIX before sourcing to name the script in logs.
# shellcheck shell=bash

log() { echo "${KE_LOG_PREFIX:-kubectl-ephemeral}: $*" >&2; }
die() { log "error: $*"; exit 1; }

# need_pkgs PACKAGE...: installs the Debian packages that are missing (a fresh CI machine has none of
# them); apt-get update only when the first install fails (the lists may be missing or stale).
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

# wait_for WHAT SECONDS COMMAND...: polls COMMAND (output dropped) every 0.1 s until it succeeds;
# after SECONDS says what it waited for and fails.
wait_for() {
  local what=$1 secs=$2 _; shift 2
  for _ in $(seq $((secs * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  log "timed out after ${secs}s waiting for $what"
  return 1
}

# start_bg NAME PIDFILE LOGFILE COMMAND...: starts a daemon detached from this shell's session, its
# output appended to LOGFILE. The child writes its own pid (the exec'd daemon's, not a wrapper's)
# to PIDFILE; fds 8 and 9 (the scripts' lock files) are closed so the daemon never holds a lock.
start_bg() {
  local name=$1 pidfile=$2 logfile=$3 _; shift 3
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  rm -f "$pidfile"
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$pidfile" "$@" >>"$logfile" 2>&1 </dev/null 8>&- 9>&- &
  for _ in $(seq 50); do [ -s "$pidfile" ] && { log "started $name (pid $(cat "$pidfile")), log $logfile"; return 0; }; sleep 0.1; done
  die "$name did not start; see $logfile"
}
