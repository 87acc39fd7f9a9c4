#!/usr/bin/env bash
# Stops what infra/demo/up.sh started on the host for the sandbox in DIR: the private Prometheus
# and, without a real node, the agent controller (each by its PID file). What runs in the
# sandbox (the helm release, the shop) goes with the sandbox.
set -euo pipefail
dir="${1:?usage: down.sh SANDBOX_DIR}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ -d "$dir" ]] || exit 0

"$root/infra/demo/prometheus.sh" stop "$dir" || true

pidfile="$dir/pids/agent-controller.pid"
# The webhook fails open (failurePolicy Ignore), but nothing should point at a stopped agent.
if [[ -f "$pidfile" && -x "$dir/bin/kubectl" && -f "$dir/kubeconfig" ]]; then
  "$dir/bin/kubectl" --kubeconfig "$dir/kubeconfig" delete mutatingwebhookconfiguration chaoscraft-demo \
    --ignore-not-found --request-timeout=5s >/dev/null 2>&1 || true
fi
[[ -f "$pidfile" ]] || exit 0
pid="$(cat "$pidfile")"
# Only if it is still the agent started for this sandbox (a recycled PID is never signalled).
if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$dir/"; then
  kill -TERM "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
fi
rm -f "$pidfile"
