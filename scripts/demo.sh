#!/usr/bin/env bash
# `npm run demo`: builds the plugin, starts (or reuses) the local cluster with its real node, makes
# sure namespace "demo" holds a running sample app, and puts you in a `net` debug shell in that pod.
# The scheduler places the pod on the node; in the shell, `nslookup kubernetes.default` asks the
# cluster's DNS. Without a terminal on stdin (CI, a pipe) it runs `ip addr; ss -lnt` in the debug
# container instead.
# Exit the shell to end; `scripts/cluster.sh down` stops the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

STATE=${KE_STATE_DIR:-$PWD/.state/cluster}
KUBECONFIG_FILE=$STATE/kubeconfig
POD=sample-app
NS=demo
step() { printf '== %s\n' "$*" >&2; }

step "building the plugin"
npm run --silent build

step "starting the local cluster and its node (reused when already up)"
scripts/cluster.sh up --node >/dev/null

k() { kubectl --kubeconfig "$KUBECONFIG_FILE" --context admin "$@"; }

if ! k get namespace "$NS" >/dev/null 2>&1; then
  step "creating namespace $NS"
  k create namespace "$NS" >/dev/null
  for _ in $(seq 1 60); do k -n "$NS" get serviceaccount default >/dev/null 2>&1 && break; sleep 0.5; done
fi
if ! k -n "$NS" get pod "$POD" >/dev/null 2>&1; then
  step "creating pod $NS/$POD (the sample app, busybox httpd on :8080, as uid 1000)"
  k -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $POD
  labels: {app: sample-app}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {runAsUser: 1000}
  containers:
    - name: app
      image: localhost/kubectl-ephemeral/sample-app:1
      imagePullPolicy: IfNotPresent
      ports: [{containerPort: 8080}]
EOF
fi
step "waiting for $NS/$POD to run"
k -n "$NS" wait --for=condition=Ready "pod/$POD" --timeout=90s >/dev/null

if [ -t 0 ]; then
  step "kubectl ephemeral net $POD -n $NS: you are in the pod's network namespace; exit to leave"
  exec plugin/kubectl-ephemeral net "$POD" -n "$NS" --kubeconfig "$KUBECONFIG_FILE"
fi
step "no terminal: running ip addr; ss -lnt in a network debug container"
exec plugin/kubectl-ephemeral net "$POD" -n "$NS" --kubeconfig "$KUBECONFIG_FILE" -- sh -c 'ip addr; ss -lnt'
