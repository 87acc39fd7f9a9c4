#!/usr/bin/env bash
# The sandbox story on kind, for machines with Docker (.github/workflows/e2e.yaml runs it; so
# does `make test-kind`): a kind cluster, the agent and demo-app images built with Docker from
# their Containerfiles, the agent's chart installed with helm, the GitOps demo app
# (infra/gitops/demo-app), then ChaosRuns through the real chart: a dry run, a pod kill and a
# network loss on a real node (the node DaemonSet, iptables in the pod's network namespace), and
# every example experiment through a server-side dry run. Ends with "kind-e2e: N passed, N failed".
#
#   infra/kind/e2e.sh            KIND_CLUSTER (chaoscraft-e2e), KIND_KEEP=1 keeps the cluster,
#                                KIND_NODE_IMAGE overrides kind's default node image
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLUSTER=${KIND_CLUSTER:-chaoscraft-e2e}
TAG=e2e
passed=0 failed=0
pass() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
finish() { echo "kind-e2e: $passed passed, $failed failed"; [[ $failed -eq 0 ]]; }
log() { printf '[kind-e2e] %s\n' "$*" >&2; }

if ! docker info >/dev/null 2>&1; then
  fail "Docker is not available: this story needs a Docker engine (make test covers the rest without one)"
  finish
  exit 1
fi
KIND=$("$ROOT/infra/tools/build.sh" kind) || { fail "kind did not build"; finish; exit 1; }
BIN=$("$ROOT/infra/sandbox/build.sh") || { fail "helm and kubectl did not build"; finish; exit 1; }
WORK=$(mktemp -d /tmp/chaoscraft-kind.XXXXXX)
export KUBECONFIG=$WORK/kubeconfig
k() { "$BIN/kubectl" "$@"; }
cleanup() {
  if [[ "${KIND_KEEP:-0}" != 1 ]]; then "$KIND" delete cluster --name "$CLUSTER" >/dev/null 2>&1; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

log "kind cluster $CLUSTER"
"$KIND" create cluster --name "$CLUSTER" --wait 180s ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"} >&2 ||
  { fail "kind create cluster"; finish; exit 1; }
"$KIND" get kubeconfig --name "$CLUSTER" >"$KUBECONFIG"

# The images as the project defines them: staged build contexts, built from the Containerfiles.
for image in agent demo-app; do
  containerfile=$([[ $image == agent ]] && echo agent/Containerfile || echo infra/demo-app/Containerfile)
  if "$ROOT/infra/images/build.sh" --stage "$image" "$WORK/ctx-$image" >&2 &&
    docker build -q -f "$ROOT/$containerfile" -t "chaoscraft/$image:$TAG" "$WORK/ctx-$image" >/dev/null &&
    "$KIND" load docker-image --name "$CLUSTER" "chaoscraft/$image:$TAG" >&2; then
    pass "image chaoscraft/$image:$TAG built from $containerfile and loaded into kind"
  else
    fail "image $image"
  fi
done

log "installing the agent's chart"
if "$BIN/helm" upgrade --install chaoscraft-agent "$ROOT/charts/chaoscraft-agent" --namespace chaoscraft-system \
  --create-namespace --wait --timeout 5m --set image.repository=chaoscraft/agent --set image.tag=$TAG \
  --set image.pullPolicy=Never --set controller.replicas=1 >&2; then
  pass "helm install: the controller and the node DaemonSet are ready"
else
  fail "helm install"
  k -n chaoscraft-system get pods -o wide >&2
fi

log "deploying the demo app (infra/gitops/demo-app)"
k kustomize "$ROOT/infra/gitops/demo-app" | sed "s|image: chaoscraft/demo-app:.*|image: chaoscraft/demo-app:$TAG|" |
  k apply -f - >/dev/null
if k -n chaos-demo rollout status deploy/checkout --timeout=180s >&2; then
  pass "demo app: ten checkout pods ready behind their PodDisruptionBudget"
else
  fail "demo app rollout"
fi

# run_to_end FILE: creates the ChaosRun in FILE, waits for a terminal phase, prints its status.
run_to_end() {
  local name phase
  name=$(k create -f "$1" -o jsonpath='{.metadata.name}') || return 1
  for _ in $(seq 1 240); do
    phase=$(k -n chaos-demo get chaosrun "$name" -o jsonpath='{.status.phase}')
    [[ $phase == Completed || $phase == Aborted || $phase == Failed ]] && break
    sleep 1
  done
  k -n chaos-demo get chaosrun "$name" -o json
}
# check NAME JSON NODE_EXPRESSION: passes when the expression holds for the run's status `s`.
check() {
  local name=$1 json=$2 expression=$3
  if node -e "const s = JSON.parse(process.argv[1]).status ?? {}; process.exit(($expression) ? 0 : 1)" "$json" 2>/dev/null; then
    pass "$name"
  else
    fail "$name: $(node -e 'const s = JSON.parse(process.argv[1]).status ?? {}; console.log(JSON.stringify({phase: s.phase, verdict: s.verdict, reason: s.reason, message: s.message, targets: s.targets}))' "$json" 2>/dev/null)"
  fi
}

# shellcheck source=scripts/bootstrap.sh
command -v node >/dev/null || BOOTSTRAP_SKIP_INSTALL=1 source "$ROOT/scripts/bootstrap.sh" >/dev/null 2>&1

log "examples/runs/dry-run.yaml"
json=$(run_to_end "$ROOT/examples/runs/dry-run.yaml")
check "dry run: three of ten pods planned, none touched" "$json" \
  "s.phase === 'Completed' && s.blastRadius?.selected === 3 && s.blastRadius?.eligible === 10 && s.targets.every(t => t.phase !== 'Injected')"

log "examples/runs/pod-kill.yaml (10 s instead of 30 s)"
sed 's/^  duration: 30s/  duration: 10s/' "$ROOT/examples/runs/pod-kill.yaml" >"$WORK/pod-kill.yaml"
json=$(run_to_end "$WORK/pod-kill.yaml")
check "pod kill: one checkout pod evicted, the run Completed" "$json" \
  "s.phase === 'Completed' && s.targets.length === 1 && s.targets[0].phase === 'Injected'"

log "network loss on one pod, applied and reverted by the node daemon"
cat >"$WORK/loss.yaml" <<'RUN'
apiVersion: chaoscraft.io/v1alpha1
kind: ChaosRun
metadata: {generateName: checkout-loss-, namespace: chaos-demo}
spec:
  target: {namespace: chaos-demo, labelSelector: {app: checkout}, selection: {mode: one}}
  faults: [{type: network-loss, lossPercent: 30}]
  duration: 15s
RUN
json=$(run_to_end "$WORK/loss.yaml")
check "network loss: injected in the pod's network namespace, then recovered" "$json" \
  "s.phase === 'Completed' && s.targets.length === 1 && s.targets[0].phase === 'Recovered' && s.targets[0].injectedAt"

log "examples/experiments: server-side dry runs"
for file in "$ROOT"/examples/experiments/*.yaml; do
  if k apply --dry-run=server -f "$file" >/dev/null 2>"$WORK/exp.err"; then
    pass "$(basename "$file"): accepted by the API server"
  else
    fail "$(basename "$file"): $(cat "$WORK/exp.err")"
  fi
done

finish
