#!/usr/bin/env bash
# Readies a sandbox for the demo: the generated CRDs, the demo workload (checkout with 10 pods
# and a PodDisruptionBudget, payments), and the agent controller as a background process
# pointed at it. Writes DIR/app-config.yaml so the backend knows the cluster.
#
#   infra/demo/up.sh DIR      (DIR: a running sandbox, as from infra/sandbox/sandbox.sh up)
#   infra/demo/down.sh DIR    stops the agent this script started
set -euo pipefail

dir="$(cd "${1:?usage: up.sh SANDBOX_DIR}" && pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kubectl=("$dir/bin/kubectl" --kubeconfig "$dir/kubeconfig")
# Node 22 for the agent, as everywhere else.
# shellcheck source=scripts/bootstrap.sh
source "$root/scripts/bootstrap.sh" >/dev/null
log() { printf '[demo] %s\n' "$*" >&2; }

log "applying the ChaosCraft CRDs"
"${kubectl[@]}" apply --server-side -f "$root/charts/chaoscraft-agent/crds/" >/dev/null
"${kubectl[@]}" wait --for condition=established --timeout=60s crd/chaosruns.chaoscraft.io >/dev/null

log "deploying the demo workload in namespace chaos-demo"
"${kubectl[@]}" apply -f "$root/infra/demo/workload.yaml" >/dev/null
"${kubectl[@]}" -n chaos-demo rollout status deploy/checkout --timeout=120s >/dev/null
"${kubectl[@]}" -n chaos-demo rollout status deploy/payments --timeout=120s >/dev/null

pidfile="$dir/pids/agent-controller.pid"
if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  log "agent controller already running (pid $(cat "$pidfile"))"
else
  log "starting the agent controller (log: $dir/logs/agent-controller.log)"
  mkdir -p "$dir/pids" "$dir/logs"
  # The demo agent lives in its own namespace (protected, like in production) and
  # needs no leader election with a single replica.
  "${kubectl[@]}" create namespace chaoscraft-system --dry-run=client -o yaml | "${kubectl[@]}" apply -f - >/dev/null
  # From the TypeScript sources through Backstage's transform, as the tests run it.
  nohup node --require "$root/node_modules/@backstage/cli/config/nodeTransform.cjs" \
    "$root/agent/src/main.ts" controller \
    --kubeconfig "$dir/kubeconfig" --namespace chaoscraft-system \
    --metrics-bind-address 127.0.0.1 --metrics-port 0 --leader-elect false \
    >"$dir/logs/agent-controller.log" 2>&1 &
  echo $! >"$pidfile"
fi

cat >"$dir/app-config.yaml" <<CONFIG
# Written by infra/demo/up.sh: the local sandbox as the chaos plugin's only cluster.
chaos:
  clusters:
    - name: sandbox
      kubeconfigPath: $dir/kubeconfig
CONFIG
log "ready: kubectl --kubeconfig $dir/kubeconfig -n chaos-demo get pods"
