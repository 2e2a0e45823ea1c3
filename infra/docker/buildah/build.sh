#!/usr/bin/env bash
# Builds every image of infra/docker/Dockerfile with buildah (no daemon, no Docker Hub) on the base
# image from base.sh, then runs infra/docker/smoke.ts against the images' own file systems: each
# service's /app and the images' node, as uid 1000, against this machine's PostgreSQL and Redis.
#
#   infra/docker/buildah/build.sh [image ...]       (gateway, a subgraph's name, migrate, checker, backup; default: all, then the smoke test)
#   SMOKE=0 infra/docker/buildah/build.sh           (build only)
#   BUILD=0 infra/docker/buildah/build.sh           (smoke test the images already built)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
# shellcheck source=common.sh
source "$here/common.sh"
# The subgraphs and their default ports, from the registry (Node strips its types): each is an image
# of the Dockerfile's one `subgraph` target, built with its name and port as build arguments.
declare -A SUBGRAPH_PORTS=()
subgraphs=()
while read -r name port; do
  subgraphs+=("$name")
  SUBGRAPH_PORTS[$name]=$port
done < <(cd "$repo" && node --input-type=module -e "
  const { SUBGRAPHS, defaultPort } = await import('./packages/registry/src/index.ts');
  for (const s of SUBGRAPHS) console.log(s.name, defaultPort(s));")
((${#subgraphs[@]})) || { echo "no subgraphs read from packages/registry" >&2; exit 1; }
# The Node images the smoke test runs, then pgBackRest's image for the backup CronJobs.
SERVICE_TARGETS=(gateway "${subgraphs[@]}" migrate checker)
# Where smoke.ts finds each image's /app: the build's output directory of its package (the checker's is
# the operator CLI's build, out/cli).
declare -A OUT_NAMES=([checker]=cli)
ALL_TARGETS=("${SERVICE_TARGETS[@]}" backup)
targets=("$@")
((${#targets[@]})) || targets=("${ALL_TARGETS[@]}")
TAG=${TAG:-dev}
total=$SECONDS

"$here/base.sh"

declare -A ctrs=()
cleanup() {
  for c in "${ctrs[@]}"; do
    bah umount "$c" >/dev/null 2>&1 || true
    bah rm "$c" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

# This machine's egress re-signs TLS with its own CA, which only the host's bundle holds. Mounting
# it (and an npmrc pointing npm/pnpm at it) into RUN steps keeps it out of every image layer.
mkdir -p "$BUILDAH_HOME/ca"
printf 'cafile=/etc/ssl/certs/ca-certificates.crt\n' >"$BUILDAH_HOME/ca/npmrc"
tls=(-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro
  -v "$BUILDAH_HOME/ca/npmrc:/root/.npmrc:ro")

# BUILD=0 re-runs only the smoke test on images already built.
[[ ${BUILD:-1} == 1 ]] || targets=()
if ((${#targets[@]})); then
  step "snapshot the build context"
  # Every target must see the same context, or a file edited between two targets' builds makes
  # the next one miss the layer cache and redo the whole build stage. .dockerignore still applies.
  ctx=$BUILDAH_HOME/context
  rm -rf "$ctx" && mkdir -p "$ctx"
  tar -C "$repo" --exclude=./.git --exclude='*/node_modules' --exclude=./node_modules --exclude='*/dist' \
    --exclude=./.data --exclude=./tests/artifacts --exclude=./coverage -cf - . | tar -C "$ctx" -xf -
  done_step "$(du -sh "$ctx" | cut -f1)"
fi
for t in "${targets[@]}"; do
  step "build image $t"
  # A subgraph's image is the `subgraph` target with its name and port; the others are targets of their own.
  target=(--target "$t")
  [[ -z ${SUBGRAPH_PORTS[$t]:-} ]] ||
    target=(--target subgraph --build-arg "SUBGRAPH=$t" --build-arg "PORT=${SUBGRAPH_PORTS[$t]}")
  # --layers lets the 2nd..6th target reuse the build stage (pnpm install + build + deploy of every
  # service) instead of redoing it; --format docker because OCI images drop HEALTHCHECK.
  bah bud --quiet --layers --force-rm --format docker --isolation chroot \
    --build-arg NODE_IMAGE="$BASE_IMAGE" "${tls[@]}" \
    "${target[@]}" -t "localhost/stockgraph/$t:$TAG" -f "$ctx/infra/docker/Dockerfile" "$ctx" >/dev/null
  done_step "localhost/stockgraph/$t:$TAG $(bah images --format '{{.Size}}' "localhost/stockgraph/$t:$TAG")"
done
echo "store: $(du -sh "$BUILDAH_HOME/storage-$BUILDAH_DRIVER" | cut -f1)"

[[ ${SMOKE:-1} == 1 ]] || exit 0
for t in "${ALL_TARGETS[@]}"; do
  bah inspect --type image "localhost/stockgraph/$t:$TAG" >/dev/null || {
    echo "smoke needs every target; missing localhost/stockgraph/$t:$TAG" >&2
    exit 1
  }
done

step "mount the images and check each one's node, user and entry point"
declare -A mnts=()
for t in "${SERVICE_TARGETS[@]}"; do
  ctrs[$t]=$(bah from --pull-never "localhost/stockgraph/$t:$TAG")
  mnts[$t]=$(bah mount "${ctrs[$t]}")
  cfg=$(bah inspect --type image --format 'user={{.Docker.Config.User}} cmd={{.Docker.Config.Cmd}} healthcheck={{if .Docker.Config.Healthcheck}}{{.Docker.Config.Healthcheck.Test}}{{else}}none{{end}}' "localhost/stockgraph/$t:$TAG")
  entry=$(bah inspect --type image --format '{{index .Docker.Config.Cmd 2}}' "localhost/stockgraph/$t:$TAG")
  # -f follows a subgraph's server.js link to the file it names, inside the image.
  [[ -f ${mnts[$t]}/app/$entry ]] || { echo "$t: $entry not in the image's /app" >&2; exit 1; }
  echo "$t: $(chroot --userspec=1000:1000 "${mnts[$t]}" /usr/local/bin/node --version) $cfg"
done
# The backup image: pgBackRest runs as uid 1000 and finds its libraries.
ctrs[backup]=$(bah from --pull-never "localhost/stockgraph/backup:$TAG")
mnt=$(bah mount "${ctrs[backup]}")
echo "backup: $(chroot --userspec=1000:1000 "$mnt" /usr/bin/pgbackrest version) entrypoint=$(bah inspect --type image --format '{{.Docker.Config.Entrypoint}}' "localhost/stockgraph/backup:$TAG")"
done_step "images mounted"

step "smoke test inside the gateway image's root file system"
# smoke.ts starts every service with its own process.execPath, so running it with the image's node
# inside the image's root makes the services run on the image's node and libc. Each service's /app
# comes from its own image; the repository (smoke.ts and its dev dependencies) is mounted read-only.
# All mounts live in a private mount namespace, so they vanish with it however the test ends.
root=${mnts[gateway]}
unshare --mount --propagation private bash -euo pipefail -c '
  root=$1 repo=$2; shift 2
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mkdir -p "$root$repo" && mount --bind "$repo" "$root$repo" && mount -o remount,ro,bind "$root$repo"
  while (($#)); do
    mkdir -p "$root/out/$1" && mount --bind "$2/app" "$root/out/$1" && mount -o remount,ro,bind "$root/out/$1"
    shift 2
  done
  cd "$root$repo"
  exec chroot --userspec=1000:1000 "$root" /usr/bin/env -i HOME=/home/node PATH=/usr/local/bin:/usr/bin:/bin \
    ${TEST_DATABASE_URL:+TEST_DATABASE_URL=$TEST_DATABASE_URL} ${TEST_REDIS_URL:+TEST_REDIS_URL=$TEST_REDIS_URL} \
    sh -c "cd \"$repo\" && exec node node_modules/tsx/dist/cli.mjs infra/docker/smoke.ts /out"
' smoke "$root" "$repo" $(for t in "${SERVICE_TARGETS[@]}"; do printf '%s %s ' "${OUT_NAMES[$t]:-$t}" "${mnts[$t]}"; done)
done_step "smoke"
echo "all done in $((SECONDS - total))s; store $(du -sh "$BUILDAH_HOME/storage-$BUILDAH_DRIVER" | cut -f1)"
