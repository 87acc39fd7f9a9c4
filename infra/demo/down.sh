#!/usr/bin/env bash
# Stops the agent controller that infra/demo/up.sh started in DIR (by its PID file).
set -euo pipefail
dir="${1:?usage: down.sh SANDBOX_DIR}"
pidfile="$dir/pids/agent-controller.pid"
# The webhook fails open (failurePolicy Ignore), but nothing should point at a stopped agent.
if [[ -x "$dir/bin/kubectl" && -f "$dir/kubeconfig" ]]; then
  "$dir/bin/kubectl" --kubeconfig "$dir/kubeconfig" delete mutatingwebhookconfiguration chaoscraft-demo \
    --ignore-not-found --request-timeout=5s >/dev/null 2>&1 || true
fi
[[ -f "$pidfile" ]] || exit 0
pid="$(cat "$pidfile")"
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
fi
rm -f "$pidfile"
