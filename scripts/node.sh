#!/usr/bin/env bash
# One real node for the local test cluster: containerd + runc + bridge CNI, locally built images, and
# a kubelet registered as Node "127.0.0.1" against the control plane of scripts/cluster.sh.
#   scripts/node.sh up       start (or reuse) containerd, import images, start the kubelet
#   scripts/node.sh down     stop everything, unmount, clean up network and cgroups, restore sysctls
#   scripts/node.sh status   print what runs; exit 0 only when the node is up and Ready
# Without $KE_STATE_DIR/env (no control plane yet) `up` starts containerd and the images only.
# Progress goes to stderr; state, logs and pid files live under $KE_STATE_DIR/node.
set -euo pipefail
# shellcheck source=scripts/node/lib.sh
source "$(dirname "$0")/node/lib.sh"
TEMPLATES=$KE_REPO/scripts/node

SOCK=$KE_NODE_DIR/containerd.sock
KUBELET_BIN=$KE_CACHE/bin/kubernetes-$K8S_VERSION/kubelet
NODE_NAME=127.0.0.1
POD_SUBNET=${KE_POD_SUBNET:-10.88.0.0/16}
BRIDGE=ke-cni0
# The bridge's own address, which the bridge plugin (isGateway) gives it from host-local's range:
# the subnet's first address. Pods' default route, and where they reach cluster DNS (CoreDNS on the
# host, started by scripts/cluster.sh up; the kubelet's clusterDNS).
POD_GATEWAY=${KE_POD_GATEWAY:-10.88.0.1}
SANDBOX_IMAGE=localhost/kubectl-ephemeral/pause:3.10
KUBELET_PORT=10250 KUBELET_HEALTHZ_PORT=10248
# Kernel settings the kubelet and the bridge plugin change; saved before `up`, restored by `down`.
SYSCTLS=(kernel.panic kernel.panic_on_oops vm.overcommit_memory vm.panic_on_oom
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.ip_forward)
SYSCTL_SAVED=/run/kubectl-ephemeral/node-sysctl.saved
# One node per machine (port 10250, the bridge, the kubepods cgroups are machine-wide): this names
# the node dir that owns them, so a `down` for another state dir leaves them alone.
OWNER_FILE=/run/kubectl-ephemeral/node.owner

load_env() {
  # shellcheck disable=SC1091
  [ -f "$KE_STATE_DIR/env" ] && source "$KE_STATE_DIR/env"
  [ -n "${KE_APISERVER:-}" ]
}

render() { # template -> stdout, with the node's settings filled in
  sed -e "s|@NODE_DIR@|$KE_NODE_DIR|g" -e "s|@SANDBOX_IMAGE@|$SANDBOX_IMAGE|g" \
    -e "s|@POD_SUBNET@|$POD_SUBNET|g" -e "s|@BRIDGE@|$BRIDGE|g" -e "s|@CA_CRT@|${KE_CA_CRT:-}|g" \
    -e "s|@NODE_NAME@|$NODE_NAME|g" -e "s|@APISERVER@|${KE_APISERVER:-}|g" \
    -e "s|@KUBELET_PORT@|$KUBELET_PORT|g" -e "s|@KUBELET_HEALTHZ_PORT@|$KUBELET_HEALTHZ_PORT|g" \
    -e "s|@CLUSTER_DNS@|$POD_GATEWAY|g" "$1"
}

running() { # name: is the process of that pid file alive?
  local pid
  pid=$(cat "$KE_NODE_DIR/$1.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q "$1" "/proc/$pid/cmdline" 2>/dev/null
}

start_daemon() { # name command...: pid and log under the node dir
  local name=$1; shift
  start_bg "$name" "$KE_NODE_DIR/$name.pid" "$KE_NODE_DIR/$name.log" "$@"
}

stop_pid() { # name [seconds]: TERM, then KILL after the grace period
  local pid _
  pid=$(cat "$KE_NODE_DIR/$1.pid" 2>/dev/null) || return 0
  if running "$1"; then
    log "stopping $1 (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq $((${2:-10} * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$KE_NODE_DIR/$1.pid"
}


ctr_() { ctr -a "$SOCK" -n k8s.io "$@"; }

save_sysctls() {
  local f=$SYSCTL_SAVED k
  # The values from before the first `up`, not the kubelet's: kept outside the state dir so that a
  # state dir removed without `down` does not make the next `up` save the kubelet's values.
  [ -s "$f" ] && return 0
  mkdir -p "$(dirname "$f")"
  for k in "${SYSCTLS[@]}"; do
    [ -e "/proc/sys/${k//.//}" ] && echo "$k=$(cat "/proc/sys/${k//.//}")"
  done >"$f.tmp"
  mv "$f.tmp" "$f"
}

restore_sysctls() {
  local f=$SYSCTL_SAVED k v
  [ -s "$f" ] || return 0
  while IFS='=' read -r k v; do
    [ "$(cat "/proc/sys/${k//.//}")" = "$v" ] && continue
    log "restoring $k=$v"
    echo "$v" >"/proc/sys/${k//.//}" || log "warning: could not restore $k"
  done <"$f"
  rm -f "$f"
}

containerd_healthy() { running containerd && ctr -a "$SOCK" version >/dev/null 2>&1; }

# Writes a rendered template; returns 1 when the file changed (a running daemon must restart).
install_rendered() { # template destination
  render "$1" >"$2.new"
  if cmp -s "$2.new" "$2"; then rm -f "$2.new"; return 0; fi
  mv "$2.new" "$2"
  return 1
}

start_containerd() {
  local changed=0
  mkdir -p "$KE_NODE_DIR/cni/net.d" "$KE_NODE_DIR/containerd"
  install_rendered "$TEMPLATES/containerd.toml" "$KE_NODE_DIR/containerd.toml" || changed=1
  install_rendered "$TEMPLATES/cni.conflist" "$KE_NODE_DIR/cni/net.d/10-ke-pods.conflist" || true # read per pod
  if [ "$changed" = 0 ] && containerd_healthy; then log "containerd already running"; return 0; fi
  # Restarting containerd leaves the containers running: their shims outlive it.
  stop_pid containerd 5
  log "starting containerd ($(containerd --version | awk '{print $3}'), log $KE_NODE_DIR/containerd.log)"
  start_daemon containerd containerd --config "$KE_NODE_DIR/containerd.toml"
  wait_for containerd 30 ctr -a "$SOCK" version || { tail -20 "$KE_NODE_DIR/containerd.log" >&2; die "containerd did not come up"; }
}

# Client and serving certificates for the kubelet, signed by the cluster CA; returns 1 when it
# (re)issued them, e.g. for a cluster recreated with a new CA.
make_kubelet_pki() {
  local pki=$KE_NODE_DIR/pki
  mkdir -p "$pki"
  if [ -s "$pki/kubelet.crt" ] && openssl verify -CAfile "$KE_CA_CRT" "$pki/kubelet.crt" "$pki/kubelet-client.crt" >/dev/null 2>&1; then
    return 0
  fi
  log "issuing kubelet certificates"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/kubelet-client.key" -out "$pki/kubelet-client.csr" \
    -subj "/O=system:nodes/CN=system:node:$NODE_NAME" 2>/dev/null
  openssl x509 -req -in "$pki/kubelet-client.csr" -CA "$KE_CA_CRT" -CAkey "$KE_CA_KEY" -CAcreateserial \
    -days 365 -out "$pki/kubelet-client.crt" -extfile <(printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n') 2>/dev/null
  openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/kubelet.key" -out "$pki/kubelet.csr" \
    -subj "/CN=$NODE_NAME" 2>/dev/null
  openssl x509 -req -in "$pki/kubelet.csr" -CA "$KE_CA_CRT" -CAkey "$KE_CA_KEY" -CAcreateserial -days 365 \
    -out "$pki/kubelet.crt" -extfile <(printf 'extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n') 2>/dev/null
  rm -f "$pki"/*.csr
  return 1
}

# The bridge with its gateway address, made before any pod exists (the bridge plugin makes it at the
# first pod and reuses it as it is): CoreDNS binds to the gateway before a pod asks. Writes the
# address to cluster-dns for scripts/cluster.sh, which starts CoreDNS there.
make_bridge() {
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  ip -4 -o addr show dev "$BRIDGE" | grep -qF " inet $POD_GATEWAY/" ||
    ip addr add "$POD_GATEWAY/${POD_SUBNET#*/}" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  echo "$POD_GATEWAY" >"$KE_NODE_DIR/cluster-dns"
}

kubelet_healthy() { running kubelet && curl -sf "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz" >/dev/null; }

# As the node itself (its client cert): the Node object's Ready condition, heartbeated at or after
# $KUBELET_STARTED (epoch seconds) so that a status left by an earlier kubelet does not count.
KUBELET_STARTED=0
node_ready() {
  local pki=$KE_NODE_DIR/pki
  curl -sf --cacert "$KE_CA_CRT" --cert "$pki/kubelet-client.crt" --key "$pki/kubelet-client.key" \
    "$KE_APISERVER/api/v1/nodes/$NODE_NAME" | python3 -c '
import calendar, json, sys, time
c = [x for x in json.load(sys.stdin)["status"].get("conditions", []) if x["type"] == "Ready"]
beat = calendar.timegm(time.strptime(c[0]["lastHeartbeatTime"], "%Y-%m-%dT%H:%M:%SZ")) if c else 0
sys.exit(0 if c and c[0]["status"] == "True" and beat >= int(sys.argv[1]) else 1)' "$KUBELET_STARTED"
}

start_kubelet() {
  local changed=0
  make_kubelet_pki || changed=1
  mkdir -p "$KE_NODE_DIR/kubelet" "$KE_NODE_DIR/pod-logs"
  install_rendered "$TEMPLATES/kubelet-config.yaml" "$KE_NODE_DIR/kubelet-config.yaml" || changed=1
  install_rendered "$TEMPLATES/kubelet.kubeconfig" "$KE_NODE_DIR/kubelet.kubeconfig" || changed=1
  if [ "$changed" = 0 ] && kubelet_healthy; then log "kubelet already running"; return 0; fi
  stop_pid kubelet 5
  log "starting kubelet $K8S_VERSION (log $KE_NODE_DIR/kubelet.log)"
  KUBELET_STARTED=$(($(date +%s) - 1))
  start_daemon kubelet "$KUBELET_BIN" --config="$KE_NODE_DIR/kubelet-config.yaml" \
    --kubeconfig="$KE_NODE_DIR/kubelet.kubeconfig" --hostname-override="$NODE_NAME" \
    --root-dir="$KE_NODE_DIR/kubelet" --node-labels=kubectl-ephemeral/real-node=true --v="${KE_KUBELET_V:-2}"
  wait_for kubelet 60 curl -sf "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz" ||
    { tail -30 "$KE_NODE_DIR/kubelet.log" >&2; die "kubelet did not become healthy"; }
}

owner() { cat "$OWNER_FILE" 2>/dev/null || true; }

clean_dead_node() { # node-dir: the machine-wide leftovers of a node whose processes are gone
  # bash locals are dynamically scoped: the steps see the dead node's dir and socket.
  local KE_NODE_DIR=$1 SOCK=$1/containerd.sock step
  for step in kill_workloads unmount_all clean_network clean_kubelet_iptables clean_cgroups; do
    "$step" || log "warning: $step failed"
  done
}

claim_machine() {
  local other
  other=$(owner)
  if [ -n "$other" ] && [ "$other" != "$KE_NODE_DIR" ]; then
    if KE_NODE_DIR=$other running containerd || KE_NODE_DIR=$other running kubelet; then
      die "another node runs from $other (one per machine): stop it with KE_STATE_DIR=$(dirname "$other") $0 down"
    fi
    # Its processes were killed without `down` (e.g. at the end of a session): clear what it left.
    log "taking over from a stopped node at $other: cleaning up after it"
    clean_dead_node "$other"
  fi
  mkdir -p "$(dirname "$OWNER_FILE")"
  echo "$KE_NODE_DIR" >"$OWNER_FILE"
}

cmd_up() {
  [ "$(id -u)" = 0 ] || die "needs root (containerd, mounts, network)"
  need_pkgs containerd runc containernetworking-plugins iptables openssl curl ca-certificates
  claim_machine
  mkdir -p "$KE_NODE_DIR"
  save_sysctls
  make_bridge
  start_containerd
  "$KE_REPO/scripts/images.sh" import "$SOCK" 9>&-
  if ! load_env; then
    log "no control plane ($KE_STATE_DIR/env missing): containerd and images only (${SECONDS}s)"
    return 0
  fi
  [ -x "$KUBELET_BIN" ] || "$KE_REPO/scripts/build-cluster-bins.sh" kubernetes >/dev/null
  start_kubelet
  log "waiting for Node $NODE_NAME to be Ready"
  wait_for node 120 node_ready || { tail -30 "$KE_NODE_DIR/kubelet.log" >&2; die "node $NODE_NAME not Ready"; }
  # cluster.sh registered this Node for its fake status helper, so the kubelet did not apply
  # --node-labels (they only count at registration): relabel it as the real node it now is.
  if [ -x "${KUBECTL:-/usr/bin/kubectl}" ] && [ -n "${KE_ADMIN_KUBECONFIG:-}" ]; then
    "${KUBECTL:-/usr/bin/kubectl}" --kubeconfig "$KE_ADMIN_KUBECONFIG" label --overwrite node "$NODE_NAME" \
      kubectl-ephemeral/fake-node- kubectl-ephemeral/real-node=true >/dev/null 2>&1 || true
  fi
  log "node $NODE_NAME Ready (up took ${SECONDS}s)"
}

# Kills what containerd runs (tasks, shims), then everything left in the pod cgroups.
kill_workloads() {
  local id pid
  if containerd_healthy; then
    for id in $(ctr_ tasks ls -q 2>/dev/null); do
      ctr_ tasks kill -a -s SIGKILL "$id" >/dev/null 2>&1 || true
    done
    sleep 0.5
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$id" >/dev/null 2>&1 || true; done
  fi
  stop_pid containerd 10
  # Shims outlive containerd; theirs name our socket on the command line.
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $SOCK" || true); do kill -9 "$pid" 2>/dev/null || true; done
  # The shims' sockets live in a fixed /run/containerd/s; drop the dirs if nothing else uses them.
  rmdir /run/containerd/s /run/containerd 2>/dev/null || true
  if [ -d /sys/fs/cgroup/pids/kubepods ]; then
    find /sys/fs/cgroup/pids/kubepods -name cgroup.procs -exec cat {} + 2>/dev/null |
      while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done
  fi
}

stop_own_containerd() { stop_pid containerd 10; }

unmount_all() { # every mount under the node dir, deepest first
  local m
  awk -v d="$KE_NODE_DIR/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# The bridge and its ipMasq rules (one CNI-<hash> chain per pod, jumped to from POSTROUTING).
clean_network() {
  local rule chain
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link del "$BRIDGE" || true; fi
  iptables -t nat -S POSTROUTING 2>/dev/null | { grep -F 'ke-pods' || true; } | while read -r rule; do
    chain=$(sed -n 's/.* -j \(CNI-[0-9a-f]*\).*/\1/p' <<<"$rule")
    # -S prints shell-quoted rules; turning -A into -D deletes exactly that rule.
    eval "iptables -t nat ${rule/-A /-D }" || true
    if [ -n "$chain" ]; then iptables -t nat -F "$chain" || true; iptables -t nat -X "$chain" || true; fi
  done
}

# The chains the kubelet adds (KUBE-FIREWALL, its canaries, the hint for kube-proxy), v4 and v6.
clean_kubelet_iptables() {
  local ipt table chain rule
  for ipt in iptables ip6tables; do
    for table in filter nat mangle; do
      for chain in KUBE-FIREWALL KUBE-KUBELET-CANARY KUBE-IPTABLES-HINT; do
        $ipt -t "$table" -S "$chain" >/dev/null 2>&1 || continue
        $ipt -t "$table" -S 2>/dev/null | { grep -E "^-A [A-Z]+ .*-j $chain\$" || true; } | while read -r rule; do
          eval "$ipt -t $table ${rule/-A /-D }" || true
        done
        $ipt -t "$table" -F "$chain" || true
        $ipt -t "$table" -X "$chain" || true
      done
    done
  done
}

clean_cgroups() { # the kubelet's kubepods tree in every v1 hierarchy, leaves first
  local c
  for c in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/k8s.io; do
    [ -d "$c" ] || continue
    find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

cmd_down() {
  local step
  local other steps=(kill_workloads unmount_all clean_network clean_kubelet_iptables clean_cgroups restore_sysctls)
  other=$(owner)
  if [ -n "$other" ] && [ "$other" != "$KE_NODE_DIR" ]; then
    # Another state dir's node owns the machine-wide parts: only this dir's own processes and mounts.
    log "the machine's node is $other: cleaning $KE_NODE_DIR only"
    [ -d "$KE_NODE_DIR" ] || return 0
    steps=(stop_own_containerd unmount_all)
  fi
  # Runs every step even when the node dir is gone: leftovers of a node killed without `down`.
  stop_pid kubelet 10 || true
  # Each step is best effort: a half-broken node must still come down as far as it can.
  for step in "${steps[@]}"; do
    "$step" || log "warning: $step failed"
  done
  [ "$other" = "$KE_NODE_DIR" ] && rm -f "$OWNER_FILE"
  if awk -v d="$KE_NODE_DIR/" 'index($5, d) == 1 {f=1} END {exit !f}' /proc/self/mountinfo; then
    die "mounts remain under $KE_NODE_DIR; not removing it"
  fi
  rm -rf "$KE_NODE_DIR"
  log "node removed"
}

cmd_status() {
  local ok=0
  if containerd_healthy; then echo "containerd: running (pid $(cat "$KE_NODE_DIR/containerd.pid"), $SOCK)"; else echo "containerd: down"; ok=1; fi
  if kubelet_healthy; then echo "kubelet: running (pid $(cat "$KE_NODE_DIR/kubelet.pid"))"; else echo "kubelet: down"; ok=1; fi
  if load_env && [ -s "$KE_NODE_DIR/pki/kubelet-client.crt" ] && node_ready; then echo "node $NODE_NAME: Ready"; else echo "node $NODE_NAME: not Ready"; ok=1; fi
  return $ok
}

lock() { # one up/down at a time; fd 9 is closed for the daemons so they do not hold the lock
  mkdir -p "$KE_STATE_DIR"
  exec 9>"$KE_STATE_DIR/node.lock"
  flock -w 600 9 || die "another scripts/node.sh holds $KE_STATE_DIR/node.lock"
}

case "${1:-}" in
  up) lock; cmd_up ;;
  down) lock; cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
