#!/usr/bin/env bash
# `make dev`: sets up everything on a fresh machine, then runs the whole demo:
# - the local Kubernetes sandbox (infra/sandbox; binaries built once and cached),
# - the CRDs, the demo workload and the agent controller (infra/demo),
# - Backstage with the chaos plugins: SQLite under .data/, guest sign-in, demo catalog,
#   the app on http://localhost:3000 and the backend on http://localhost:7007.
# Ctrl-C stops everything it started.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh
SANDBOX_DIR="${SANDBOX_DIR:-$ROOT/.sandbox}"
mkdir -p .data/sqlite

stop() {
  infra/demo/down.sh "$SANDBOX_DIR" || true
  infra/sandbox/sandbox.sh down --dir "$SANDBOX_DIR" || true
}
trap stop EXIT INT TERM

infra/sandbox/sandbox.sh up --dir "$SANDBOX_DIR" >/dev/null
infra/demo/up.sh "$SANDBOX_DIR"

configs=(--config "$ROOT/app-config.yaml" --config "$SANDBOX_DIR/app-config.yaml")
# Extra config files, e.g. the browser test's in-memory database: DEV_EXTRA_CONFIG=a.yaml:b.yaml
IFS=: read -ra extra <<<"${DEV_EXTRA_CONFIG:-}"
for file in "${extra[@]}"; do configs+=(--config "$file"); done

echo "[dev] starting Backstage: app http://localhost:3000, backend http://localhost:7007"
yarn start "${configs[@]}"
