#!/usr/bin/env bash
# `make dev`: sets up everything on a fresh machine, then runs the whole product:
# - the local Kubernetes sandbox (infra/sandbox; binaries built once and cached) with its real
#   node where the machine allows;
# - Backstage's identity in it and the cluster config that the Kubernetes plugin and the chaos
#   plugin share (infra/demo/access.sh);
# - in the background while Backstage starts (infra/demo/up.sh): the agent installed with helm
#   (controller, node DaemonSet, admission webhook), the demo shop and its load generator on the
#   real node, a private Prometheus scraping them; without a real node, the shop on kwok nodes
#   and the agent controller as a host process (only pod-kill works then; the log says why);
# - Backstage with the chaos plugins: SQLite under .data/, guest sign-in, demo catalog, the app on
#   http://localhost:3000 and the backend on http://localhost:7007.
# It prints `[dev] ready in Ns` once the app, the backend and the demo cluster are all up.
# Ctrl-C stops everything it started.
#
# Environment: SANDBOX_DIR (default .sandbox), DEV_EXTRA_CONFIG (extra Backstage config files,
# a:b), DEV_APP_URL / DEV_BACKEND_URL (where to check readiness, when the extra config moves them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
started=$(date +%s%N)
elapsed() { echo $((($(date +%s%N) - started) / 1000000000)); }
# The Debian packages the real node, the images and Prometheus need (quick when present). Without
# root they may stay missing: the sandbox then runs without its real node, and says so.
scripts/system-deps.sh || echo "[dev] going on without them: the demo runs with what this machine has" >&2
# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh
SANDBOX_DIR="$(realpath -m "${SANDBOX_DIR:-$ROOT/.sandbox}")"
APP_URL="${DEV_APP_URL:-http://localhost:3000}"
BACKEND_URL="${DEV_BACKEND_URL:-http://localhost:7007}"
mkdir -p .data/sqlite

background=()
# kill_tree PID: the process and everything it started, children first (by PID, never by name).
kill_tree() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
  kill -TERM "$1" 2>/dev/null || true
}
stop() {
  trap - EXIT INT TERM
  local pid
  for pid in "${background[@]}"; do kill_tree "$pid"; done
  infra/demo/down.sh "$SANDBOX_DIR" || true
  infra/sandbox/sandbox.sh down --dir "$SANDBOX_DIR" || true
}
trap stop EXIT INT TERM

up_log=$(mktemp)
infra/sandbox/sandbox.sh up --dir "$SANDBOX_DIR" 2>&1 >/dev/null | tee "$up_log" >&2
# Why there is no real node, as sandbox.sh said it (the demo then says what that costs).
no_real_node=$(grep -o 'no real node: .*\|the real node failed to start' "$up_log" | head -n1 || true)
[[ "${SANDBOX_REAL_NODE:-auto}" != 0 ]] || no_real_node="SANDBOX_REAL_NODE=0 asked for none"
rm -f "$up_log"
infra/demo/access.sh "$SANDBOX_DIR"
DEMO_NO_REAL_NODE_REASON="${no_real_node:-the sandbox has no real node}" infra/demo/up.sh "$SANDBOX_DIR" &
background+=($!)

ready() { curl -sf -o /dev/null "$1"; }
# Says once when everything is up, and how long it took: the warm start time of `make dev`.
(
  until ready "$BACKEND_URL/.backstage/health/v1/readiness" && ready "$APP_URL" &&
    grep -q '^ready\|^failed' "$SANDBOX_DIR/demo/status" 2>/dev/null; do
    sleep 1
  done
  read -r state mode _ reason <"$SANDBOX_DIR/demo/status"
  if [[ $state == ready && $mode == real-node ]]; then
    echo "[dev] ready in $(elapsed)s: $APP_URL (sign in as guest; checkout → Chaos). Every fault runs on the real node."
  elif [[ $state == ready ]]; then
    echo "[dev] ready in $(elapsed)s: $APP_URL. NO REAL NODE ($reason): only pod-kill works."
  else
    echo "[dev] Backstage is up after $(elapsed)s, but the demo cluster is NOT: $(cut -d' ' -f2- "$SANDBOX_DIR/demo/status")"
  fi
) &
background+=($!)

configs=(--config "$ROOT/app-config.yaml" --config "$SANDBOX_DIR/app-config.yaml")
# Extra config files, e.g. the browser test's in-memory database: DEV_EXTRA_CONFIG=a.yaml:b.yaml
IFS=: read -ra extra <<<"${DEV_EXTRA_CONFIG:-}"
for file in "${extra[@]}"; do configs+=(--config "$file"); done

echo "[dev] starting Backstage: app $APP_URL, backend $BACKEND_URL"
yarn start "${configs[@]}"
