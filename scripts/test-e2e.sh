#!/usr/bin/env bash
# `make test-e2e`: starts a fresh `make dev` stack (its own sandbox and an in-memory database),
# waits until the app is served and the demo cluster is ready, then runs against it:
#   1. the browser stories in headless Chromium, one after the other: e2e/chaosStory.test.ts,
#      then e2e/liveStory.test.ts (form, preview, signals, notification, score; its network-fault
#      steps skip, saying why, without the node daemon and Prometheus); screenshots land in
#      test-results/e2e/;
#   2. with the sandbox's real node, every fault the Chaos tab offers, through the backend's API
#      (e2e/everyFault.test.ts): each must end Completed or Aborted for a real reason, never
#      Failed for a missing component; it prints a table of fault → final phase and reason, and
#      the figures it measured in the targeted pod from this host while each fault held
#      (bandwidth, loss, cpu-stress, memory-stress against what was asked; each in a band).
# Stops the stack it started, and prints `make dev`'s start time.
#
# Ports: the app on E2E_APP_PORT (3000) and the backend on E2E_BACKEND_PORT (7007); set both to
# run beside another `make dev`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/system-deps.sh
# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh
APP_PORT=${E2E_APP_PORT:-3000}
BACKEND_PORT=${E2E_BACKEND_PORT:-7007}
APP_URL=http://localhost:$APP_PORT
BACKEND_URL=http://localhost:$BACKEND_PORT

for port in "$APP_PORT" "$BACKEND_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "e2e: port $port is in use (is make dev running?); the browser test needs it free"
    echo "e2e: 0 passed, 1 failed"
    exit 1
  fi
done

WORK="$(mktemp -d /tmp/chaoscraft-e2e.XXXXXX)"
cat >"$WORK/e2e-config.yaml" <<CONFIG
app:
  baseUrl: $APP_URL
backend:
  baseUrl: $BACKEND_URL
  listen:
    port: $BACKEND_PORT
  cors:
    origin: $APP_URL
  database:
    client: better-sqlite3
    connection: ':memory:'
CONFIG

setsid env SANDBOX_DIR="$WORK/sandbox" DEV_EXTRA_CONFIG="$WORK/e2e-config.yaml" \
  DEV_APP_URL="$APP_URL" DEV_BACKEND_URL="$BACKEND_URL" \
  scripts/dev.sh >"$WORK/dev.log" 2>&1 &
dev_pid=$!
stop_dev() {
  kill -TERM -- "-$dev_pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$dev_pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL -- "-$dev_pid" 2>/dev/null || true
  # dev.sh's own trap stops the agent and the sandbox; make sure even if it was killed hard.
  infra/demo/down.sh "$WORK/sandbox" 2>/dev/null || true
  infra/sandbox/sandbox.sh down --dir "$WORK/sandbox" --purge >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap stop_dev EXIT INT TERM

deadline=$(($(date +%s) + 600))
until grep -q '^\[dev\] ready in\|^\[dev\] Backstage is up' "$WORK/dev.log"; do
  if ! kill -0 "$dev_pid" 2>/dev/null || (($(date +%s) > deadline)); then
    tail -40 "$WORK/dev.log"
    echo "e2e: the dev stack did not come up"
    echo "e2e: 0 passed, 1 failed"
    exit 1
  fi
  sleep 1
done
grep '^\[dev\] ready in\|^\[dev\] Backstage is up\|NO REAL NODE' "$WORK/dev.log" | sed 's/^/e2e: /'
status_line=$(cat "$WORK/sandbox/demo/status")
if [[ $status_line == failed* ]]; then
  tail -40 "$WORK/dev.log"
  echo "e2e: the demo cluster did not come up: ${status_line#failed }"
  echo "e2e: 0 passed, 1 failed"
  exit 1
fi

mkdir -p test-results/e2e
status=0
skipped_here=0
run_suite() {
  E2E_KUBECONFIG="$WORK/sandbox/kubeconfig" E2E_OUTPUT_DIR="$ROOT/test-results/e2e" \
    E2E_APP_URL="$APP_URL" E2E_BACKEND_URL="$BACKEND_URL" \
    E2E_PROMETHEUS_URL="$(sed -n 's/^PROMETHEUS_URL=//p' "$WORK/sandbox/demo/env")" \
    node --require "$ROOT/node_modules/@backstage/cli/config/nodeTransform.cjs" \
    --test --test-reporter=spec "$@" 2>&1 | tee -a "$WORK/e2e.log" || status=$?
}
run_suite --test-concurrency=1 e2e/chaosStory.test.ts e2e/liveStory.test.ts
if [[ $status_line == "ready real-node"* ]]; then
  run_suite e2e/everyFault.test.ts
else
  skipped_here=1
  echo "e2e: skipped every fault on the real node: the sandbox has none (${status_line#ready kwok-only * })"
fi
sum() { grep -Eo "ℹ $1 [0-9]+" "$WORK/e2e.log" | awk '{s += $3} END {print s + 0}'; }
failed=$(sum fail)
((status == 0 || failed > 0)) || failed=1
echo "e2e: $(sum pass) passed, $failed failed, $(($(sum skipped) + skipped_here)) skipped"
echo "e2e: screenshots in test-results/e2e/"
exit "$status"
