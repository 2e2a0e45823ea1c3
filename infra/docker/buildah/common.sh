# Sourced by base.sh and build.sh: one storage location and timing helper for both.
# shellcheck shell=bash

# vfs needs no overlay/fuse support and works on any filesystem, at the price of a full copy of the
# root file system for every container and layer (minutes and gigabytes here); where the kernel can
# mount overlay (this VM's can) overlay shares layers instead: the same six images took 25 min on vfs
# and 5 on overlay. Unset, BUILDAH_DRIVER is overlay where a test mount works, else vfs. Each driver
# has its own store, all under one folder in /var/tmp so `rm -rf` of it frees it all.
BUILDAH_HOME=${BUILDAH_HOME:-/var/tmp/stockgraph-buildah}
if [[ -z ${BUILDAH_DRIVER:-} ]]; then
  BUILDAH_DRIVER=vfs
  probe=$(mktemp -d /var/tmp/overlay-probe.XXXXXX)
  mkdir "$probe"/{l,u,w,m}
  if mount -t overlay overlay -o "lowerdir=$probe/l,upperdir=$probe/u,workdir=$probe/w" "$probe/m" 2>/dev/null; then
    umount "$probe/m" && BUILDAH_DRIVER=overlay
  fi
  rm -rf "$probe"
fi
echo "buildah storage: $BUILDAH_DRIVER in $BUILDAH_HOME" >&2
BASE_IMAGE=${BASE_IMAGE:-localhost/stockgraph-node:24.22.3-bookworm}
NODE_VERSION=24.22.3
NPM_VERSION=${NPM_VERSION:-11.19.1}
PNPM_VERSION=12.4.2
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# Without a daemon there is no systemd/cgroup manager to talk to; chroot isolation needs neither
# user namespaces nor a runtime beyond what buildah itself ships.
export BUILDAH_ISOLATION=chroot STORAGE_DRIVER=$BUILDAH_DRIVER BUILDAH_DRIVER
bah() {
  buildah --root "$BUILDAH_HOME/storage-$BUILDAH_DRIVER" --runroot "$BUILDAH_HOME/run-$BUILDAH_DRIVER" \
    --storage-driver "$BUILDAH_DRIVER" "$@"
}

step_started=0
step() {
  step_started=$SECONDS
  printf '\n== %s\n' "$*" >&2
}
done_step() { printf '== done in %ss: %s\n' "$((SECONDS - step_started))" "$*" >&2; }

need() {
  local missing=()
  for cmd in "$@"; do command -v "$cmd" >/dev/null || missing+=("$cmd"); done
  if ((${#missing[@]})); then
    # Debian packages are one of the two things this machine can reach.
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah debootstrap >/dev/null
  fi
}
