#!/usr/bin/env bash
# Starts `make dev` N times in a row (default 10) and reports how long each took to be ready
# (backend readiness and the app served), stopping it in between. A newcomer's first command
# must not be flaky: this is how that is checked. Run it from a fresh clone with warm caches.
#
#   scripts/check-dev-starts.sh [N]
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
runs="${1:-10}"
ok=0
failed=0
ready() { curl -sf -o /dev/null "$1"; }
for i in $(seq 1 "$runs"); do
  log="$(mktemp /tmp/chaoscraft-dev-start.XXXXXX)"
  started=$(date +%s)
  setsid make dev >"$log" 2>&1 &
  pid=$!
  result=failed
  while kill -0 "$pid" 2>/dev/null && (($(date +%s) - started < 600)); do
    if ready http://localhost:7007/.backstage/health/v1/readiness && ready http://localhost:3000; then
      result=ready
      break
    fi
    sleep 1
  done
  elapsed=$(($(date +%s) - started))
  kill -INT -- "-$pid" 2>/dev/null
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL -- "-$pid" 2>/dev/null
  if [[ $result == ready ]]; then
    ok=$((ok + 1))
    echo "start $i: ready in ${elapsed}s"
    rm -f "$log"
  else
    failed=$((failed + 1))
    echo "start $i: NOT ready after ${elapsed}s; last lines of $log:"
    tail -15 "$log"
  fi
done
echo "dev starts: $ok passed, $failed failed"
((failed == 0))
