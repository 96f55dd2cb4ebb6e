# Pinned versions of everything the local cluster is built from; sourced by the scripts.
# k8s.io/kubernetes v1.35.4 expects etcd v3.6.5, which the module proxy no longer serves: v3.6.13 is
# the nearest served release of the same minor line.
K8S_VERSION=${K8S_VERSION:-v1.35.4}
ETCD_VERSION=${ETCD_VERSION:-v3.6.13}
KREW_VERSION=${KREW_VERSION:-v0.4.3}
KE_CACHE=${KUBECTL_EPHEMERAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-ephemeral}
