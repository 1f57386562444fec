#!/usr/bin/env bash
# test-all.sh: on a fresh Debian 12 machine (root), install what the tests
# need (apt-get and npm only), then run every test layer:
#   static checks (typecheck, lint, import cycles) -> unit -> integration
#   (real glusterd on the host, in network namespaces) -> image (the product
#   image built from the Dockerfile with buildah, then checked) -> e2e (qemu
#   VM lab, the programs run from that image). The Kubernetes layer
#   (npm run test:k8s) is not run here yet.
# Env: SKIP_E2E=1 skips the VM lab layer (for quick local runs).
# Not here: npm run bench (it measures, and takes longer than this script may).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
t0=$(date +%s)
phase() { printf '\n=== %s (t+%ss)\n' "$1" "$(( $(date +%s) - t0 ))"; }

phase "host packages (qemu, debootstrap, glusterfs, protoc, buildah, ...)"
bash lab/install-host-deps.sh

phase "npm ci"
npm ci --no-audit --no-fund

phase "static checks"
npm run typecheck
npm run lint

phase "unit tests"
npm test

phase "integration tests (real glusterd in network namespaces)"
npm run test:integration

phase "image tests (build or reuse the product image: buildah, local bases where no registry answers; then check it)"
npm run test:image

if [ "${SKIP_E2E:-0}" != 1 ]; then
  phase "e2e tests (VM lab: build or reuse the image, boot 3 VMs, run, power off)"
  # the last e2e file powers the lab off; this catches a run that dies before it
  trap 'npm run --silent lab -- down >/dev/null 2>&1 || true' EXIT
  # E2E_QUICK=1 (this script should finish in about an hour on 2 cores; with
  # every e2e case it took over 90 minutes): the node plugin's e2e runs the
  # xfs cycle and the wrong LUN (not ext4, Block, the restarts, the loops or
  # the HA cases); the fault matrix one cell (create); the block lock's
  # clock-skew case, the load and the lab-only smoke test are left out (the
  # integration layer runs the clock skew and every fault-matrix cell on real
  # glusterd). `npm run test:e2e` alone runs everything.
  # The benchmark is not run here (npm run bench measures; its quick run
  # alone took 10-15 minutes of this script's hour); typecheck covers its code.
  E2E_QUICK=1 npm run test:e2e
fi
phase "all tests passed"
