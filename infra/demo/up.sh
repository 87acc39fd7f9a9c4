#!/usr/bin/env bash
# Readies a sandbox for the demo, as a platform team would set up a cluster (run
# infra/demo/access.sh first: it gives Backstage and Prometheus their identities):
#
# With the sandbox's real node (the default where the machine allows it):
#   1. the agent and demo-app images, built without Docker (infra/images/build.sh, cached) and
#      imported into the real node;
#   2. a private Prometheus on the host (infra/demo/prometheus.sh) that scrapes the demo shop,
#      its users and the agent;
#   3. the demo shop (infra/demo/workload: checkout with 10 pods and a PodDisruptionBudget,
#      payments) and its users (infra/demo/load: a bounded load generator), on the real node;
#   4. the agent, installed with `helm install` from charts/chaoscraft-agent: the controller as
#      its ServiceAccount, the node DaemonSet, the admission webhook, `controller.prometheusUrl`
#      set to that Prometheus.
# Without it (no root, no containerd, ...): the shop on kwok nodes and the agent controller as a
# host process, as before; only pod-kill works there, and it says so.
#
# Writes DIR/demo/status: `ready real-node SECONDS`, `ready kwok-only SECONDS REASON` or
# `failed REASON`; DIR/demo/env: PROMETHEUS_URL (host), MODE.
#
#   infra/demo/up.sh DIR      (DIR: a running sandbox, as from infra/sandbox/sandbox.sh up)
#   infra/demo/down.sh DIR    stops what this script started on the host
set -euo pipefail

dir="$(cd "${1:?usage: up.sh SANDBOX_DIR}" && pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kubectl=("$dir/bin/kubectl" --kubeconfig "$dir/kubeconfig")
helm=("$dir/bin/helm" --kubeconfig "$dir/kubeconfig")
demo="$dir/demo"
mkdir -p "$demo" "$dir/logs"
echo starting >"$demo/status"
started=$SECONDS
# Node 22 for the image bundles and the fallback's host agent, as everywhere else.
# shellcheck source=scripts/bootstrap.sh
source "$root/scripts/bootstrap.sh" >/dev/null
log() { printf '[demo +%ds] %s\n' "$((SECONDS - started))" "$*" >&2; }
failed() {
  log "FAILED: $*"
  echo "failed $*" >"$demo/status"
  exit 1
}

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
rollout() { "${kubectl[@]}" -n "$1" rollout status "deploy/$2" --timeout="${3:-180}s" >/dev/null; }

# ---- the real node ---------------------------------------------------------------------------

real_node_up() {
  local image ref archive prometheus_url node_prometheus_url
  log "images: agent and demo-app (infra/images/build.sh; cached by content)"
  declare -A refs=() archives=()
  "$root/infra/images/build.sh" agent demo-app >"$demo/images" 2>"$dir/logs/images.log" ||
    failed "image build: $(tail -n 5 "$dir/logs/images.log")"
  while read -r image ref archive; do
    refs[$image]=$ref
    archives[$image]=$archive
  done <"$demo/images"
  # A fresh node imports both every time (down removes its containerd): the shop's image first,
  # so its pods start while the agent's, three times larger, is imported.
  import() {
    "$root/infra/sandbox/sandbox.sh" load --dir "$dir" "${archives[$1]}" 2>>"$dir/logs/images.log" ||
      failed "could not import ${archives[$1]} into the real node: $(tail -n 3 "$dir/logs/images.log")"
  }
  import demo-app
  log "the demo shop and its users on the real node (namespaces chaos-demo, chaos-demo-load)"
  "${kubectl[@]}" apply -k "$root/infra/demo/workload" >/dev/null
  "${kubectl[@]}" apply -f "$root/infra/demo/load/load.yaml" >/dev/null
  import agent
  log "images imported into the real node"

  { read -r prometheus_url && read -r node_prometheus_url; } < <("$root/infra/demo/prometheus.sh" start "$dir") ||
    failed "Prometheus did not start (log: $demo/prometheus/prometheus.log)"
  log "Prometheus on $prometheus_url (pods reach it at $node_prometheus_url)"
  printf 'MODE=real-node\nPROMETHEUS_URL=%s\n' "$prometheus_url" >"$demo/env"

  # The chart's values for this sandbox: the local image, everything on the real node (its taint
  # tolerated), its CRI socket and a ledger in the node's directory, the Prometheus above.
  cat >"$demo/values.yaml" <<EOF
# Written by infra/demo/up.sh: charts/chaoscraft-agent on the sandbox in $dir.
image: {repository: ${refs[agent]%:*}, tag: ${refs[agent]##*:}, pullPolicy: Never}
controller:
  replicas: 1
  prometheusUrl: $node_prometheus_url
  nodeSelector: {chaoscraft.io/node: real}
  tolerations: [{key: chaoscraft.io/real-node, operator: Exists, effect: NoSchedule}]
node:
  enabled: true
  nodeSelector: {chaoscraft.io/node: real}
  runtimeEndpoint: unix://$dir/node/containerd.sock
  ledgerDir: $dir/node/chaoscraft-ledger
EOF
  log "helm install chaoscraft charts/chaoscraft-agent -n chaoscraft-system -f $demo/values.yaml"
  "${helm[@]}" upgrade --install chaoscraft "$root/charts/chaoscraft-agent" -n chaoscraft-system \
    --create-namespace -f "$demo/values.yaml" --wait --timeout 180s >"$dir/logs/helm.log" 2>&1 ||
    failed "helm install: $(tail -n 5 "$dir/logs/helm.log")"
  rollout chaos-demo checkout && rollout chaos-demo payments && rollout chaos-demo-load demo-load ||
    failed "the demo shop did not become ready: $("${kubectl[@]}" -n chaos-demo get pods --no-headers 2>&1 | awk '{print $1, $3}' | grep -v Running | head -n 3)"
  echo "ready real-node $((SECONDS - started))" >"$demo/status"
  log "ready in $((SECONDS - started))s: the agent (helm release chaoscraft in chaoscraft-system, node daemon on real-node-0), the shop, its users, Prometheus"
}

# ---- without a real node: kwok pods and the agent controller on the host -----------------------

crd_established() {
  [[ "$("${kubectl[@]}" get crd "$1" -o jsonpath='{.status.conditions[?(@.type=="Established")].status}')" == True ]]
}

kwok_only_up() {
  local reason=$1 webhook="$dir/webhook" webhook_port pidfile="$dir/pids/agent-controller.pid"
  log "NO REAL NODE ($reason):"
  log "  the demo shop runs on kwok nodes (no processes) and the agent controller as a host process;"
  log "  only pod-kill works. Network and stress faults are refused (NodeDaemonUnavailable: no node"
  log "  daemon), PromQL probes too (PrometheusNotConfigured: no Prometheus). docs/sandbox.md says"
  log "  what the real node needs."
  printf 'MODE=kwok-only\n' >"$demo/env"
  "${kubectl[@]}" apply --server-side -f "$root/charts/chaoscraft-agent/crds/" >/dev/null
  for crd in chaosruns.chaoscraft.io chaosexperiments.chaoscraft.io; do
    poll 60 "CRD $crd to be established" crd_established "$crd" || failed "CRD $crd not established"
  done
  "${kubectl[@]}" apply -k "$root/infra/demo/workload-kwok" >/dev/null

  # The agent's admission webhook (it plans runs while they are created, as the chart's default
  # does): a self-signed serving certificate for 127.0.0.1 and a fixed free port, made once.
  if [[ ! -f "$webhook/tls.crt" ]]; then
    mkdir -p "$webhook"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
      -keyout "$webhook/tls.key" -out "$webhook/tls.crt" 2>/dev/null
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' >"$webhook/port"
  fi
  webhook_port="$(cat "$webhook/port")"
  if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "agent controller already running (pid $(cat "$pidfile"))"
  else
    log "starting the agent controller on the host (log: $dir/logs/agent-controller.log)"
    mkdir -p "$dir/pids"
    "${kubectl[@]}" create namespace chaoscraft-system --dry-run=client -o yaml | "${kubectl[@]}" apply -f - >/dev/null
    # From the TypeScript sources through Backstage's transform, as the tests run it; its own
    # namespace is protected, as in production; one replica needs no leader election.
    nohup node --require "$root/node_modules/@backstage/cli/config/nodeTransform.cjs" \
      "$root/agent/src/main.ts" controller \
      --kubeconfig "$dir/kubeconfig" --namespace chaoscraft-system \
      --metrics-bind-address 127.0.0.1 --metrics-port 0 --leader-elect false \
      --webhook-port "$webhook_port" --webhook-bind-address 127.0.0.1 --webhook-cert-dir "$webhook" \
      >"$dir/logs/agent-controller.log" 2>&1 &
    echo $! >"$pidfile"
  fi
  # Runs created before the agent listens are simply planned by preflight (failurePolicy Ignore).
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
  rollout chaos-demo checkout 120 && rollout chaos-demo payments 120 || failed "the demo shop did not become ready on kwok nodes"
  echo "ready kwok-only $((SECONDS - started)) $reason" >"$demo/status"
  log "ready in $((SECONDS - started))s, kwok nodes only: only pod-kill works ($reason)"
}

if [[ -f "$dir/node/node.env" ]]; then
  real_node_up
else
  kwok_only_up "${DEMO_NO_REAL_NODE_REASON:-the sandbox has no real node}"
fi
log "kubectl --kubeconfig $dir/kubeconfig -n chaos-demo get pods -o wide"
