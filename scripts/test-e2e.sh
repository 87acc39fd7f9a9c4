#!/usr/bin/env bash
# `make test-e2e`: starts a fresh `make dev` stack (its own sandbox and an in-memory database),
# waits until the app is served, then plays the stories in headless Chromium, one after the other:
# e2e/chaosStory.test.ts, then e2e/liveStory.test.ts (form, preview, signals, notification, score;
# its network-fault steps skip, saying why, without the node daemon and Prometheus).
# Screenshots land in test-results/e2e/. Stops the stack it started.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/system-deps.sh
# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh

for port in 3000 7007; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "e2e: port $port is in use (is make dev running?); the browser test needs it free"
    echo "e2e: 0 passed, 1 failed"
    exit 1
  fi
done

WORK="$(mktemp -d /tmp/chaoscraft-e2e.XXXXXX)"
cat >"$WORK/e2e-config.yaml" <<'CONFIG'
backend:
  database:
    client: better-sqlite3
    connection: ':memory:'
CONFIG

setsid env SANDBOX_DIR="$WORK/sandbox" DEV_EXTRA_CONFIG="$WORK/e2e-config.yaml" \
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

ready() { curl -sf -o /dev/null "$1"; }
deadline=$(( $(date +%s) + 600 ))
until ready http://localhost:7007/.backstage/health/v1/readiness && ready http://localhost:3000; do
  if ! kill -0 "$dev_pid" 2>/dev/null || (( $(date +%s) > deadline )); then
    tail -40 "$WORK/dev.log"
    echo "e2e: the dev stack did not come up"
    echo "e2e: 0 passed, 1 failed"
    exit 1
  fi
  sleep 2
done
echo "e2e: dev stack ready"

mkdir -p test-results/e2e
status=0
E2E_KUBECONFIG="$WORK/sandbox/kubeconfig" E2E_OUTPUT_DIR="$ROOT/test-results/e2e" \
  node --require "$ROOT/node_modules/@backstage/cli/config/nodeTransform.cjs" \
  --test --test-concurrency=1 --test-reporter=spec e2e/chaosStory.test.ts e2e/liveStory.test.ts 2>&1 | tee "$WORK/e2e.log" || status=$?
count() { grep -Eo "ℹ $1 [0-9]+" "$WORK/e2e.log" | awk '{print $3}' | tail -1; }
echo "e2e: $(count pass || echo 0) passed, $(count fail || echo 1) failed, $(count skipped || echo 0) skipped"
echo "e2e: screenshots in test-results/e2e/"
exit "$status"
