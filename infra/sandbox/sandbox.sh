#!/usr/bin/env bash
# A real, local Kubernetes control plane without Docker: etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler run as plain processes, and kwok fakes the nodes
# (and the status of the pods scheduled onto them). Everything lives in one directory, on free
# loopback ports, so several sandboxes can run side by side.
#
#   infra/sandbox/sandbox.sh up     [--dir DIR] [--nodes N] [--real-node | --no-real-node]
#   infra/sandbox/sandbox.sh down   [--dir DIR] [--purge]
#   infra/sandbox/sandbox.sh status [--dir DIR]
#   infra/sandbox/sandbox.sh load   [--dir DIR] ARCHIVE...   (OCI archives into the real node)
#   infra/sandbox/sandbox.sh publish [--dir DIR] PORT   (a host loopback port, to the real node's
#                                    pods at NODE_IP:PORT; prints that address)
#
# Defaults: DIR=<repo>/.sandbox (env SANDBOX_DIR), N=3 (env SANDBOX_NODES), a real node
# (containerd + kubelet, realnode.sh) where the machine allows (env SANDBOX_REAL_NODE=auto|1|0).
# After `up`: export KUBECONFIG=DIR/kubeconfig; DIR/bin holds the matching kubectl and helm.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

# Start order; `down` stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
# Upper bound for each readiness wait. A warm start takes seconds; the margin is for a loaded
# 2-core CI machine.
READY_TIMEOUT="${SANDBOX_READY_TIMEOUT:-120}"
# Loopback address the whole sandbox binds to.
HOST=127.0.0.1
# The annotation kwok selects its nodes by, so it never touches a real node.
KWOK_NODE_ANNOTATION="kwok.x-k8s.io/node"
# The real node's components, started after the control plane and stopped before it.
NODE_COMPONENTS=(containerd kubelet)
# shellcheck source=infra/sandbox/realnode.sh
source "$SCRIPT_DIR/realnode.sh"

log() { printf 'sandbox: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '6,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ---- small helpers -----------------------------------------------------------------------

now_ms() { date +%s%3N; }
fmt_ms() { printf '%d.%ds' $(($1 / 1000)) $((($1 % 1000) / 100)); }

pid_file() { echo "$DIR/pids/$1.pid"; }

# is_ours PID: the process exists and was started for this sandbox. Every component gets
# paths inside $DIR on its command line, so a recycled PID (another program) never matches
# and is never signalled.
is_ours() {
  local pid=$1 cmdline
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  # The braces take the redirection's own error too: the process may exit between the test above
  # and the read.
  cmdline=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null) || return 1
  [[ "$cmdline" == *"$DIR/"* ]]
}

component_pid() {
  local f
  f=$(pid_file "$1")
  [[ -s "$f" ]] && cat "$f"
}

component_running() {
  local pid
  pid=$(component_pid "$1") || return 1
  is_ours "$pid"
}

# free_ports N: N distinct loopback ports the kernel reports free right now. All sockets are
# held open until every port is picked, so the N ports differ from each other.
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

kubectl_admin() { "$BIN/kubectl" --kubeconfig "$DIR/kubeconfig" --request-timeout=10s "$@"; }

load_ports() {
  [[ -f "$DIR/ports.env" ]] || return 1
  # shellcheck source=/dev/null
  source "$DIR/ports.env"
}

# ---- certificates ------------------------------------------------------------------------

# new_ca NAME CN: a self-signed CA (ECDSA P-256: key generation is instant, and every
# component accepts it).
new_ca() {
  local name=$1 cn=$2 pki=$DIR/pki
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/$name.key" 2>/dev/null
  openssl req -x509 -new -key "$pki/$name.key" -subj "/CN=$cn" -days 365 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "$pki/$name.crt" 2>/dev/null
}

# issue_cert NAME SUBJECT [SAN] [CA]: an ECDSA P-256 key and a certificate signed by CA
# (default: the cluster CA). With a SAN it is a serving and client cert, else client only.
issue_cert() {
  local name=$1 subject=$2 san=${3:-} ca=${4:-ca} pki=$DIR/pki ext
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/$name.key" 2>/dev/null
  openssl req -new -key "$pki/$name.key" -subj "$subject" -out "$pki/$name.csr" 2>/dev/null
  ext=$pki/$name.ext
  if [[ -n "$san" ]]; then
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$san" >"$ext"
  else
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >"$ext"
  fi
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/$ca.crt" -CAkey "$pki/$ca.key" -CAcreateserial \
    -days 365 -sha256 -extfile "$ext" -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$ext"
}

generate_pki() {
  local pki=$DIR/pki
  mkdir -p "$pki"
  chmod 700 "$pki"
  new_ca ca chaoscraft-sandbox-ca
  # The front-proxy (request-header) CA: the apiserver publishes it in the
  # extension-apiserver-authentication ConfigMap, which the controller-manager and scheduler
  # (and any aggregated API server, e.g. metrics-server) read to authenticate proxied requests.
  new_ca front-proxy-ca chaoscraft-sandbox-front-proxy-ca
  issue_cert front-proxy-client "/CN=front-proxy-client" "" front-proxy-ca
  issue_cert apiserver "/CN=kube-apiserver" \
    "IP:127.0.0.1,IP:$KUBERNETES_SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  # The admin is a member of system:masters, which RBAC always allows.
  issue_cert admin "/O=system:masters/CN=chaoscraft-admin"
  # The bootstrap RBAC policy has ClusterRoleBindings for these two user names.
  issue_cert kube-controller-manager "/CN=system:kube-controller-manager"
  issue_cert kube-scheduler "/CN=system:kube-scheduler"
  # kwok writes node and pod status for a whole fleet of fake kubelets; the Node authorizer
  # would only let a kubelet touch its own node, so kwok runs as a cluster admin.
  issue_cert kwok "/O=system:masters/CN=kwok"
  # The API server's client identity towards kubelets (logs, exec, port-forward).
  issue_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
  # Service-account tokens: RSA, the key type every token consumer supports.
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$pki/sa.key" 2>/dev/null
  openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
}

# write_kubeconfig FILE CERT_NAME: a kubeconfig with embedded credentials, so the file alone
# (handed to a test or another tool) is enough.
write_kubeconfig() {
  local file=$1 name=$2 pki=$DIR/pki
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: sandbox
  cluster:
    server: https://$HOST:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 "$pki/$name.crt")
    client-key-data: $(base64 -w0 "$pki/$name.key")
contexts:
- name: sandbox
  context:
    cluster: sandbox
    user: $name
    namespace: default
current-context: sandbox
EOF
  chmod 600 "$file"
}

# ---- process management --------------------------------------------------------------------

# start_component NAME ARGS...: runs $BIN/NAME detached in its own session (so a Ctrl-C in the
# caller's terminal does not reach it), with all output in its log and stdin closed, so the
# caller's pipes are not held open (Jest waits for them to close). The lock fd is closed too:
# a component holding it would block every later `down` of this dir.
start_component() {
  start_process "$1" "$BIN/$1" "${@:2}"
}

# start_process NAME EXECUTABLE ARGS...: the same for a program outside the sandbox's bin dir.
start_process() {
  local name=$1 exe=$2
  shift 2
  : >"$DIR/logs/$name.log"
  setsid "$exe" "$@" </dev/null >>"$DIR/logs/$name.log" 2>&1 {LOCK_FD}>&- &
  local pid=$! i
  echo "$pid" >"$(pid_file "$name")"
  STARTED+=("$name")
  # Until the forked shell has exec'd, /proc/PID/cmdline is still this script's, which is_ours
  # does not recognise: check_alive would report a component that is starting as one that
  # exited. Wait (up to 5 s) for its own command line, or for its exit.
  for ((i = 0; i < 500; i++)); do
    if is_ours "$pid" || ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.01
  done
}

# fail_with_log NAME REASON: show why a component failed, stop everything, exit non-zero.
fail_with_log() {
  local name=$1 reason=$2
  log "$name $reason; last lines of $DIR/logs/$name.log:"
  tail -n 30 "$DIR/logs/$name.log" >&2 || true
  exit 1
}

check_alive() {
  local name
  for name in "${STARTED[@]}"; do
    component_running "$name" || fail_with_log "$name" "exited during startup"
  done
}

# wait_for DESCRIPTION BLAME_COMPONENT COMMAND...: polls COMMAND until it succeeds, failing
# fast if any started component dies meanwhile, and blaming BLAME_COMPONENT on timeout.
wait_for() {
  local what=$1 blame=$2 deadline
  shift 2
  deadline=$((SECONDS + READY_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    check_alive
    ((SECONDS < deadline)) || fail_with_log "$blame" "did not get ready ($what) within ${READY_TIMEOUT}s"
    sleep 0.2
  done
}

# still_ours PID...: prints those of the PIDs that are still live processes of this sandbox.
still_ours() {
  local pid
  for pid in "$@"; do is_ours "$pid" && echo "$pid"; done
  return 0
}

# wait_gone TENTHS PID...: waits up to TENTHS/10 s for the PIDs to exit; prints survivors.
wait_gone() {
  local tenths=$1 i left
  shift
  for ((i = 0; i < tenths; i++)); do
    left=$(still_ours "$@")
    [[ -z "$left" ]] && return 0
    sleep 0.1
  done
  still_ours "$@"
}

# stop_components NAME...: SIGTERM, up to 15 s to exit, then SIGKILL. Fails if any survives.
stop_components() {
  local name pid pids=() survivors
  for name in "$@"; do
    pid=$(component_pid "$name") || continue
    if is_ours "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  survivors=$(wait_gone 150 "${pids[@]}")
  if [[ -n "$survivors" ]]; then
    log "pids $(echo "$survivors" | tr '\n' ' ')ignored SIGTERM for 15s; sending SIGKILL"
    # shellcheck disable=SC2086 # one PID per word
    kill -KILL $survivors 2>/dev/null || true
    # shellcheck disable=SC2086
    wait_gone 50 $survivors >/dev/null
  fi
  for name in "$@"; do
    if component_running "$name"; then
      log "error: $name (pid $(component_pid "$name")) is still running"
      return 1
    fi
    rm -f "$(pid_file "$name")"
  done
}

stop_all() {
  local reversed=() i
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do reversed+=("${COMPONENTS[i]}"); done
  # Clients first, all at once; etcd last, so the apiserver can shut down cleanly.
  stop_components "${reversed[@]:0:${#reversed[@]}-1}"
  stop_components etcd
}

# ---- up ------------------------------------------------------------------------------------

start_etcd() {
  # etcd warns about a data dir that others can read.
  mkdir -m 700 "$DIR/data/etcd"
  start_component etcd \
    --name=sandbox \
    --data-dir="$DIR/data/etcd" \
    --listen-client-urls="http://$HOST:$ETCD_PORT" \
    --advertise-client-urls="http://$HOST:$ETCD_PORT" \
    --listen-peer-urls="http://$HOST:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls="http://$HOST:$ETCD_PEER_PORT" \
    --initial-cluster="sandbox=http://$HOST:$ETCD_PEER_PORT" \
    --unsafe-no-fsync=true \
    --log-level=warn
  # --unsafe-no-fsync: the data is thrown away on `down`; skipping fsync makes writes (and so
  # a 5,000-pod benchmark) far faster on slow disks.
  wait_for "etcd /health" etcd curl -fsS "http://$HOST:$ETCD_PORT/health"
}

# The audit log records what workloads' service accounts ask the API server, so a test can
# derive the RBAC a component needs from the calls it made (infra/sandbox/test-chart.sh). The
# controllers' own accounts (kube-system) and every other user are not recorded: a 5,000-pod
# benchmark would write gigabytes.
write_audit_policy() {
  cat >"$DIR/config/audit-policy.yaml" <<EOF
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    userGroups: ["system:serviceaccounts:kube-system"]
  - level: Metadata
    userGroups: ["system:serviceaccounts"]
  - level: None
EOF
}

start_apiserver() {
  local pki=$DIR/pki
  write_audit_policy
  start_component kube-apiserver \
    --advertise-address="$HOST" \
    --bind-address="$HOST" \
    --secure-port="$APISERVER_PORT" \
    --etcd-servers="http://$HOST:$ETCD_PORT" \
    --tls-cert-file="$pki/apiserver.crt" \
    --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" \
    --requestheader-client-ca-file="$pki/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$pki/front-proxy-client.crt" \
    --proxy-client-key-file="$pki/front-proxy-client.key" \
    --authorization-mode=Node,RBAC \
    --service-account-issuer="https://kubernetes.default.svc.cluster.local" \
    --service-account-key-file="$pki/sa.pub" \
    --service-account-signing-key-file="$pki/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 \
    --endpoint-reconciler-type=none \
    --allow-privileged=true \
    --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --enable-aggregator-routing=true \
    --audit-policy-file="$DIR/config/audit-policy.yaml" \
    --audit-log-path="$DIR/logs/audit.log" \
    --audit-log-maxsize=100 \
    --audit-log-maxbackup=1 \
    --profiling=false \
    --max-requests-inflight=1000 \
    --max-mutating-requests-inflight=500
  # --endpoint-reconciler-type=none: there is no routable address to publish for the
  # `kubernetes` Service, and nothing inside the sandbox dials it.
  # Larger in-flight limits: a benchmark creates thousands of pods quickly on one apiserver.
  # --enable-aggregator-routing: admission webhooks (and aggregated APIs) behind a Service are
  # dialled at an endpoint's pod IP, not the ClusterIP: there is no kube-proxy, and the
  # real node's pod IPs are routable from the host.
  wait_for "apiserver /readyz" kube-apiserver \
    curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "https://$HOST:$APISERVER_PORT/readyz"
}

start_controller_manager() {
  local pki=$DIR/pki kc=$DIR/kubeconfigs/kube-controller-manager.kubeconfig
  start_component kube-controller-manager \
    --kubeconfig="$kc" \
    --authentication-kubeconfig="$kc" \
    --authorization-kubeconfig="$kc" \
    --bind-address="$HOST" \
    --secure-port="$KCM_PORT" \
    --controllers='*' \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$pki/sa.key" \
    --root-ca-file="$pki/ca.crt" \
    --cluster-signing-cert-file="$pki/ca.crt" \
    --cluster-signing-key-file="$pki/ca.key" \
    --leader-elect=false \
    --kube-api-qps=200 \
    --kube-api-burst=400 \
    --concurrent-replicaset-syncs=10 \
    --concurrent-deployment-syncs=10 \
    --concurrent-gc-syncs=40
  # --use-service-account-credentials: each controller acts under its own service account, as
  # in a real cluster, so RBAC behaves like production. The default client QPS (20) makes a
  # 5,000-pod scale-up take minutes; 200 keeps it to seconds.
}

start_scheduler() {
  local kc=$DIR/kubeconfigs/kube-scheduler.kubeconfig
  cat >"$DIR/config/kube-scheduler.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $kc
  qps: 200
  burst: 400
leaderElection:
  leaderElect: false
EOF
  start_component kube-scheduler \
    --config="$DIR/config/kube-scheduler.yaml" \
    --authentication-kubeconfig="$kc" \
    --authorization-kubeconfig="$kc" \
    --bind-address="$HOST" \
    --secure-port="$SCHEDULER_PORT"
}

start_kwok() {
  # An explicit config file: without --config kwok reads ~/.kwok/kwok.yaml, a file shared by
  # every sandbox on the machine. It holds no Stage, so kwok v0.7's built-in stages apply
  # (node heartbeat, pod ready, pod delete). More parallel pod stages than the default 4 let
  # kwok keep up with a 5,000-pod scale-up.
  cat >"$DIR/config/kwok.yaml" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  podPlayStageParallelism: 16
  nodePlayStageParallelism: 8
  nodeLeaseParallelism: 8
EOF
  # -v=WARN: at INFO kwok logs every pod patch, which costs real CPU at thousands of pods.
  start_component kwok \
    --config="$DIR/config/kwok.yaml" \
    --kubeconfig="$DIR/kubeconfigs/kwok.kubeconfig" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector="$KWOK_NODE_ANNOTATION=fake" \
    --cidr=10.244.0.1/16 \
    --node-ip="$HOST" \
    --node-lease-duration-seconds=40 \
    --server-address="$HOST:$KWOK_PORT" \
    -v=WARN
}

# Fake nodes with room for thousands of pods: a benchmark puts 5,000 pods on 50 nodes.
create_nodes() {
  local i manifest=""
  for ((i = 0; i < NODES; i++)); do
    manifest+="---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    $KWOK_NODE_ANNOTATION: fake
    node.alpha.kubernetes.io/ttl: \"0\"
  labels:
    type: kwok
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    node-role.kubernetes.io/agent: \"\"
status:
  allocatable: {cpu: \"32\", memory: 256Gi, pods: \"1000\", ephemeral-storage: 1Ti}
  capacity: {cpu: \"32\", memory: 256Gi, pods: \"1000\", ephemeral-storage: 1Ti}
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: fake
    kubeProxyVersion: fake
"
  done
  ((NODES == 0)) || printf '%s' "$manifest" | kubectl_admin apply -f - >/dev/null
}

nodes_ready() {
  local ready
  ready=$(kubectl_admin get nodes -l type=kwok \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
    grep -c '^True$' || true)
  ((ready == NODES))
}

component_healthy() {
  curl -fsSk "https://$HOST:$1/healthz"
}

write_ports() {
  local ports
  read -r ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KCM_PORT SCHEDULER_PORT KWOK_PORT <<<"$(free_ports 6)"
  ports="ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
APISERVER_PORT=$APISERVER_PORT
KCM_PORT=$KCM_PORT
SCHEDULER_PORT=$SCHEDULER_PORT
KWOK_PORT=$KWOK_PORT
NODES=$NODES"
  echo "$ports" >"$DIR/ports.env"
}

link_tools() {
  mkdir -p "$DIR/bin"
  ln -sfn "$BIN/kubectl" "$DIR/bin/kubectl"
  ln -sfn "$BIN/helm" "$DIR/bin/helm"
}

on_up_exit() {
  local rc=$?
  if ((rc != 0)) && ((${#STARTED[@]} > 0)); then
    log "startup failed; stopping what was started"
    realnode_down || true
    stop_all || true
    remove_data
  fi
  exit "$rc"
}

cmd_up() {
  if any_running; then
    if all_running; then
      log "already up in $DIR"
      load_ports
      echo "export KUBECONFIG=$DIR/kubeconfig PATH=$DIR/bin:\$PATH"
      return 0
    fi
    die "$DIR is partly running; run '$0 down --dir $DIR' first"
  fi
  BIN=$("$SCRIPT_DIR/build.sh")
  local t0
  t0=$(now_ms)
  remove_data
  mkdir -p "$DIR"/{logs,pids,data,config,kubeconfigs}
  STARTED=()
  trap on_up_exit EXIT
  trap 'exit 130' INT TERM

  write_ports
  generate_pki
  write_kubeconfig "$DIR/kubeconfig" admin
  local c
  for c in kube-controller-manager kube-scheduler kwok; do
    write_kubeconfig "$DIR/kubeconfigs/$c.kubeconfig" "$c"
  done
  link_tools

  start_etcd
  start_apiserver
  start_controller_manager
  start_scheduler
  start_kwok
  create_nodes
  wait_for "$NODES nodes Ready" kwok nodes_ready
  # The ServiceAccount admission plugin rejects pods until their service account exists.
  wait_for "default ServiceAccount" kube-controller-manager kubectl_admin -n default get serviceaccount default
  wait_for "controller-manager /healthz" kube-controller-manager component_healthy "$KCM_PORT"
  wait_for "scheduler /healthz" kube-scheduler component_healthy "$SCHEDULER_PORT"
  local real_node="" why
  if [[ "$REAL_NODE" != 0 ]]; then
    why=$(realnode_unsupported)
    if [[ -z "$why" && "$REAL_NODE" == 1 ]]; then
      realnode_up
      real_node=", real node $REAL_NODE_NAME in $(fmt_ms "$REAL_NODE_READY_MS")"
    elif [[ -z "$why" ]]; then
      # auto: a real node that fails to start is reported and removed, and the sandbox goes on
      # with its kwok nodes (--real-node makes the same failure fatal).
      if (realnode_up && echo "$REAL_NODE_READY_MS" >"$DIR/node/ready-ms"); then
        real_node=", real node $REAL_NODE_NAME in $(fmt_ms "$(cat "$DIR/node/ready-ms")")"
      else
        log "the real node failed to start (logs above, and in $DIR/logs); removing it and going on with kwok nodes only"
        realnode_down || true
        rm -rf "$DIR/node"
      fi
    elif [[ "$REAL_NODE" == 1 ]]; then
      die "--real-node: this machine cannot run it: $why"
    else
      log "no real node: $why (only kwok nodes; --no-real-node silences this)"
    fi
  fi
  check_alive
  trap - EXIT INT TERM

  printf 'sandbox: ready in %s (%s, %d kwok nodes%s, apiserver https://%s:%s)\n' \
    "$(fmt_ms $(($(now_ms) - t0)))" "$DIR" "$NODES" "$real_node" "$HOST" "$APISERVER_PORT" >&2
  echo "export KUBECONFIG=$DIR/kubeconfig PATH=$DIR/bin:\$PATH"
}

# ---- down / status -----------------------------------------------------------------------

# The components this sandbox runs: the control plane, and the real node's once it has one.
sandbox_components() {
  echo "${COMPONENTS[@]}"
  [[ -f "$(node_env_file)" ]] && echo "${NODE_COMPONENTS[@]}"
  return 0
}

all_running() {
  local c
  for c in $(sandbox_components); do component_running "$c" || return 1; done
}

any_running() {
  local c
  for c in $(sandbox_components); do component_running "$c" && return 0; done
  return 1
}

# Everything but the logs (and DIR itself) is per-run state.
remove_data() {
  [[ -d "$DIR" ]] || return 0
  rm -rf "${DIR:?}"/{data,pki,config,kubeconfigs,bin,pids,node} "$DIR/kubeconfig" "$DIR/ports.env"
}

cmd_down() {
  BIN=$("$SCRIPT_DIR/build.sh" --print-bin-dir)
  realnode_down || die "the real node could not be stopped; data left in place"
  stop_all || die "some processes could not be stopped; data left in place"
  remove_data
  if ((PURGE)); then
    rm -rf "$DIR"
    log "stopped and purged $DIR"
  else
    log "stopped; logs kept in $DIR/logs"
  fi
}

component_port() {
  case $1 in
    etcd) echo "${ETCD_PORT:-?} (peer ${ETCD_PEER_PORT:-?})" ;;
    kube-apiserver) echo "${APISERVER_PORT:-?}" ;;
    kube-controller-manager) echo "${KCM_PORT:-?}" ;;
    kube-scheduler) echo "${SCHEDULER_PORT:-?}" ;;
    kwok) echo "${KWOK_PORT:-?}" ;;
  esac
}

cmd_status() {
  load_ports || true
  local c state rc=0
  printf '%-25s %-8s %-8s %s\n' COMPONENT STATE PID PORT
  for c in "${COMPONENTS[@]}"; do
    if component_running "$c"; then state=running; else state=stopped rc=3; fi
    printf '%-25s %-8s %-8s %s\n' "$c" "$state" "$(component_pid "$c" || echo -)" "$(component_port "$c")"
  done
  realnode_status
  if component_running kube-apiserver; then
    BIN=$("$SCRIPT_DIR/build.sh" --print-bin-dir)
    echo
    echo "KUBECONFIG=$DIR/kubeconfig"
    kubectl_admin get nodes || rc=1
  fi
  return "$rc"
}

# One `up` or `down` per sandbox dir at a time. LOCK_FD stays open for this script's lifetime.
take_lock() {
  exec {LOCK_FD}>"$DIR/.sandbox.lock"
  if ! flock -n "$LOCK_FD"; then
    log "another up/down holds $DIR/.sandbox.lock; waiting"
    flock "$LOCK_FD"
  fi
}

# ---- main ----------------------------------------------------------------------------------

main() {
  local cmd=${1:-}
  [[ -n "$cmd" ]] || usage
  shift
  DIR=${SANDBOX_DIR:-$REPO_ROOT/.sandbox}
  NODES=${SANDBOX_NODES:-3}
  REAL_NODE=${SANDBOX_REAL_NODE:-auto}
  PURGE=0
  ARCHIVES=()
  while (($#)); do
    case $1 in
      --dir) DIR=${2:?--dir needs a value}; shift 2 ;;
      --dir=*) DIR=${1#--dir=}; shift ;;
      --nodes) NODES=${2:?--nodes needs a value}; shift 2 ;;
      --nodes=*) NODES=${1#--nodes=}; shift ;;
      --purge) PURGE=1; shift ;;
      --real-node) REAL_NODE=1; shift ;;
      --no-real-node) REAL_NODE=0; shift ;;
      -h | --help) usage ;;
      -*) die "unknown argument: $1" ;;
      *) [[ "$cmd" == load || "$cmd" == publish ]] || die "unknown argument: $1"; ARCHIVES+=("$1"); shift ;;
    esac
  done
  [[ "$NODES" =~ ^[0-9]+$ ]] || die "--nodes must be a number, got '$NODES'"
  [[ "$REAL_NODE" =~ ^(auto|0|1)$ ]] || die "SANDBOX_REAL_NODE must be auto, 1 or 0, got '$REAL_NODE'"
  # Absolute, without a trailing slash: is_ours matches "$DIR/" in command lines.
  DIR=$(realpath -m "$DIR")
  STARTED=()

  case $cmd in
    down)
      if [[ ! -d "$DIR" ]]; then
        log "nothing to stop in $DIR"
        return 0
      fi
      take_lock
      cmd_down
      ;;
    up)
      mkdir -p "$DIR"
      take_lock
      cmd_up
      ;;
    status) cmd_status ;;
    load)
      ((${#ARCHIVES[@]})) || die "load: name at least one OCI archive (infra/images/build.sh prints them)"
      component_running containerd || die "load: $DIR has no running real node"
      realnode_load "${ARCHIVES[@]}"
      log "loaded ${#ARCHIVES[@]} image archive(s) into $REAL_NODE_NAME"
      ;;
    publish)
      [[ ${#ARCHIVES[@]} == 1 && "${ARCHIVES[0]}" =~ ^[0-9]+$ ]] || die "publish: name one port"
      load_node_env || die "publish: $DIR has no real node"
      realnode_publish "${ARCHIVES[0]}"
      ;;
    *) usage ;;
  esac
}

main "$@"
