#!/usr/bin/env bash
# test-all.sh: on a fresh Debian 12 machine (root), install what the tests
# need (apt-get and npm only), then run every test layer:
#   static checks (typecheck, lint, import cycles) -> unit -> integration
#   (real glusterd on the host, in network namespaces) -> e2e (qemu VM lab).
# Env: SKIP_E2E=1 skips the VM lab layer (for quick local runs).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
t0=$(date +%s)
phase() { printf '\n=== %s (t+%ss)\n' "$1" "$(( $(date +%s) - t0 ))"; }

phase "host packages"
need=()
for p in protobuf-compiler; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
if [ -x test/e2e/lab/install-host-deps.sh ] || [ -f test/e2e/lab/install-host-deps.sh ]; then
  bash test/e2e/lab/install-host-deps.sh
fi

phase "npm ci"
npm ci --no-audit --no-fund

phase "static checks"
npm run typecheck
npm run lint

phase "unit tests"
npm test

if [ -d test/integration ]; then
  phase "integration tests (real glusterd)"
  npm run test:integration
fi

if [ "${SKIP_E2E:-0}" != 1 ] && [ -d test/e2e ]; then
  phase "e2e tests (VM lab)"
  npm run test:e2e
fi
phase "all tests passed"
