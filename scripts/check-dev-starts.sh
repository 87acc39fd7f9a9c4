#!/usr/bin/env bash
# Starts `make dev` N times in a row (default 10) and reports how long each took to be ready:
# the `[dev] ready in Ns` line, printed once the app, the backend and the demo cluster (the agent
# installed with helm, the shop, Prometheus) are all up. Stops it in between. A newcomer's first
# command must not be flaky: this is how that is checked. Run it from a clone with warm caches.
#
#   scripts/check-dev-starts.sh [N]
# DEV_APP_PORT / DEV_BACKEND_PORT (default 3000 / 7007) run it beside another `make dev`.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
runs="${1:-10}"
app_port=${DEV_APP_PORT:-3000}
backend_port=${DEV_BACKEND_PORT:-7007}
ports_config="$(mktemp /tmp/chaoscraft-dev-ports.XXXXXX.yaml)"
cat >"$ports_config" <<CONFIG
app:
  baseUrl: http://localhost:$app_port
backend:
  baseUrl: http://localhost:$backend_port
  listen:
    port: $backend_port
  cors:
    origin: http://localhost:$app_port
CONFIG
ok=0
failed=0
times=()
for i in $(seq 1 "$runs"); do
  log="$(mktemp /tmp/chaoscraft-dev-start.XXXXXX)"
  started=$(date +%s)
  setsid env DEV_EXTRA_CONFIG="$ports_config" DEV_APP_URL="http://localhost:$app_port" \
    DEV_BACKEND_URL="http://localhost:$backend_port" make dev >"$log" 2>&1 &
  pid=$!
  result=failed
  while kill -0 "$pid" 2>/dev/null && (($(date +%s) - started < 600)); do
    if grep -q '^\[dev\] ready in' "$log"; then
      result=ready
      break
    fi
    grep -q '^\[dev\] Backstage is up' "$log" && break
    sleep 1
  done
  kill -INT -- "-$pid" 2>/dev/null
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL -- "-$pid" 2>/dev/null
  if [[ $result == ready ]]; then
    ok=$((ok + 1))
    line=$(grep -m1 '^\[dev\] ready in' "$log")
    times+=("$(echo "$line" | grep -Eo 'ready in [0-9]+s' | grep -Eo '[0-9]+')")
    echo "start $i: $line"
    rm -f "$log"
  else
    failed=$((failed + 1))
    echo "start $i: NOT ready after $(($(date +%s) - started))s; last lines of $log:"
    tail -15 "$log"
  fi
done
rm -f "$ports_config"
((ok)) && echo "dev start times (s): ${times[*]}"
echo "dev starts: $ok passed, $failed failed"
((failed == 0))
