#!/usr/bin/env bash
# Builds the local test cluster's binaries from the Go module proxy, once per version:
# kube-apiserver, kube-controller-manager, kube-scheduler and kubelet from k8s.io/kubernetes, etcd from
# go.etcd.io/etcd/server/v3, CoreDNS from github.com/coredns/coredns (scripts/cluster/coredns/main.go:
# only the plugins the cluster uses). Prints the directory holding them as its last line.
#   scripts/build-cluster-bins.sh [all|kubernetes|etcd|coredns]
set -euo pipefail
# shellcheck source=scripts/versions.sh
source "$(dirname "$0")/versions.sh"

export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=-buildvcs=false
k8s_dir="$KE_CACHE/bin/kubernetes-$K8S_VERSION"
etcd_dir="$KE_CACHE/bin/etcd-$ETCD_VERSION"
coredns_dir="$KE_CACHE/bin/coredns-$COREDNS_VERSION"
SCRIPTS=$(cd "$(dirname "$0")" && pwd)
log() { echo "build-cluster-bins: $*" >&2; }

# Cached already: no lock, so a cluster of a built version starts while another version builds.
cached() {
  case "${1:-all}" in
    kubernetes) [ -x "$k8s_dir/kube-apiserver" ] && [ -x "$k8s_dir/kube-controller-manager" ] && [ -x "$k8s_dir/kube-scheduler" ] && [ -x "$k8s_dir/kubelet" ] ;;
    etcd) [ -x "$etcd_dir/etcd" ] ;;
    coredns) [ -x "$coredns_dir/coredns" ] ;;
    *) cached kubernetes && cached etcd && cached coredns ;;
  esac
}
if cached "${1:-all}"; then echo "$KE_CACHE/bin"; exit 0; fi

# One build at a time (two concurrent `go build`s of kube-apiserver would not fit in 2 cores well,
# and could race on the outputs): a second caller waits, then finds the cache warm.
# Already built: nothing to wait for (another version's build may hold the lock for minutes).
built() { local b; for b in kube-apiserver kube-controller-manager kube-scheduler kubelet; do [ -x "$k8s_dir/$b" ] || return 1; done; [ -x "$etcd_dir/etcd" ] && [ -x "$coredns_dir/coredns" ]; }
if [ "${1:-all}" = all ] && built; then echo "$KE_CACHE/bin"; exit 0; fi
mkdir -p "$KE_CACHE"
exec 9>"$KE_CACHE/build.lock"
if ! flock -n 9; then log "another build holds $KE_CACHE/build.lock; waiting for it"; flock 9; fi

build_kubernetes() {
  local want=(kube-apiserver kube-controller-manager kube-scheduler kubelet) missing=0 b
  for b in "${want[@]}"; do [ -x "$k8s_dir/$b" ] || missing=1; done
  [ "$missing" = 0 ] && return 0
  local work="$KE_CACHE/src/kubernetes-$K8S_VERSION" minor patch gomod
  minor=$(echo "$K8S_VERSION" | cut -d. -f2); patch=$(echo "$K8S_VERSION" | cut -d. -f3)
  mkdir -p "$work" "$k8s_dir"
  cd "$work"
  [ -f go.mod ] || go mod init ke.local/cluster-bins >/dev/null 2>&1
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  # k8s.io/kubernetes points its staging modules at ./staging; pin each to its published v0.N.P.
  {
    echo "require k8s.io/kubernetes $K8S_VERSION"
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod" |
      while read -r m; do echo "replace $m => $m v0.$minor.$patch"; done
  } > replaces.txt
  log "pinning $(grep -c '^replace' replaces.txt) staging modules at v0.$minor.$patch"
  sed -i '/^require\|^replace/d' go.mod && cat replaces.txt >> go.mod
  # Only what is missing: a cache from before kube-scheduler was added builds that one alone.
  local pkgs=() build=()
  for b in "${want[@]}"; do
    pkgs+=("k8s.io/kubernetes/cmd/$b")
    [ -x "$k8s_dir/$b" ] || build+=("k8s.io/kubernetes/cmd/$b")
  done
  go get "${pkgs[@]/%/@$K8S_VERSION}" >&2
  local pkgv=k8s.io/component-base/version cgv=k8s.io/client-go/pkg/version ld="-s -w" p
  for p in $pkgv $cgv; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  log "building ${build[*]##*/} $K8S_VERSION (cold: 15-30 min on 2 cores)"
  go build -ldflags "$ld" -o "$k8s_dir/" "${build[@]}" >&2
}

build_etcd() {
  [ -x "$etcd_dir/etcd" ] && return 0
  local work="$KE_CACHE/src/etcd-$ETCD_VERSION"
  mkdir -p "$work" "$etcd_dir"
  cd "$work"
  [ -f go.mod ] || go mod init ke.local/etcd-bin >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
  log "building etcd $ETCD_VERSION"
  go build -ldflags "-s -w" -o "$etcd_dir/etcd" go.etcd.io/etcd/server/v3 >&2
}

build_coredns() {
  [ -x "$coredns_dir/coredns" ] && return 0
  local work="$KE_CACHE/src/coredns-$COREDNS_VERSION"
  mkdir -p "$work" "$coredns_dir"
  cd "$work"
  cp "$SCRIPTS/cluster/coredns/main.go" main.go
  [ -f go.mod ] || go mod init ke.local/coredns-bin >/dev/null 2>&1
  go get "github.com/coredns/coredns@$COREDNS_VERSION" >&2
  go mod tidy >&2 # the go.sum lines of the packages main.go imports, and nothing upgraded
  log "building coredns $COREDNS_VERSION"
  go build -ldflags "-s -w" -o "$coredns_dir/coredns" . >&2
}

case "${1:-all}" in
  kubernetes) build_kubernetes ;;
  etcd) build_etcd ;;
  coredns) build_coredns ;;
  all) build_etcd; build_kubernetes; build_coredns ;;
  *) log "usage: $0 [all|kubernetes|etcd|coredns]"; exit 2 ;;
esac
echo "$KE_CACHE/bin"
