#!/usr/bin/env bash
# The agent as users install it: the Helm chart, from the locally built image, onto the
# sandbox's real node. Checks:
#   1. `helm lint` and `helm template | kubectl apply --dry-run=server` pass;
#   2. `helm install` brings the controller up as the chart's ServiceAccount (never admin) and
#      the node DaemonSet up on the real node only;
#   3. a pod-kill ChaosRun through the installed agent kills a real demo-app pod, whose
#      container receives SIGTERM and drains within its grace period (seen in its own log);
#      a bandwidth run goes through the node daemon;
#   4. RBAC from the calls the agent made (the API server's audit log): every call of its two
#      service accounts succeeded, and `kubectl auth can-i` denies them secrets and node writes.
# Starts its own sandbox (with --real-node) unless CHART_TEST_SANDBOX_DIR names a running one
# with a real node. Prints one 'N passed, N failed, N skipped' line; exits non-zero on failure.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
SANDBOX="$SCRIPT_DIR/sandbox.sh"
CHART="$REPO_ROOT/charts/chaoscraft-agent"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/chaoscraft-chart.XXXXXX")
RELEASE_NS=chaoscraft-system
APP_NS=chart-test-app
PASSED=0
FAILED=0
SKIPPED=0
CHECKS=13
OWN_SANDBOX=0
LOGS_PIDS=()

pass() { PASSED=$((PASSED + 1)); printf 'ok   %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL %s\n' "$*"; }
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
  echo
  echo "chart: $PASSED passed, $FAILED failed, $SKIPPED skipped"
  ((FAILED == 0))
}

cleanup() {
  local pid
  for pid in "${LOGS_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  ((OWN_SANDBOX)) && "$SANDBOX" down --purge --dir "$DIR" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -n "${CHART_TEST_SANDBOX_DIR:-}" ]]; then
  DIR=$CHART_TEST_SANDBOX_DIR
else
  DIR=$WORK/sandbox
  OWN_SANDBOX=1
  if ! "$SANDBOX" up --dir "$DIR" --nodes 1 --real-node >/dev/null 2>"$WORK/up.err"; then
    if grep -q "cannot run it" "$WORK/up.err"; then
      printf 'skip the chart on the real node: %s (%d checks)\n' "$(grep -o 'cannot run it: .*' "$WORK/up.err")" "$CHECKS"
      SKIPPED=$CHECKS
      finish
      exit
    fi
    fail "sandbox.sh up --real-node:"
    tail -n 20 "$WORK/up.err"
    finish
  fi
fi
[[ -f "$DIR/node/node.env" ]] || { fail "$DIR has no real node"; finish; }
k() { timeout 60 "$DIR/bin/kubectl" --kubeconfig "$DIR/kubeconfig" --request-timeout=10s "$@"; }
helm_() { timeout 300 "$DIR/bin/helm" --kubeconfig "$DIR/kubeconfig" "$@"; }

wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# ---- images ----
t0=$SECONDS
while read -r image ref archive; do
  declare "REF_${image//-/_}=$ref"
  "$SANDBOX" load --dir "$DIR" "$archive" 2>/dev/null
done < <("$REPO_ROOT/infra/images/build.sh" agent demo-app 2>"$WORK/images.err")
images_s=$((SECONDS - t0))
REF_agent=${REF_agent:?image build failed: $(tail -n 5 "$WORK/images.err")}

# Sandbox values: the local image, everything on the real node (its taint tolerated), the CRI
# socket and ledger of this sandbox's node.
cat >"$WORK/values.yaml" <<EOF
image: {repository: ${REF_agent%:*}, tag: ${REF_agent##*:}, pullPolicy: Never}
controller:
  replicas: 1
  nodeSelector: {chaoscraft.io/node: real}
  tolerations: [{key: chaoscraft.io/real-node, operator: Exists, effect: NoSchedule}]
node:
  enabled: true
  nodeSelector: {chaoscraft.io/node: real}
  runtimeEndpoint: unix://$DIR/node/containerd.sock
  ledgerDir: $DIR/node/chaoscraft-ledger
EOF

# ---- 1. lint and server-side dry run ----
lint() { helm_ lint "$@" >"$WORK/lint.out" 2>&1 || { cat "$WORK/lint.out"; return 1; }; }
check "helm lint (default values)" lint "$CHART"
check "helm lint (sandbox values)" lint "$CHART" -f "$WORK/values.yaml"
k create namespace "$RELEASE_NS" >/dev/null
dry_run() {
  helm_ template chaoscraft "$CHART" -n "$RELEASE_NS" --include-crds -f "$WORK/values.yaml" |
    k apply --dry-run=server -f - >"$WORK/dry-run.out" 2>&1 || { tail -n 20 "$WORK/dry-run.out"; return 1; }
}
check "helm template | kubectl apply --dry-run=server" dry_run

# ---- 2. install ----
t0=$SECONDS
install() {
  helm_ install chaoscraft "$CHART" -n "$RELEASE_NS" -f "$WORK/values.yaml" --wait --timeout 180s \
    >"$WORK/install.out" 2>&1 || { tail -n 20 "$WORK/install.out"; k -n "$RELEASE_NS" get pods -o wide; return 1; }
}
check "helm install --wait (controller and node DaemonSet Ready)" install
install_s=$((SECONDS - t0))

controller_pod=$(k -n "$RELEASE_NS" get pods -l app.kubernetes.io/component=controller -o jsonpath='{.items[0].metadata.name}')
# Who the controller is to the API server: a SelfSubjectReview with the pod's own token.
whoami_in_controller() {
  k -n "$RELEASE_NS" exec "$controller_pod" -- node -e '
    const https = require("https"), fs = require("fs"), sa = "/var/run/secrets/kubernetes.io/serviceaccount";
    const req = https.request({ host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT,
      method: "POST", path: "/apis/authentication.k8s.io/v1/selfsubjectreviews", ca: fs.readFileSync(sa + "/ca.crt"),
      headers: { authorization: "Bearer " + fs.readFileSync(sa + "/token", "utf8"), "content-type": "application/json" } },
      r => { let b = ""; r.on("data", d => (b += d)); r.on("end", () => { const u = JSON.parse(b).status.userInfo;
        process.stdout.write(u.username + " " + u.groups.join(",")); process.exit(0); }); });
    req.on("error", e => { process.stdout.write(e.message); process.exit(0); });
    req.end(JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }));'
}
identity=$(whoami_in_controller || true)
check "the controller runs as its chart ServiceAccount, not an admin ($identity)" \
  eval '[[ "$identity" == "system:serviceaccount:$RELEASE_NS:chaoscraft-agent-controller "* && "$identity" != *system:masters* ]]'
lease_holder() { [[ "$(k -n "$RELEASE_NS" get lease chaoscraft-agent-controller -o jsonpath='{.spec.holderIdentity}')" == "$controller_pod" ]]; }
check "the controller holds the leader Lease" wait_until 60 lease_holder
node_pods=$(k -n "$RELEASE_NS" get pods -l app.kubernetes.io/component=node -o jsonpath='{range .items[*]}{.spec.nodeName}:{.status.phase} {end}')
check "the node DaemonSet runs on the real node only ($node_pods)" eval '[[ "$node_pods" == "real-node-0:Running " ]]'

# ---- 3. a pod kill through the installed agent ----
k create namespace "$APP_NS" >/dev/null
k label namespace "$APP_NS" chaoscraft.io/chaos-enabled=true >/dev/null
k -n "$APP_NS" apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {chaoscraft.io/node: real}
      tolerations: [{key: chaoscraft.io/real-node, operator: Exists, effect: NoSchedule}]
      terminationGracePeriodSeconds: 10
      containers:
        - name: app
          image: $REF_demo_app
          imagePullPolicy: Never
          env: [{name: DEMO_DRAIN_SECONDS, value: "2"}]
          readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}
EOF
ready_web() { [[ "$(k -n "$APP_NS" get deploy web -o jsonpath='{.status.readyReplicas}')" == 2 ]]; }
wait_until 120 ready_web || true
before=$(k -n "$APP_NS" get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.name} {end}')
# Each pod's log, followed from before the kill: a killed container's last lines stay here.
for pod in $before; do
  k -n "$APP_NS" logs -f "$pod" >"$WORK/log-$pod" 2>&1 &
  LOGS_PIDS+=($!)
done
k -n "$APP_NS" create -f - >/dev/null <<EOF
apiVersion: chaoscraft.io/v1alpha1
kind: ChaosRun
metadata: {name: kill-one, namespace: $APP_NS}
spec:
  entityRef: component:default/web
  target: {namespace: $APP_NS, labelSelector: {app: web}, selection: {mode: one}}
  faults: [{type: pod-kill, gracePeriodSeconds: 10}]
  duration: 5s
  safety: {maxBlastRadiusPercent: 50}
  # A Kubernetes probe: the controller reads the Deployment (apps/deployments get).
  hypothesis:
    interval: 2s
    probes: [{type: k8s, name: web-available, deployment: web, minAvailableRatio: 0.4}]
EOF
run_done() { [[ "$(k -n "$APP_NS" get chaosrun kill-one -o jsonpath='{.status.phase}')" =~ ^(Completed|Aborted|Failed)$ ]]; }
wait_until 120 run_done || true
phase=$(k -n "$APP_NS" get chaosrun kill-one -o jsonpath='{.status.phase} {.status.message}')
check "the ChaosRun completes through the installed agent ($phase)" eval '[[ "$phase" == Completed* ]]'
sigterm_seen() { grep -l "received SIGTERM" "$WORK"/log-* >/dev/null && grep -q "exiting" $(grep -l "received SIGTERM" "$WORK"/log-*); }
wait_until 30 sigterm_seen || true
victim_log=$(grep -l "received SIGTERM" "$WORK"/log-* 2>/dev/null | head -n1 || true)
drain=""
if [[ -n "$victim_log" ]]; then
  # Seconds from SIGTERM to exit, from the container's own timestamps.
  drain=$(awk '/received SIGTERM/ { a = $1 } /exiting/ { b = $1 } END {
    gsub(/[TZ:-]/, " ", a); gsub(/[TZ:-]/, " ", b); split(a, x, " "); split(b, y, " ");
    printf "%.1f", (y[4] * 3600 + y[5] * 60 + y[6]) - (x[4] * 3600 + x[5] * 60 + x[6]) }' "$victim_log")
fi
check "one killed container received SIGTERM and exited after its 2 s drain, inside the 10 s grace (${drain:-no SIGTERM seen}s)" \
  eval '[[ -n "$drain" ]] && awk -v d="$drain" "BEGIN { exit !(d >= 1.9 && d < 10) }"'

# A network fault: the node daemon finds the pod's network namespace through the CRI.
wait_until 120 ready_web || true
k -n "$APP_NS" create -f - >/dev/null <<EOF
apiVersion: chaoscraft.io/v1alpha1
kind: ChaosRun
metadata: {name: bandwidth-one, namespace: $APP_NS}
spec:
  entityRef: component:default/web
  target: {namespace: $APP_NS, labelSelector: {app: web}, selection: {mode: one}}
  faults: [{type: network-bandwidth, rateKbit: 1000}]
  duration: 5s
  safety: {maxBlastRadiusPercent: 50}
EOF
bandwidth_done() { [[ "$(k -n "$APP_NS" get chaosrun bandwidth-one -o jsonpath='{.status.phase}')" =~ ^(Completed|Aborted|Failed)$ ]]; }
wait_until 120 bandwidth_done || true
phase=$(k -n "$APP_NS" get chaosrun bandwidth-one -o jsonpath='{.status.phase}; target {.status.targets[0].phase}; events {.status.targets[0].events[*].reason}')
check "a bandwidth run on a real pod: injected, then recovered by the node daemon ($phase)" \
  eval '[[ "$phase" == "Completed; target Recovered; "* && "$phase" == *Injected* ]]'

# ---- 4. RBAC, from the calls the agent made ----
# Every request of the agent's two service accounts, from the audit log: "CODE VERB RESOURCE".
agent_calls() {
  python3 - "$DIR/logs/audit.log" "$RELEASE_NS" <<'EOF'
import json, sys
path, ns = sys.argv[1], sys.argv[2]
users = {f"system:serviceaccount:{ns}:chaoscraft-agent-controller": "controller",
         f"system:serviceaccount:{ns}:chaoscraft-agent-node": "node"}
seen = {}
for line in open(path):
    e = json.loads(line)
    who = users.get(e.get("user", {}).get("username"))
    if not who or "objectRef" not in e:
        continue
    o = e["objectRef"]
    res = (o.get("apiGroup") or "core") + "/" + o["resource"] + ("/" + o["subresource"] if o.get("subresource") else "")
    scope = "cluster" if not o.get("namespace") else ("own-ns" if o["namespace"] == ns else "other-ns")
    key = (who, str(e.get("responseStatus", {}).get("code", "?")), e["verb"], res, scope)
    seen[key] = seen.get(key, 0) + 1
for (who, code, verb, res, scope), n in sorted(seen.items()):
    print(who, code, verb, res, scope, n)
EOF
}
agent_calls >"$WORK/calls.txt"
denied=$(awk '$2 == 401 || $2 == 403' "$WORK/calls.txt")
check "every API call of the agent's service accounts succeeded ($(wc -l <"$WORK/calls.txt") distinct calls${denied:+; denied: $(echo $denied)})" \
  eval '[[ -s "$WORK/calls.txt" && -z "$denied" ]]'
echo "  the calls (account, status, verb, resource, scope, count):"
sed 's/^/    /' "$WORK/calls.txt"
can_i() { k auth can-i --as="system:serviceaccount:$RELEASE_NS:$1" "${@:2}" 2>/dev/null; }
denies() { local who=$1; shift; ! can_i "$who" "$@" >/dev/null; }
check "can-i: the controller may not read secrets, nor write nodes" \
  eval 'denies chaoscraft-agent-controller get secrets -A && denies chaoscraft-agent-controller list secrets -n "$APP_NS" && denies chaoscraft-agent-controller patch nodes && denies chaoscraft-agent-controller delete nodes && denies chaoscraft-agent-controller create pods -n "$APP_NS"'
check "can-i: the node daemon may not read secrets or pods, nor write nodes" \
  eval 'denies chaoscraft-agent-node get secrets -A && denies chaoscraft-agent-node list pods -A && denies chaoscraft-agent-node patch nodes && denies chaoscraft-agent-node update chaosruns -n "$APP_NS"'

printf 'chart timings: images build+load %ds, helm install to Ready %ds\n' "$images_s" "$install_s"
helm_ uninstall chaoscraft -n "$RELEASE_NS" --wait >/dev/null 2>&1 || true
finish
