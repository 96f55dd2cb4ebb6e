# shellcheck shell=bash disable=SC2034 # sourced: the variables are the scripts'
# Pinned versions of everything the local cluster is built from; sourced by the scripts.
# k8s.io/kubernetes v1.35.4 expects etcd v3.6.5, which the module proxy no longer serves: v3.6.13 is
# the nearest served release of the same minor line. The matrix versions share it: v1.37.2 pins
# v3.6 too, and v1.30.14's etcd v3.5 client speaks the same v3 API to a v3.6 server.
K8S_DEFAULT_VERSION=v1.35.4
K8S_VERSION=${K8S_VERSION:-$K8S_DEFAULT_VERSION}
# The version matrix of `npm run test:versions` (besides the default): the oldest and the newest
# release the Go module proxy serves that a major provider still supports (EKS extended support
# reaches back to 1.30). Each runs its own control plane beside the default one.
K8S_MATRIX_VERSIONS=${K8S_MATRIX_VERSIONS:-v1.30.14 v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.13}
# Cluster DNS: the CoreDNS release whose go.mod pins k8s.io/client-go v0.35.4, the default cluster's
# own version (v1.15.0, the newest, moves to v0.37 and a `go 1.26.0` line; both build with Go 1.26).
COREDNS_VERSION=${COREDNS_VERSION:-v1.14.7}
KREW_VERSION=${KREW_VERSION:-v0.4.3}
KE_CACHE=${KUBECTL_EPHEMERAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-ephemeral}
