#!/usr/bin/env bash
# Builds the local node's container images without a registry and imports them into containerd.
#   scripts/images.sh build [IMAGE...]     build the missing archives, print their paths
#   scripts/images.sh import ADDRESS       build, then import all into containerd's k8s.io namespace
#   scripts/images.sh list                 print "short-name reference" pairs
# Each image is an OCI archive cached under $KE_CACHE/images/, keyed by a hash of its recipe and
# inputs, so a warm run only checks what containerd already holds.
set -euo pipefail
KE_LOG_PREFIX=images
# shellcheck source=scripts/node/lib.sh
source "$(dirname "$0")/node/lib.sh"
IMAGES_SRC=$KE_REPO/scripts/images

# short name -> the reference pods use (the presets name busybox and netshoot as on Docker Hub).
declare -A REF=(
  [pause]=localhost/kubectl-ephemeral/pause:3.10
  [busybox]=docker.io/library/busybox:1.36
  [netshoot]=docker.io/nicolaka/netshoot:v0.13
  [sample-app]=localhost/kubectl-ephemeral/sample-app:1
)
ORDER=(pause busybox sample-app netshoot)
NETSHOOT_PKGS=iproute2,tcpdump,curl,dnsutils,procps,net-tools,iputils-ping,bash,ca-certificates,less

# Tars a directory as one layer, reproducibly (sorted, epoch mtimes, root-owned).
tar_layer() {
  local dir=$1 out=$2
  (cd "$dir" && find . -mindepth 1 -maxdepth 1 -printf '%P\n' | LC_ALL=C sort |
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
      --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "$out" -T -)
}

# A root with busybox and its applet links, /etc/passwd and /tmp: the base of busybox and sample-app.
busybox_root() {
  local root=$1 applet
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/proc" "$root/sys" "$root/dev" "$root/var/www"
  chmod 1777 "$root/tmp"
  install -m 0755 /bin/busybox "$root/bin/busybox"
  # Applets go to /bin only: a single directory keeps PATH lookups simple and the layer small.
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
}

build_pause() {
  local work=$1
  need_pkgs gcc libc6-dev
  mkdir -p "$work/root"
  gcc -static -Os -s -o "$work/root/pause" "$IMAGES_SRC/pause.c"
  tar_layer "$work/root" "$work/layer.tar"
  echo '{"Entrypoint":["/pause"],"Env":[]}'
}

build_busybox() {
  local work=$1
  busybox_root "$work/root"
  tar_layer "$work/root" "$work/layer.tar"
  echo '{"Cmd":["sh"]}'
}

build_sample_app() {
  local work=$1
  busybox_root "$work/root"
  cp -r "$IMAGES_SRC/sample-app" "$work/root/app"
  chmod -R a+rX "$work/root/app"
  tar_layer "$work/root" "$work/layer.tar"
  echo '{"Cmd":["/bin/httpd","-f","-v","-p","8080","-h","/app"],"WorkingDir":"/app","ExposedPorts":{"8080/tcp":{}}}'
}

build_netshoot() {
  local work=$1 mirror=/etc/apt/sources.list.d/debian.sources
  need_pkgs mmdebstrap
  # The host's own sources reach the mirror this machine is allowed to use. The merged-usr hook
  # avoids the usrmerge package, which would pull in perl (~60 MB).
  [ -f "$mirror" ] || mirror=http://deb.debian.org/debian
  # shellcheck disable=SC2016 # "$1" in the hook is the chroot, expanded by mmdebstrap's hook shell
  SOURCE_DATE_EPOCH=0 mmdebstrap --quiet --variant=essential --include="$NETSHOOT_PKGS" \
    --aptopt='APT::Install-Recommends "false"' --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='rm -rf "$1"/var/cache/* "$1"/var/log/*.log "$1"/var/lib/dpkg/*-old' \
    bookworm "$work/layer.tar" "$mirror" >&2
  echo '{"Cmd":["bash"],"WorkingDir":"/root"}'
}

# The content key: the recipe's own text, the shared helpers and the inputs it copies from the host.
cache_key() {
  local name=$1 fn=build_${1//-/_}
  {
    declare -f "$fn" tar_layer busybox_root
    cat "$IMAGES_SRC/oci-pack.py"
    echo "${REF[$name]} $NETSHOOT_PKGS"
    case $name in
      pause) cat "$IMAGES_SRC/pause.c"; dpkg-query -W gcc libc6-dev 2>/dev/null || true ;;
      busybox) sha256sum /bin/busybox ;;
      sample-app) sha256sum /bin/busybox; (cd "$IMAGES_SRC/sample-app" && find . -type f | LC_ALL=C sort | xargs sha256sum) ;;
    esac
  } | sha256sum | cut -c1-16
}

# Prints the archive path of one image, building it first when the cache has no such key.
build_one() {
  local name=$1 key out work config
  case $name in busybox | sample-app) need_pkgs busybox-static ;; esac
  key=$(cache_key "$name")
  out=$KE_IMAGE_CACHE/$name-$key.oci.tar
  if [ ! -s "$out" ]; then
    log "building ${REF[$name]} (key $key)"
    mkdir -p "$KE_IMAGE_CACHE"
    work=$(mktemp -d "$KE_IMAGE_CACHE/.build-$name.XXXXXX")
    config=$("build_${name//-/_}" "$work")
    python3 "$IMAGES_SRC/oci-pack.py" --name "${REF[$name]}" --config "$config" --out "$out" "$work/layer.tar" >/dev/null
    rm -rf "$work"
    # Older archives of the same image are dead weight once a new key exists.
    find "$KE_IMAGE_CACHE" -maxdepth 1 -name "$name-*.oci.tar" ! -name "$name-$key.oci.tar" -delete
    log "built $out ($(du -h "$out" | cut -f1))"
  fi
  echo "$out"
}

# The manifest digest an archive carries, to compare with what containerd already has.
archive_digest() {
  tar --occurrence=1 -xOf "$1" index.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifests"][0]["digest"])'
}

import_all() {
  local address=$1 name archive have
  for name in "${ORDER[@]}"; do
    archive=$(build_one "$name")
    have=$(ctr -a "$address" -n k8s.io images ls "name==${REF[$name]}" 2>/dev/null | awk 'NR==2 {print $3}')
    if [ "$have" = "$(archive_digest "$archive")" ]; then
      continue
    fi
    log "importing ${REF[$name]}"
    ctr -a "$address" -n k8s.io images import "$archive" >&2
  done
}

case "${1:-}" in
  build) shift; [ $# -gt 0 ] || set -- "${ORDER[@]}"; for n in "$@"; do [ -n "${REF[$n]:-}" ] || die "unknown image $n"; build_one "$n"; done ;;
  import) [ -n "${2:-}" ] || die "usage: $0 import CONTAINERD_ADDRESS"; import_all "$2" ;;
  list) for n in "${ORDER[@]}"; do echo "$n ${REF[$n]}"; done ;;
  *) echo "usage: $0 build [IMAGE...] | import CONTAINERD_ADDRESS | list" >&2; exit 2 ;;
esac
