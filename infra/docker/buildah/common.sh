# Sourced by base.sh and build.sh: one storage location and timing helper for both.
# shellcheck shell=bash

# vfs needs no overlay/fuse support and works on any filesystem, at the price of a full copy per layer;
# everything lives under one folder in /var/tmp so `rm -rf` of it frees it all.
BUILDAH_HOME=${BUILDAH_HOME:-/var/tmp/stockgraph-buildah}
BASE_IMAGE=${BASE_IMAGE:-localhost/stockgraph-node:24.22.3-bookworm}
NODE_VERSION=24.22.3
NPM_VERSION=${NPM_VERSION:-11.19.1}
PNPM_VERSION=12.4.2
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# Without a daemon there is no systemd/cgroup manager to talk to; chroot isolation needs neither
# user namespaces nor a runtime beyond what buildah itself ships.
export BUILDAH_ISOLATION=chroot STORAGE_DRIVER=vfs
bah() { buildah --root "$BUILDAH_HOME/storage" --runroot "$BUILDAH_HOME/run" --storage-driver vfs "$@"; }

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
