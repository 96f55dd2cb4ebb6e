#!/usr/bin/env bash
# A local Kubernetes cluster for the integration and end-to-end suites: etcd, kube-apiserver (TLS,
# Node+RBAC, Pod Security, audit log), kube-controller-manager, kube-scheduler and cluster DNS
# (CoreDNS), all on 127.0.0.1, all state in one git-ignored directory; with --node, one real node.
#
#   scripts/cluster.sh up [--node]   start (or reuse) it, starting whatever part is missing; the LAST
#                                    stdout line is the admin kubeconfig
#   scripts/cluster.sh down          stop everything (scripts/node.sh down first) and remove the state
#   scripts/cluster.sh status        what runs: pids, ports, health
#   scripts/cluster.sh restart-apiserver   stop kube-apiserver (SIGTERM: watches end as in an upgrade) and start it again
#
# K8S_VERSION picks the Kubernetes release (default in scripts/versions.sh); a non-default one runs
# beside the default cluster from <repo>/.state/cluster-<version> on its own ports (see below).
# State: $KE_STATE_DIR (default <repo>/.state/cluster). $KE_STATE_DIR/env holds shell variables for
# other scripts and the tests (KE_APISERVER, KE_CA_CRT, KE_CA_KEY, KE_KUBECONFIG, KE_AUDIT_LOG, ...).
# Progress goes to stderr; process logs go to $KE_STATE_DIR/logs/.
set -euo pipefail

SCRIPTS=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$SCRIPTS/.." && pwd)
# shellcheck source=scripts/versions.sh
source "$SCRIPTS/versions.sh"

# The default version runs from .state/cluster on the well-known ports. Any other K8S_VERSION gets
# its own state dir and a block of four ports derived from the version, so clusters of different
# versions run side by side and never collide: 10000 + 4 * (minor * 100 + patch), i.e. v1.30.14 on
# 22056-22059 and v1.37.2 on 24808-24811 (below Linux's ephemeral range, 32768+, while minor < 56).
# kube-scheduler and CoreDNS take a second block, 10000 lower (v1.30.14: 12056-12058): scheduler,
# DNS, DNS readiness. Every port can be set (KE_*_PORT) to run a second cluster of the same version.
if [ "$K8S_VERSION" = "$K8S_DEFAULT_VERSION" ]; then
  DEFAULT_STATE=$REPO/.state/cluster
  PORT_BASE=
else
  [[ "$K8S_VERSION" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || { echo "cluster: error: K8S_VERSION=$K8S_VERSION is not v1.MINOR.PATCH" >&2; exit 2; }
  DEFAULT_STATE=$REPO/.state/cluster-$K8S_VERSION
  PORT_BASE=$((10000 + 4 * (10#${BASH_REMATCH[1]} * 100 + 10#${BASH_REMATCH[2]})))
fi
STATE=${KE_STATE_DIR:-$DEFAULT_STATE}
# A cluster started on ports of its own keeps them in its env file: restart-apiserver and status
# (run by a test that knows only KE_STATE_DIR) reuse them instead of the default ports, which may
# be another cluster's.
saved_port() { sed -n "s/^$1=//p" "$STATE/env" 2>/dev/null || true; }
if [ -f "$STATE/env" ]; then
  KE_APISERVER_PORT=${KE_APISERVER_PORT:-$(saved_port KE_APISERVER_PORT)}
  KE_ETCD_PORT=${KE_ETCD_PORT:-$(saved_port KE_ETCD_PORT)}
  KE_ETCD_PEER_PORT=${KE_ETCD_PEER_PORT:-$(saved_port KE_ETCD_PEER_PORT)}
  KE_KCM_PORT=${KE_KCM_PORT:-$(saved_port KE_KCM_PORT)}
  KE_SCHEDULER_PORT=${KE_SCHEDULER_PORT:-$(saved_port KE_SCHEDULER_PORT)}
  KE_DNS_PORT=${KE_DNS_PORT:-$(saved_port KE_DNS_PORT)}
  KE_DNS_READY_PORT=${KE_DNS_READY_PORT:-$(saved_port KE_DNS_READY_PORT)}
fi
API_PORT=${KE_APISERVER_PORT:-${PORT_BASE:-6443}}
ETCD_PORT=${KE_ETCD_PORT:-${PORT_BASE:+$((PORT_BASE + 1))}}; ETCD_PORT=${ETCD_PORT:-23790}
ETCD_PEER_PORT=${KE_ETCD_PEER_PORT:-${PORT_BASE:+$((PORT_BASE + 2))}}; ETCD_PEER_PORT=${ETCD_PEER_PORT:-23800}
KCM_PORT=${KE_KCM_PORT:-${PORT_BASE:+$((PORT_BASE + 3))}}; KCM_PORT=${KCM_PORT:-10257}
LOW_BASE=${PORT_BASE:+$((PORT_BASE - 10000))}
SCHED_PORT=${KE_SCHEDULER_PORT:-${LOW_BASE:-10259}}
DNS_PORT=${KE_DNS_PORT:-${LOW_BASE:+$((LOW_BASE + 1))}}; DNS_PORT=${DNS_PORT:-10053}
DNS_READY_PORT=${KE_DNS_READY_PORT:-${LOW_BASE:+$((LOW_BASE + 2))}}; DNS_READY_PORT=${DNS_READY_PORT:-10054}
NODE_NAME=127.0.0.1        # the node the scheduler places pods on (a real kubelet may take it over)
FAKE_NODE=ke-fake-node     # a node no kubelet ever runs on: statuses written by the tests stay put
K8S_BIN="$KE_CACHE/bin/kubernetes-$K8S_VERSION"
ETCD_BIN="$KE_CACHE/bin/etcd-$ETCD_VERSION/etcd"
COREDNS_BIN="$KE_CACHE/bin/coredns-$COREDNS_VERSION/coredns"
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
PKI="$STATE/pki"
LOGS="$STATE/logs"
RUN="$STATE/run"
API_URL="https://127.0.0.1:$API_PORT"

KE_LOG_PREFIX=cluster
# shellcheck source=scripts/lib.sh
source "$SCRIPTS/lib.sh"
now() { date +%s.%N; }
T0=$(now)
elapsed() { awk -v a="$T0" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# ---------------------------------------------------------------------------------- processes
pid_of() { # prints the pid of component $1 if it is running (and is really ours)
  local f="$RUN/$1.pid" pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$STATE/" || return 1
  echo "$pid"
}

start_component() { # start_component NAME BINARY ARGS...: pid in $RUN/NAME.pid, log in $LOGS/NAME.log
  local name=$1; shift
  start_bg "$name" "$RUN/$name.pid" "$LOGS/$name.log" "$@"
}

stop_procs() { # stop_procs NAME...: SIGTERM them together, SIGKILL whatever is left after 10s
  local name pid pids=() _ p alive
  for name in "$@"; do
    if pid=$(pid_of "$name"); then
      log "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for _ in $(seq 1 100); do
    alive=0
    for p in "${pids[@]}"; do [ -d "/proc/$p" ] && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do if [ -d "/proc/$p" ]; then kill -KILL "$p" 2>/dev/null || true; fi; done
  for name in "$@"; do rm -f "$RUN/$name.pid"; done
}
stop_proc() { stop_procs "$1"; }

port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }


etcd_healthy() { curl -fs --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"'; }
api_ready() { curl -fs --max-time 3 --cacert "$PKI/ca.crt" "$API_URL/readyz" 2>/dev/null | grep -qx ok; }
kcm_healthy() { curl -fsk --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz" 2>/dev/null | grep -qx ok; }
sched_healthy() { curl -fsk --max-time 2 "https://127.0.0.1:$SCHED_PORT/healthz" 2>/dev/null | grep -qx ok; }
# CoreDNS's ready plugin: 200 once its kubernetes plugin has synced Services and EndpointSlices.
dns_ready() { curl -fs --max-time 2 "http://127.0.0.1:$DNS_READY_PORT/ready" >/dev/null 2>&1; }
k() { "$KUBECTL" --kubeconfig "$STATE/admin.kubeconfig" "$@"; }

# ----------------------------------------------------------------------------------- packages

# ---------------------------------------------------------------------------------------- PKI
sign() { # sign NAME SUBJECT [EXTENSIONS]: EC P-256 key + cert signed by the cluster CA
  local name=$1 subj=$2 ext=${3:-}
  [ -f "$PKI/$name.crt" ] && return 0
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$name.key" 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n%s\n' "$ext" > "$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

make_pki() {
  mkdir -p "$PKI"; chmod 700 "$PKI"
  if [ ! -f "$PKI/ca.crt" ]; then
    log "creating PKI in $PKI"
    openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=kubectl-ephemeral-local-ca" -days 3650 -sha256 \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -out "$PKI/ca.crt" 2>/dev/null
  fi
  local client=extendedKeyUsage=clientAuth
  sign apiserver "/CN=kube-apiserver" "extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  # The API server's identity towards kubelets (attach/exec/logs are proxied to the kubelet).
  sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$client"
  sign admin "/O=system:masters/CN=kubernetes-admin" "$client"
  sign controller-manager "/CN=system:kube-controller-manager" "$client"
  # The default RBAC binds system:kube-scheduler; scripts/cluster/coredns.yaml binds system:coredns.
  sign scheduler "/CN=system:kube-scheduler" "$client"
  sign coredns "/CN=system:coredns" "$client"
  sign debugger "/CN=debugger" "$client"
  sign reader "/CN=reader" "$client"
  if [ ! -f "$PKI/sa.key" ]; then
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
}

b64() { base64 -w0 < "$1"; }

write_kubeconfig() { # write_kubeconfig FILE USER...: one context per user, named after it
  local file=$1 first=$2 u; shift
  {
    echo "apiVersion: v1"
    echo "kind: Config"
    echo "clusters:"
    echo "- name: local"
    echo "  cluster:"
    echo "    server: $API_URL"
    echo "    certificate-authority-data: $(b64 "$PKI/ca.crt")"
    echo "users:"
    for u in "$@"; do
      echo "- name: $u"
      echo "  user:"
      echo "    client-certificate-data: $(b64 "$PKI/$u.crt")"
      echo "    client-key-data: $(b64 "$PKI/$u.key")"
    done
    echo "contexts:"
    for u in "$@"; do
      echo "- name: $u"
      echo "  context: {cluster: local, user: $u, namespace: default}"
    done
    echo "current-context: $first"
  } > "$file.tmp"
  chmod 600 "$file.tmp"; mv "$file.tmp" "$file"
}

write_files() {
  write_kubeconfig "$STATE/admin.kubeconfig" admin
  write_kubeconfig "$STATE/debugger.kubeconfig" debugger
  write_kubeconfig "$STATE/reader.kubeconfig" reader
  write_kubeconfig "$STATE/controller-manager.kubeconfig" controller-manager
  write_kubeconfig "$STATE/scheduler.kubeconfig" scheduler
  write_kubeconfig "$STATE/coredns.kubeconfig" coredns
  write_kubeconfig "$STATE/kubeconfig" admin debugger reader
  # Audit: one Metadata event per request (RequestReceived omitted; watches also log ResponseStarted).
  cat > "$STATE/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
EOF
  cat > "$STATE/env.tmp" <<EOF
# Written by scripts/cluster.sh up; source it from shell scripts.
KE_STATE_DIR=$STATE
KE_APISERVER=$API_URL
KE_CA_CRT=$PKI/ca.crt
KE_CA_KEY=$PKI/ca.key
KE_ADMIN_KUBECONFIG=$STATE/admin.kubeconfig
KE_KUBECONFIG=$STATE/kubeconfig
KE_AUDIT_LOG=$STATE/audit.log
KE_NODE_NAME=$NODE_NAME
KE_FAKE_NODE=$FAKE_NODE
KE_K8S_VERSION=$K8S_VERSION
KE_K8S_BIN=$K8S_BIN
KE_DNS_SERVER=127.0.0.1:$DNS_PORT
KE_APISERVER_PORT=$API_PORT
KE_ETCD_PORT=$ETCD_PORT
KE_ETCD_PEER_PORT=$ETCD_PEER_PORT
KE_KCM_PORT=$KCM_PORT
KE_SCHEDULER_PORT=$SCHED_PORT
KE_DNS_PORT=$DNS_PORT
KE_DNS_READY_PORT=$DNS_READY_PORT
EOF
  mv "$STATE/env.tmp" "$STATE/env"
}

# ---------------------------------------------------------------------------------- components
start_etcd() {
  pid_of etcd >/dev/null && etcd_healthy && return 0
  stop_proc etcd
  port_busy "$ETCD_PORT" && die "port $ETCD_PORT is taken by another process (set KE_ETCD_PORT)"
  start_component etcd "$ETCD_BIN" --name ke-etcd --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "ke-etcd=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --quota-backend-bytes=2147483648 --log-level=warn
}

wait_etcd() {
  wait_for etcd 30 etcd_healthy || die "etcd did not become healthy; see $LOGS/etcd.log"
  log "etcd healthy on 127.0.0.1:$ETCD_PORT ($(elapsed))"
}

start_apiserver() {
  pid_of kube-apiserver >/dev/null && api_ready && return 0
  stop_proc kube-apiserver
  port_busy "$API_PORT" && die "port $API_PORT is taken by another process (set KE_APISERVER_PORT)"
  start_component kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
    --endpoint-reconciler-type none \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --authorization-mode Node,RBAC \
    --enable-admission-plugins NodeRestriction \
    --allow-privileged=true \
    --service-cluster-ip-range 10.0.0.0/24 \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP,Hostname \
    --audit-policy-file "$STATE/audit-policy.yaml" --audit-log-path "$STATE/audit.log" \
    --audit-log-format json --audit-log-mode blocking \
    --profiling=false --v=1
  wait_for apiserver 90 api_ready || die "kube-apiserver not ready; see $LOGS/kube-apiserver.log"
  log "kube-apiserver ready on $API_URL ($(elapsed))"
}

KCM_CONTROLLERS=${KE_KCM_CONTROLLERS:-serviceaccount-token-controller,serviceaccount-controller,root-ca-certificate-publisher-controller,namespace-controller,garbage-collector-controller,clusterrole-aggregation-controller,pod-garbage-collector-controller,deployment-controller,replicaset-controller,statefulset-controller,daemonset-controller,job-controller,certificatesigningrequest-signing-controller,certificatesigningrequest-approving-controller}
start_kcm() {
  pid_of kube-controller-manager >/dev/null && return 0
  stop_proc kube-controller-manager
  port_busy "$KCM_PORT" && die "port $KCM_PORT is taken by another process (set KE_KCM_PORT)"
  # Only the controllers the suites need: each one costs kube-controller-manager a ServiceAccount
  # and a token at start (--use-service-account-credentials). No node lifecycle controller: fake
  # nodes never heartbeat, and its taints would evict the tests' pods after 5 minutes.
  start_component kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig "$STATE/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$KCM_PORT" \
    --leader-elect=false --use-service-account-credentials \
    --root-ca-file "$PKI/ca.crt" --service-account-private-key-file "$PKI/sa.key" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --service-cluster-ip-range 10.0.0.0/24 \
    --controllers "$KCM_CONTROLLERS" \
    --profiling=false --v=1
}

start_scheduler() {
  pid_of kube-scheduler >/dev/null && return 0
  stop_proc kube-scheduler
  port_busy "$SCHED_PORT" && die "port $SCHED_PORT is taken by another process (set KE_SCHEDULER_PORT)"
  # The default profile; the fake node's NoSchedule taint (setup_cluster) keeps pods off it, so a
  # pod without nodeName lands on $NODE_NAME, which a real kubelet runs with --node.
  start_component kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig "$STATE/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" \
    --leader-elect=false --profiling=false --v=1
}

# Cluster DNS. The local cluster runs no kube-proxy, so a Service IP (the usual kube-dns
# 10.0.0.10) would route nowhere: CoreDNS runs on the host instead, answering on 127.0.0.1:$DNS_PORT
# for the scripts and tests, and on port 53 of the node's bridge gateway for pods (every pod's
# network namespace routes to it; the kubelet's clusterDNS names it). scripts/node.sh up writes
# that address to $STATE/node/cluster-dns once the bridge holds it: without a node, no such block;
# nor when the machine's one node is another state dir's (its CoreDNS answers there).
pod_dns_ip() {
  local ip
  [ "$(cat /run/kubectl-ephemeral/node.owner 2>/dev/null)" = "$STATE/node" ] || return 0
  ip=$(cat "$STATE/node/cluster-dns" 2>/dev/null) || return 0
  [[ "$ip" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] && ip -4 -o addr show 2>/dev/null | grep -qF " inet $ip/" && echo "$ip"
  return 0
}

write_corefile() { # write_corefile FILE POD_DNS_IP|''
  {
    cat <<EOF
# Written by scripts/cluster.sh up. The cluster's records from the API server (Services, pods by
# IP, reverse lookups), the rest forwarded to the host's resolvers.
(cluster) {
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $STATE/coredns.kubeconfig
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 30
}
.:$DNS_PORT {
    bind 127.0.0.1
    ready 127.0.0.1:$DNS_READY_PORT
    import cluster
}
EOF
    [ -z "$2" ] || printf '.:53 {\n    bind %s\n    import cluster\n}\n' "$2"
  } >"$1"
}

start_coredns() { # (re)starts CoreDNS when it is not running or its Corefile changed (a node came or went)
  write_corefile "$STATE/Corefile.new" "$(pod_dns_ip)"
  if pid_of coredns >/dev/null && cmp -s "$STATE/Corefile.new" "$STATE/Corefile"; then
    rm -f "$STATE/Corefile.new"
    return 0
  fi
  stop_proc coredns
  mv "$STATE/Corefile.new" "$STATE/Corefile"
  port_busy "$DNS_PORT" && die "port $DNS_PORT is taken by another process (set KE_DNS_PORT)"
  port_busy "$DNS_READY_PORT" && die "port $DNS_READY_PORT is taken by another process (set KE_DNS_READY_PORT)"
  start_component coredns "$COREDNS_BIN" -conf "$STATE/Corefile"
  wait_for coredns 60 dns_ready || die "CoreDNS not ready; see $LOGS/coredns.log"
}

register_node() { # register_node NAME IP [LABELS]; a real kubelet later takes over such a Node
  local name=$1 ip=$2 extra=${3:-} ts
  k get node "$name" >/dev/null 2>&1 && return 0
  ts=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  k create -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: "$name"
  labels: {kubernetes.io/hostname: "$name", kubernetes.io/os: linux, kubernetes.io/arch: amd64$extra}
EOF
  # Admission adds a not-ready taint; nothing removes it without the node lifecycle controller.
  k patch node "$name" --type=merge -p '{"spec":{"taints":null}}' >/dev/null
  k patch node "$name" --subresource=status --type=merge -p "$(cat <<EOF
{"status":{
  "conditions":[
    {"type":"Ready","status":"True","reason":"KubeletReady","message":"registered by scripts/cluster.sh","lastHeartbeatTime":"$ts","lastTransitionTime":"$ts"},
    {"type":"MemoryPressure","status":"False","reason":"KubeletHasSufficientMemory","lastHeartbeatTime":"$ts","lastTransitionTime":"$ts"},
    {"type":"DiskPressure","status":"False","reason":"KubeletHasNoDiskPressure","lastHeartbeatTime":"$ts","lastTransitionTime":"$ts"},
    {"type":"PIDPressure","status":"False","reason":"KubeletHasSufficientPID","lastHeartbeatTime":"$ts","lastTransitionTime":"$ts"}],
  "addresses":[{"type":"InternalIP","address":"$ip"},{"type":"Hostname","address":"$name"}],
  "daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},
  "capacity":{"cpu":"2","memory":"8Gi","pods":"110"},
  "allocatable":{"cpu":"2","memory":"8Gi","pods":"110"},
  "nodeInfo":{"machineID":"","systemUUID":"","bootID":"","kernelVersion":"","osImage":"fake","containerRuntimeVersion":"fake://0","kubeletVersion":"$K8S_VERSION","kubeProxyVersion":"","operatingSystem":"linux","architecture":"amd64"}
}}
EOF
)" >/dev/null
  log "registered Ready node $name"
}

setup_cluster() { # idempotent: RBAC, nodes; redone when rbac.yaml, coredns.yaml or this changes
  local stamp
  stamp=$(cat "$SCRIPTS/cluster/rbac.yaml" "$SCRIPTS/cluster/coredns.yaml" <(echo "fake node tainted") | sha256sum | cut -c1-16)
  [ "$(cat "$STATE/setup.stamp" 2>/dev/null)" = "$stamp" ] && k get node "$NODE_NAME" >/dev/null 2>&1 && return 0
  k apply -f "$SCRIPTS/cluster/rbac.yaml" >/dev/null
  k apply -f "$SCRIPTS/cluster/coredns.yaml" >/dev/null
  log "applied scripts/cluster/rbac.yaml and coredns.yaml"
  register_node "$NODE_NAME" 127.0.0.1
  register_node "$FAKE_NODE" 127.0.0.2 ', kubectl-ephemeral/fake-node: "true"'
  # The scheduler must not place pods on the node no kubelet runs (they would never start); tests
  # that want it bind pods to it by nodeName, which no taint stops. Also for a cluster from before.
  k taint node "$FAKE_NODE" kubectl-ephemeral/fake-node=true:NoSchedule --overwrite >/dev/null
  echo "$stamp" > "$STATE/setup.stamp"
}

wait_default_sa() {
  local _
  for _ in $(seq 1 300); do
    k get serviceaccount default -n default >/dev/null 2>&1 &&
      k get configmap kube-root-ca.crt -n default >/dev/null 2>&1 && return 0
    pid_of kube-controller-manager >/dev/null || die "kube-controller-manager exited; see $LOGS/kube-controller-manager.log"
    sleep 0.2
  done
  die "no default ServiceAccount after 60s; see $LOGS/kube-controller-manager.log"
}

# ------------------------------------------------------------------------------------ commands
same_version_or_die() { # a state dir holds one version: never reuse (or stop) another's cluster
  local had
  had=$(sed -n 's/^KE_K8S_VERSION=//p' "$STATE/env" 2>/dev/null || true)
  [ -z "$had" ] || [ "$had" = "$K8S_VERSION" ] ||
    die "$STATE holds a $had cluster, not $K8S_VERSION; unset KE_STATE_DIR (each version has its own) or run with K8S_VERSION=$had"
}

cmd_up() {
  local with_node=0 a
  for a in "$@"; do
    case "$a" in
      --node) with_node=1 ;;
      *) die "unknown option for up: $a" ;;
    esac
  done
  # One node per machine (port 10250, the bridge, the kubepods cgroups): the default version's.
  [ "$with_node" = 0 ] || [ "$K8S_VERSION" = "$K8S_DEFAULT_VERSION" ] ||
    die "--node runs with the default version ($K8S_DEFAULT_VERSION) only; $K8S_VERSION gets a control plane"
  need_pkgs openssl curl iproute2 coreutils
  [ -x "$KUBECTL" ] || die "kubectl not found at $KUBECTL"
  if [ ! -x "$ETCD_BIN" ] || [ ! -x "$K8S_BIN/kube-apiserver" ] || [ ! -x "$K8S_BIN/kube-scheduler" ] || [ ! -x "$COREDNS_BIN" ]; then
    log "building binaries (cold: 15-30 min)"
  fi
  "$SCRIPTS/build-cluster-bins.sh" all >/dev/null
  mkdir -p "$STATE" "$LOGS" "$RUN"
  start_etcd   # etcd needs no PKI: let it start while the certificates are made
  make_pki
  write_files
  log "PKI and kubeconfigs ready ($(elapsed))"
  wait_etcd
  start_apiserver
  start_kcm
  start_scheduler
  setup_cluster
  wait_default_sa
  wait_for kcm 60 kcm_healthy || die "kube-controller-manager not healthy; see $LOGS/kube-controller-manager.log"
  wait_for kube-scheduler 60 sched_healthy || die "kube-scheduler not healthy; see $LOGS/kube-scheduler.log"
  log "control plane ready ($(elapsed))"
  if [ "$with_node" = 1 ]; then
    [ -x "$SCRIPTS/node.sh" ] || [ -f "$SCRIPTS/node.sh" ] || die "--node: scripts/node.sh does not exist yet"
    log "starting the node: scripts/node.sh up"
    KE_STATE_DIR="$STATE" bash "$SCRIPTS/node.sh" up >&2 8>&-
  fi
  # After the node: its bridge gateway is where pods send their queries.
  start_coredns
  log "cluster DNS ready on 127.0.0.1:$DNS_PORT$(grep -q '^\.:53 ' "$STATE/Corefile" && echo " and, for pods, $(pod_dns_ip):53") ($(elapsed))"
  echo "$STATE/admin.kubeconfig"
}

node_owned() { # does this state dir have a node to stop? node.sh's cleanup is machine-wide
  # (bridge, iptables, cgroups, sysctls), so a second cluster with its own KE_STATE_DIR must not
  # run it unless it started a node itself. The default state dir always does (leftovers).
  [ -f "$SCRIPTS/node.sh" ] || return 1
  [ -d "$STATE/node" ] || [ "$STATE" = "$REPO/.state/cluster" ]
}

cmd_down() {
  stop_procs coredns # it listens on the node's bridge, which node.sh down removes
  if node_owned; then
    log "stopping the node: scripts/node.sh down"
    KE_STATE_DIR="$STATE" bash "$SCRIPTS/node.sh" down >&2 8>&- || log "scripts/node.sh down failed (continuing)"
  fi
  stop_procs kube-scheduler kube-controller-manager kube-apiserver
  stop_procs etcd
  case "$STATE" in /|"$HOME"|"$REPO") die "refusing to remove $STATE" ;; esac
  rm -rf "$STATE"
  log "stopped; removed $STATE"
}

cmd_status() {
  local rc=0 name pid port health
  echo "state: $STATE (Kubernetes $K8S_VERSION)"
  for name in etcd kube-apiserver kube-controller-manager kube-scheduler coredns; do
    case $name in
      etcd) port=$ETCD_PORT; etcd_healthy && health=healthy || health=unhealthy ;;
      kube-apiserver) port=$API_PORT; api_ready && health=ready || health=not-ready ;;
      kube-controller-manager) port=$KCM_PORT; kcm_healthy && health=healthy || health=unhealthy ;;
      kube-scheduler) port=$SCHED_PORT; sched_healthy && health=healthy || health=unhealthy ;;
      coredns) port=$DNS_PORT; dns_ready && health=ready || health=not-ready ;;
    esac
    if pid=$(pid_of "$name"); then
      printf '%-24s pid %-8s 127.0.0.1:%-6s %s\n' "$name" "$pid" "$port" "$health"
    else
      printf '%-24s %-12s 127.0.0.1:%-6s %s\n' "$name" "not running" "$port" "$health"; rc=1
    fi
  done
  if [ -f "$STATE/env" ]; then
    echo "kubeconfig: $STATE/kubeconfig (contexts admin, debugger, reader); admin: $STATE/admin.kubeconfig"
    echo "audit log: $STATE/audit.log"
  fi
  if grep -q '^\.:53 ' "$STATE/Corefile" 2>/dev/null; then
    echo "cluster DNS for pods: $(sed -n '/^\.:53 /,/}/s/^ *bind //p' "$STATE/Corefile"):53 (the kubelet's clusterDNS)"
  fi
  if node_owned && [ -d "$STATE" ]; then
    KE_STATE_DIR="$STATE" bash "$SCRIPTS/node.sh" status || true
  fi
  return $rc
}

cmd_restart_apiserver() {
  pid_of kube-apiserver >/dev/null || die "kube-apiserver is not running; run scripts/cluster.sh up"
  stop_proc kube-apiserver
  start_apiserver
}

lock() { # one up/down at a time per state dir (parallel test runners may all call `up`)
  mkdir -p "$(dirname "$STATE")"
  exec 8>"$STATE.lock"
  flock -w 600 8 || die "another scripts/cluster.sh holds $STATE.lock"
}

case "${1:-}" in
  up) shift; same_version_or_die; lock; cmd_up "$@" ;;
  down) same_version_or_die; lock; cmd_down ;;
  status) cmd_status ;;
  restart-apiserver) lock; cmd_restart_apiserver ;;
  *) echo "usage: $0 up [--node] | down | status | restart-apiserver" >&2; exit 2 ;;
esac
