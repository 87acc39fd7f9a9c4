# shellcheck shell=bash
# Section 4 of test-lifecycle.sh: the real node. Sourced; uses its SANDBOX, D, WORK, check,
# pass, fail, skip and kubectl_in.

IMAGES_BUILD="$(cd "$SCRIPT_DIR/../images" && pwd)/build.sh"
REAL_NODE_CHECKS=16

# wait_until SECONDS CMD...: polls CMD every 0.5 s until it succeeds or SECONDS pass.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# Every call is bounded: --request-timeout does not bound an exec's stream.
k() { timeout 60 "$D/bin/kubectl" --kubeconfig "$D/kubeconfig" --request-timeout=10s "$@"; }

pod_ready() { [[ "$(k get pod "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]; }
pod_not_ready() { [[ "$(k get pod "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == False ]]; }
pod_ip() { k get pod "$1" -o jsonpath='{.status.podIP}'; }

# Pods for the real node: they select it and tolerate its taint (docs/sandbox.md).
real_node_pods() {
  local pull=Never
  cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: web-a, labels: {app: web}}
spec:
  nodeSelector: {chaoscraft.io/node: real}
  tolerations: [{key: chaoscraft.io/real-node, operator: Exists, effect: NoSchedule}]
  terminationGracePeriodSeconds: 5
  containers:
    - name: app
      image: $DEMO_REF
      imagePullPolicy: $pull
      readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: web-b, labels: {app: web}}
spec:
  nodeSelector: {chaoscraft.io/node: real}
  tolerations: [{key: chaoscraft.io/real-node, operator: Exists, effect: NoSchedule}]
  terminationGracePeriodSeconds: 5
  containers:
    - name: app
      image: $DEMO_REF
      imagePullPolicy: $pull
      readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}
---
# Ready only once a file exists in the container: the kubelet must run the probe in it.
apiVersion: v1
kind: Pod
metadata: {name: gate}
spec:
  nodeSelector: {chaoscraft.io/node: real}
  tolerations: [{key: chaoscraft.io/real-node, operator: Exists, effect: NoSchedule}]
  terminationGracePeriodSeconds: 5
  containers:
    - name: app
      image: $DEMO_REF
      imagePullPolicy: $pull
      readinessProbe: {exec: {command: [test, -e, /tmp/ready]}, periodSeconds: 1}
---
# No toleration: must not land on the real node.
apiVersion: v1
kind: Pod
metadata: {name: plain}
spec:
  containers: [{name: app, image: registry.invalid/never-pulled}]
EOF
}

# fetch_from POD URL: the body of URL fetched by a process inside POD.
fetch_from() {
  k exec "$1" -- node -e "fetch(process.argv[1], { signal: AbortSignal.timeout(10000) }).then(r => r.text()).then(t => process.stdout.write(t))" "$2"
}

# The API server through the `kubernetes` Service address, verified with the pod's CA.
apiserver_from() {
  k exec "$1" -- node -e '
    const https = require("https"), fs = require("fs");
    https.get({ host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT, path: "/version",
      ca: fs.readFileSync("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt") },
      r => { r.resume(); process.stdout.write(String(r.statusCode)); process.exit(0); })
      .on("error", e => { process.stdout.write(e.message); process.exit(0); });'
}

in_subnet() { [[ "$1" == "$2".* ]]; }
differ() { [[ -n "$1" && "$1" != "$2" ]]; }
contains() { [[ "$1" == *"$2"* ]]; }
equals() { [[ "$1" == "$2" ]]; }
on_kwok_node() { [[ "$(k get pod plain -o jsonpath='{.spec.nodeName}')" == kwok-node-* ]]; }

none_alive() {
  local pid
  for pid in "$@"; do kill -0 "$pid" 2>/dev/null && { echo "  pid $pid is alive" >&2; return 1; }; done
  return 0
}
all_alive() {
  local pid
  for pid in "$@"; do kill -0 "$pid" 2>/dev/null || return 1; done
}
no_mounts_under() { ! grep -qF " $1/" /proc/self/mountinfo; }
paths_gone() {
  local p
  for p in "$@"; do [[ -e "$p" ]] && { echo "  $p exists" >&2; return 1; }; done
  return 0
}
no_link() { ! ip link show "$1" >/dev/null 2>&1 || { echo "  link $1 exists" >&2; return 1; }; }
links_gone() {
  local l
  for l in "$@"; do ip link show "$l" >/dev/null 2>&1 && { echo "  link $l exists" >&2; return 1; }; done
  return 0
}
no_iptables_rule_for() { ! iptables-save | grep -F -e "$1" -e "$2" >&2; }
no_cgroup() { ! ls -d /sys/fs/cgroup/*/"$1" 2>/dev/null | grep . >&2; }
no_log_links() { ! find /var/log/containers -maxdepth 1 -lname "$1/*" 2>/dev/null | grep . >&2; }

test_real_node() {
  local err=$WORK/d.err up_ms t0 ms line node_ms
  t0=$(date +%s%3N)
  if ! "$SANDBOX" up --dir "$D" --nodes 1 --real-node >/dev/null 2>"$err"; then
    if grep -q "cannot run it" "$err"; then
      skip "real node: $(grep -o 'cannot run it: .*' "$err") ($REAL_NODE_CHECKS checks)"
      SKIPPED=$((SKIPPED + REAL_NODE_CHECKS - 1))
    else
      fail "real node: sandbox.sh up --real-node failed:"
      sed 's/^/  /' "$err" | tail -n 20
    fi
    return 0
  fi
  up_ms=$(($(date +%s%3N) - t0))
  node_ms=$(grep -o 'real node real-node-0 in [0-9.]*s' "$err" | grep -o '[0-9.]*s$' || echo '?')
  # shellcheck source=/dev/null
  source "$D/node/node.env"

  t0=$(date +%s%3N)
  line=$("$IMAGES_BUILD" demo-app 2>>"$err")
  read -r _ DEMO_REF DEMO_ARCHIVE <<<"$line"
  "$SANDBOX" load --dir "$D" "$DEMO_ARCHIVE" 2>>"$err"
  ms=$(($(date +%s%3N) - t0))
  real_node_pods | k apply -f - >/dev/null

  check "real node: Ready, tainted, beside the kwok node" \
    equals "$(k get node real-node-0 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.spec.taints[0].key}')" "True chaoscraft.io/real-node"
  check "real node: a pod without its toleration goes to a kwok node" wait_until 30 on_kwok_node
  check "real node: two demo-app pods become Ready (httpGet readiness probe)" \
    wait_until 90 eval 'pod_ready web-a && pod_ready web-b'
  check "real node: kubectl logs shows the app's own output" contains "$(k logs web-a)" "listening on :8080"
  check "real node: kubectl exec runs in the container (PID 1 is the app)" \
    contains "$(k exec web-a -- cat /proc/1/cmdline | tr '\0' ' ')" "demo-app.cjs"
  local ip_a ip_b
  ip_a=$(pod_ip web-a)
  ip_b=$(pod_ip web-b)
  check "real node: pod IPs are distinct, in the node's subnet ($ip_a, $ip_b)" \
    eval 'in_subnet "$ip_a" "${NODE_IP%.1}" && in_subnet "$ip_b" "${NODE_IP%.1}" && differ "$ip_a" "$ip_b"'
  check "real node: web-a reaches web-b by pod IP" equals "$(fetch_from web-a "http://$ip_b:8080/")" "ok"
  check "real node: web-b reaches web-a by pod IP" equals "$(fetch_from web-b "http://$ip_a:8080/")" "ok"
  check "real node: a pod reaches the API server at the kubernetes Service (TLS verified)" \
    equals "$(apiserver_from web-a)" "200"
  check "real node: the exec readiness probe keeps 'gate' unready" \
    eval 'wait_until 60 eval "k get pod gate -o jsonpath={.status.containerStatuses[0].started} | grep -q true" && sleep 3 && pod_not_ready gate'
  k exec gate -- touch /tmp/ready
  check "real node: ... and makes it Ready once the file exists" wait_until 20 pod_ready gate

  # What down must remove, recorded while it exists.
  local pids netns veths
  pids=$(cat /sys/fs/cgroup/pids/"$NODE_CGROUP_ROOT"/kubepods/*/*/*/cgroup.procs | sort -u | tr '\n' ' ' || true)
  netns=$(DIR=$D BIN=$("$SCRIPT_DIR/build.sh" --print-bin-dir) && source "$SCRIPT_DIR/realnode.sh" && pod_netns_paths | tr '\n' ' ')
  veths=$(ip -o link show master "$NODE_BRIDGE" | awk -F': ' '{print $2}' | cut -d@ -f1 | tr '\n' ' ')
  # shellcheck disable=SC2086
  check "real node: its pods run as real processes in its cgroups (pids $pids)" eval '[[ -n "$pids" ]] && all_alive $pids'
  # shellcheck disable=SC2086
  check "real node: each pod has its own network namespace and veth ($(wc -w <<<"$netns") netns, $(wc -w <<<"$veths") veths)" \
    eval '(( $(wc -w <<<"$netns") >= 3 && $(wc -w <<<"$veths") >= 3 ))'

  t0=$(date +%s%3N)
  "$SANDBOX" down --dir "$D" 2>>"$err"
  local down_ms=$(($(date +%s%3N) - t0))
  # shellcheck disable=SC2086
  check "real node down: no process left (sandbox's, shims, containers)" \
    eval 'no_procs_of "$D" && none_alive $pids'
  # shellcheck disable=SC2086
  check "real node down: no mount under the dir, no network namespace left" \
    eval 'no_mounts_under "$D" && paths_gone $netns'
  # shellcheck disable=SC2086
  check "real node down: no veth, no bridge, no iptables rule, no cgroup, no log link" \
    eval 'links_gone $veths && no_link "$NODE_BRIDGE" && no_iptables_rule_for "$D" "$NODE_BRIDGE" && no_cgroup "$NODE_CGROUP_ROOT" && no_log_links "$D"'

  printf 'real node timings: sandbox up with the real node %d.%ds (the real node %s of it); demo-app image build+load %d.%ds; down %d.%ds\n' \
    $((up_ms / 1000)) $(((up_ms % 1000) / 100)) "$node_ms" $((ms / 1000)) $(((ms % 1000) / 100)) $((down_ms / 1000)) $(((down_ms % 1000) / 100))
}
