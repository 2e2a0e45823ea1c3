#!/usr/bin/env bash
# Builds every deployable package and writes a pruned, production-only copy of each to OUT_DIR/<name>
# (the gateway, each subgraph of the registry, migrate): its compiled dist/, its package.json and
# node_modules holding its production dependencies only. The Dockerfile's build stage runs this, and
# so does CI in a clean copy of the repository, so the images and what CI boots cannot drift apart.
#
#   infra/docker/build-service.sh OUT_DIR [@stockgraph/<name> ...]   (default: every deployable package)
set -euo pipefail
out=${1:?usage: build-service.sh OUT_DIR [package ...]}
shift
cd "$(dirname "$0")/../.."
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The demo database template is for `pnpm start` on a workstation; no deployable package holds it.
DEMO_TEMPLATE=off pnpm install --frozen-lockfile
pnpm build "$@"
# pnpm deploy copies the package's "files" (dist) and installs its production dependencies from the
# lockfile; the workspace packages it was compiled from are devDependencies, bundled into dist.
pnpm exec tsx scripts/build.ts --list "$@" | while IFS=$'\t' read -r name dir; do
  short=${name#@stockgraph/}
  rm -rf "${out:?}/$short"
  pnpm --filter "$name" deploy --prod "$out/$short" >/dev/null
  # The copy's lockfile and workspace file are install inputs, not run-time needs.
  rm -f "$out/$short/pnpm-lock.yaml" "$out/$short/pnpm-workspace.yaml"
  # The software bill of materials of exactly what the copy installs (CycloneDX), shipped beside it.
  pnpm --filter "$name" sbom --sbom-format cyclonedx --sbom-type application --prod --out "$out/$short/sbom.cdx.json" >/dev/null
  echo "$short: $(du -sh "$out/$short" | cut -f1) in $out/$short ($dir)"
done
