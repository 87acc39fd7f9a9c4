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

# poll SECONDS DESCRIPTION COMMAND...: runs COMMAND until it succeeds. Unlike `kubectl wait`,
# which fails at once while the object has no status yet (a CRD just applied has no
# conditions), a missing or not-yet-true answer only means "not yet".
poll() {
  local budget=$1 what=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { log "gave up after ${budget}s waiting for $what"; return 1; }
    sleep 0.5
  done
}
crd_established() {
  [[ "$("${kubectl[@]}" get crd "$1" -o jsonpath='{.status.conditions[?(@.type=="Established")].status}')" == True ]]
}

log "applying the ChaosCraft CRDs"
"${kubectl[@]}" apply --server-side -f "$root/charts/chaoscraft-agent/crds/" >/dev/null
for crd in chaosruns.chaoscraft.io chaosexperiments.chaoscraft.io; do
  poll 60 "CRD $crd to be established" crd_established "$crd"
done

log "deploying the demo workload in namespace chaos-demo"
"${kubectl[@]}" apply -f "$root/infra/demo/workload.yaml" >/dev/null
"${kubectl[@]}" -n chaos-demo rollout status deploy/checkout --timeout=120s >/dev/null
"${kubectl[@]}" -n chaos-demo rollout status deploy/payments --timeout=120s >/dev/null

# The agent's admission webhook (it plans runs while they are created, as the chart's default
# does): a self-signed serving certificate for 127.0.0.1 and a fixed free port, made once.
webhook="$dir/webhook"
if [[ ! -f "$webhook/tls.crt" ]]; then
  mkdir -p "$webhook"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$webhook/tls.key" -out "$webhook/tls.crt" 2>/dev/null
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' >"$webhook/port"
fi
webhook_port="$(cat "$webhook/port")"

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
    --webhook-port "$webhook_port" --webhook-bind-address 127.0.0.1 --webhook-cert-dir "$webhook" \
    >"$dir/logs/agent-controller.log" 2>&1 &
  echo $! >"$pidfile"
fi

log "registering the agent's admission webhook (https://127.0.0.1:$webhook_port)"
# Runs created before the agent listens are simply planned by preflight (failurePolicy Ignore);
# waiting for it makes the demo plan at admission from the first run on.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1"); }
poll 60 "the agent's webhook on port $webhook_port" listening "$webhook_port" ||
  log "registering it anyway: until the agent listens, runs are planned by preflight"
"${kubectl[@]}" apply -f - >/dev/null <<WEBHOOK
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: chaoscraft-demo
webhooks:
  - name: plan.chaosruns.chaoscraft.io
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: Ignore
    timeoutSeconds: 5
    clientConfig:
      url: https://127.0.0.1:$webhook_port/mutate-chaosrun
      caBundle: $(base64 -w0 "$webhook/tls.crt")
    namespaceSelector:
      matchLabels:
        chaoscraft.io/chaos-enabled: "true"
    rules:
      - apiGroups: [chaoscraft.io]
        apiVersions: [v1alpha1]
        operations: [CREATE]
        resources: [chaosruns]
WEBHOOK

cat >"$dir/app-config.yaml" <<CONFIG
# Written by infra/demo/up.sh: the local sandbox as the chaos plugin's only cluster.
chaos:
  clusters:
    - name: sandbox
      kubeconfigPath: $dir/kubeconfig
CONFIG
log "ready: kubectl --kubeconfig $dir/kubeconfig -n chaos-demo get pods"
