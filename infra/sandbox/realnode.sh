# shellcheck shell=bash
# The sandbox's real node, sourced by sandbox.sh: containerd, runc, a CNI bridge and a kubelet
# joined to the sandbox's API server, beside the kwok nodes. Its pods are real processes in
# real network namespaces, with pod IPs that reach each other on the node's bridge.
#
# Everything it creates is private to the sandbox dir or named after the node's index N (one
# per running real node on the machine, picked free at `up`):
#   DIR/node/                  containerd root, state and socket; kubelet root; CNI config and
#                              IPAM state; pod logs
#   bridge ccnodeN             10.213.N.1/24, the node's address; pods get 10.213.N.10-254
#   cgroup /chaoscraft-node-N  the kubelet's cgroup root in every cgroup v1 hierarchy
#   nat rule (comment DIR)     pods reach the API server at the `kubernetes` Service's
#                              10.96.0.1:443 (there is no kube-proxy)
#   /var/run/netns/cni-*       containerd's pod network namespaces
# `down` removes all of it; see realnode_down.

REAL_NODE_NAME=real-node-0
# The label and taint that keep ordinary pods off the real node: they have no images here.
REAL_NODE_LABEL="chaoscraft.io/node=real"
REAL_NODE_TAINT_KEY="chaoscraft.io/real-node"
REAL_NODE_SUBNET_PREFIX=10.213
# The `kubernetes` Service's ClusterIP (first address of --service-cluster-ip-range).
KUBERNETES_SERVICE_IP=10.96.0.1
# Machine-wide state shared by every sandbox's real node: the lock that makes picking N atomic,
# and the kernel settings the kubelet changes at start (restored when the last node stops).
REAL_NODE_RUN=/run/chaoscraft-real-node
# kubelet's setupKernelTunables (pkg/kubelet/cm) sets these unless protectKernelDefaults.
KUBELET_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
REAL_NODE_TOOLS=(containerd containerd-shim-runc-v2 runc ctr ip iptables mount umount)
CNI_DIR=/usr/lib/cni
CNI_PLUGINS=(bridge host-local loopback)

node_dir() { echo "$DIR/node"; }
node_sock() { echo "$DIR/node/containerd.sock"; }
crictl_() { "$BIN/crictl" --runtime-endpoint "unix://$(node_sock)" --image-endpoint "unix://$(node_sock)" --timeout 10s "$@"; }
ctr_() { ctr --address "$(node_sock)" --namespace k8s.io "$@"; }

# realnode_unsupported: prints why this machine cannot run the real node; empty when it can.
realnode_unsupported() {
  local tool plugin
  if [[ $EUID -ne 0 ]]; then echo "it needs root (containerd, network namespaces, cgroups)"; return; fi
  for tool in "${REAL_NODE_TOOLS[@]}"; do
    command -v "$tool" >/dev/null || { echo "'$tool' is missing (scripts/system-deps.sh installs it)"; return; }
  done
  for plugin in "${CNI_PLUGINS[@]}"; do
    [[ -x "$CNI_DIR/$plugin" ]] || { echo "the CNI plugin $CNI_DIR/$plugin is missing (package containernetworking-plugins)"; return; }
  done
  [[ -d /sys/fs/cgroup/memory && -d /sys/fs/cgroup/cpu ]] ||
    { echo "no cgroup v1 memory and cpu hierarchies under /sys/fs/cgroup (this setup is written for cgroup v1)"; return; }
  grep -qw overlay /proc/filesystems || { echo "the kernel has no overlay filesystem"; return; }
  [[ -x "$BIN/kubelet" && -x "$BIN/crictl" ]] || { echo "kubelet or crictl was not built"; return; }
  return 0
}

# Hierarchies of cgroup v1 (the kubelet's cgroupfs driver creates its cgroups in each).
cgroup_v1_mounts() { awk '$9 == "cgroup" { print $5 }' /proc/self/mountinfo; }
# ... and the cgroup2 one of a hybrid setup (/sys/fs/cgroup/unified), where runc adds its own.
cgroup_mounts() { awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo; }

node_env_file() { echo "$DIR/node/node.env"; }
load_node_env() {
  [[ -f "$(node_env_file)" ]] || return 1
  # shellcheck source=/dev/null
  source "$(node_env_file)"
}

# claim_node_index (under the machine lock): the smallest N whose bridge and subnet nobody on
# this machine uses; creates the bridge, which claims N for this sandbox.
claim_node_index() {
  local n used links
  used=$(ip -o -4 addr show)
  links=$(ip -o link show)
  for ((n = 0; n < 256; n++)); do
    grep -q " $REAL_NODE_SUBNET_PREFIX\.$n\." <<<"$used" && continue
    grep -q ": ccnode$n[:@]" <<<"$links" && continue
    ip link add "ccnode$n" type bridge || continue
    echo "$n"
    return 0
  done
  return 1
}

realnode_write_env() {
  local n=$1 kubelet_port healthz_port
  read -r kubelet_port healthz_port <<<"$(free_ports 2)"
  cat >"$(node_env_file)" <<EOF
NODE_INDEX=$n
NODE_BRIDGE=ccnode$n
NODE_IP=$REAL_NODE_SUBNET_PREFIX.$n.1
NODE_SUBNET=$REAL_NODE_SUBNET_PREFIX.$n.0/24
NODE_CGROUP_ROOT=chaoscraft-node-$n
KUBELET_PORT=$kubelet_port
KUBELET_HEALTHZ_PORT=$healthz_port
EOF
}

# ---- machine-wide kernel settings ----------------------------------------------------------

with_machine_lock() {
  mkdir -p "$REAL_NODE_RUN"
  (
    flock 8
    "$@"
  ) 8>"$REAL_NODE_RUN/lock"
}

# The first real node on the machine records the kernel settings before its kubelet changes
# them; each node leaves a marker; the last one down restores them.
save_sysctls() {
  local name
  mkdir -p "$REAL_NODE_RUN/nodes"
  if [[ ! -f "$REAL_NODE_RUN/sysctl.saved" ]]; then
    for name in "${KUBELET_SYSCTLS[@]}"; do echo "$name=$(sysctl -n "$name")"; done >"$REAL_NODE_RUN/sysctl.saved"
  fi
  echo "$DIR" >"$REAL_NODE_RUN/nodes/$NODE_INDEX"
}

restore_sysctls() {
  local marker other
  rm -f "$REAL_NODE_RUN/nodes/$NODE_INDEX"
  for marker in "$REAL_NODE_RUN"/nodes/*; do
    [[ -f "$marker" ]] || continue
    other=$(cat "$marker")
    # A node whose sandbox was killed without `down` leaves a marker but no kubelet.
    if [[ -f "$other/pids/kubelet.pid" ]] && (DIR=$other; is_ours "$(cat "$other/pids/kubelet.pid")"); then
      return 0
    fi
    rm -f "$marker"
  done
  if [[ -f "$REAL_NODE_RUN/sysctl.saved" ]]; then
    sysctl -q -p "$REAL_NODE_RUN/sysctl.saved" >/dev/null || log "could not restore the kernel settings in $REAL_NODE_RUN/sysctl.saved"
    rm -f "$REAL_NODE_RUN/sysctl.saved"
  fi
}

# ---- up ------------------------------------------------------------------------------------

# containerd pins pod network namespaces under /run/netns. The node role mounts that directory
# with HostToContainer propagation, which needs it to be a shared mount; `ip netns add` makes it
# one the same way, and it is left so (other namespaces may live there), as iproute2 leaves it.
ensure_shared_netns_dir() {
  mkdir -p /run/netns
  if ! awk '$5 == "/run/netns" { found = 1 } END { exit !found }' /proc/self/mountinfo; then
    mount --bind /run/netns /run/netns
  fi
  mount --make-shared /run/netns
}

realnode_setup_network() {
  with_machine_lock ensure_shared_netns_dir
  ip addr add "$NODE_IP/24" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
  # Pods reach the API server as in-cluster clients do, at the `kubernetes` Service. The
  # API server listens on loopback only, so the node DNATs that address to it;
  # route_localnet lets the bridge deliver to 127.0.0.1. Both go with the bridge and the rule.
  sysctl -q -w "net.ipv4.conf.$NODE_BRIDGE.route_localnet=1"
  iptables -t nat -A PREROUTING -i "$NODE_BRIDGE" -d "$KUBERNETES_SERVICE_IP" -p tcp --dport 443 \
    -m comment --comment "chaoscraft-sandbox $DIR" -j DNAT --to-destination "$HOST:$APISERVER_PORT"
  local nd
  nd=$(node_dir)
  mkdir -p "$nd/cni/net.d" "$nd/cni/ipam"
  # isGateway false: the node's address is on the bridge already and pods route through it
  # (ipam routes), and the bridge plugin then leaves net.ipv4.ip_forward alone. No ipMasq: pods
  # talk to each other and to the node only, so the CNI adds no iptables rule.
  cat >"$nd/cni/net.d/10-chaoscraft.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "chaoscraft-node-$NODE_INDEX",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$NODE_BRIDGE",
      "isGateway": false,
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "dataDir": "$nd/cni/ipam",
        "ranges": [[{ "subnet": "$NODE_SUBNET", "rangeStart": "$REAL_NODE_SUBNET_PREFIX.$NODE_INDEX.10", "gateway": "$NODE_IP" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    }
  ]
}
EOF
}

realnode_setup_cgroups() {
  local h
  for h in $(cgroup_v1_mounts); do
    mkdir -p "$h/$NODE_CGROUP_ROOT"
    # A new cpuset cgroup starts with no CPUs and no memory nodes; give it its parent's.
    if [[ -f "$h/cpuset.cpus" ]]; then
      cat "$h/cpuset.cpus" >"$h/$NODE_CGROUP_ROOT/cpuset.cpus"
      cat "$h/cpuset.mems" >"$h/$NODE_CGROUP_ROOT/cpuset.mems"
    fi
  done
}

realnode_start_containerd() {
  local nd
  nd=$(node_dir)
  mkdir -p "$nd/containerd"
  # Every path is private to this sandbox, so several run side by side and `down` finds all.
  cat >"$nd/containerd.toml" <<EOF
version = 2
root = "$nd/containerd/root"
state = "$nd/containerd/state"
disabled_plugins = ["io.containerd.internal.v1.tracing", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$(node_sock)"

[plugins."io.containerd.internal.v1.opt"]
  path = "$nd/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_REF"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_apparmor = true
  # Pods ask for negative OOM scores (the pause container -998), which needs CAP_SYS_RESOURCE;
  # root on the build machines lacks it, so scores stay at or above containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$nd/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_DIR"
    conf_dir = "$nd/cni/net.d"
    max_conf_num = 1
EOF
  start_process containerd "$(command -v containerd)" --config "$nd/containerd.toml"
  wait_for "containerd socket" containerd ctr_ version
}

# realnode_load ARCHIVE...: imports OCI archives into the node's containerd (the kubelet's
# images: pods use them with imagePullPolicy Never or IfNotPresent).
# realnode_publish PORT: the real node's pods reach a host service that listens on loopback
# only (a private Prometheus, say) at NODE_IP:PORT, as they reach the API server: a DNAT rule on
# the bridge (route_localnet is on for it), with the sandbox's comment, so `down` removes it.
realnode_publish() {
  local port=$1 rule
  rule=(PREROUTING -i "$NODE_BRIDGE" -d "$NODE_IP" -p tcp --dport "$port"
    -m comment --comment "chaoscraft-sandbox $DIR" -j DNAT --to-destination "$HOST:$port")
  iptables -t nat -C "${rule[@]}" 2>/dev/null || iptables -t nat -A "${rule[@]}"
  echo "$NODE_IP:$port"
}

realnode_load() {
  local archive
  for archive in "$@"; do
    ctr_ images import --all-platforms "$archive" >/dev/null
  done
}

realnode_start_kubelet() {
  local nd pki=$DIR/pki
  nd=$(node_dir)
  mkdir -p "$nd/kubelet" "$nd/pod-logs"
  write_kubeconfig "$DIR/kubeconfigs/kubelet.kubeconfig" kubelet
  cat >"$nd/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: $HOST
healthzPort: $KUBELET_HEALTHZ_PORT
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $pki/kubelet.crt
tlsPrivateKeyFile: $pki/kubelet.key
containerRuntimeEndpoint: unix://$(node_sock)
cgroupDriver: cgroupfs
cgroupRoot: /$NODE_CGROUP_ROOT
# The build machines run cgroup v1; kubelet 1.34 keeps it (maintenance mode) with this off.
failCgroupV1: false
failSwapOn: false
podLogsDir: $nd/pod-logs
# No iptables chains of the kubelet's own: the node needs none, and down has none to remove.
makeIPTablesUtilChains: false
registerWithTaints:
  - {key: $REAL_NODE_TAINT_KEY, value: "true", effect: NoSchedule}
maxPods: 50
nodeStatusUpdateFrequency: 5s
# A shared build machine: evict nothing for the disk others fill, collect no images.
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
EOF
  with_machine_lock save_sysctls
  start_process kubelet "$BIN/kubelet" \
    --config="$nd/kubelet.yaml" \
    --kubeconfig="$DIR/kubeconfigs/kubelet.kubeconfig" \
    --root-dir="$nd/kubelet" \
    --hostname-override="$REAL_NODE_NAME" \
    --node-ip="$NODE_IP" \
    --node-labels="$REAL_NODE_LABEL" \
    --v=1
}

real_node_ready() {
  [[ "$(kubectl_admin get node "$REAL_NODE_NAME" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}

# realnode_up: after the control plane; sets REAL_NODE_READY_MS.
realnode_up() {
  local t0 images pause_line n
  t0=$(now_ms)
  # The pause image: built once, cached by content (infra/images/build.sh).
  pause_line=$("$REPO_ROOT/infra/images/build.sh" pause) || die "could not build the pause image"
  read -r _ PAUSE_REF PAUSE_ARCHIVE <<<"$pause_line"
  mkdir -p "$(node_dir)"
  n=$(with_machine_lock claim_node_index) || die "no free ccnodeN bridge and $REAL_NODE_SUBNET_PREFIX.N.0/24 subnet left"
  realnode_write_env "$n"
  load_node_env
  issue_cert kubelet "/O=system:nodes/CN=system:node:$REAL_NODE_NAME" "IP:$NODE_IP,DNS:$REAL_NODE_NAME"
  realnode_setup_network
  realnode_setup_cgroups
  realnode_start_containerd
  realnode_load "$PAUSE_ARCHIVE"
  realnode_start_kubelet
  wait_for "node $REAL_NODE_NAME Ready" kubelet real_node_ready
  REAL_NODE_READY_MS=$(($(now_ms) - t0))
}

# ---- down ----------------------------------------------------------------------------------

# Mount points under DIR, deepest first.
mounts_under_dir() {
  awk -v d="$DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r -u
}

# Every process in the node's cgroups: the pods' processes and the shims.
cgroup_pids() {
  local h
  for h in $(cgroup_mounts); do
    [[ -d "$h/$NODE_CGROUP_ROOT" ]] && find "$h/$NODE_CGROUP_ROOT" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -u
}

# Processes of the sandbox that are not components: containerd's shims (their command line
# names the sandbox's containerd socket).
shim_pids() {
  local p
  for p in $(pgrep -f containerd-shim || true); do is_ours "$p" && echo "$p"; done
  return 0
}

kill_and_wait() {
  local pids=("$@") i
  ((${#pids[@]})) || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "${pids[@]}" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  sleep 0.2
}

# pod_netns_paths: the network namespace of each pod sandbox in the node's containerd.
pod_netns_paths() {
  local id
  for id in $(crictl_ pods -q 2>/dev/null); do
    crictl_ inspectp -o go-template \
      --template '{{range .info.runtimeSpec.linux.namespaces}}{{if eq .type "network"}}{{.path}}{{"\n"}}{{end}}{{end}}' \
      "$id" 2>/dev/null
  done | grep . || true
}

# realnode_down: stops the kubelet, removes every pod through the CRI (which tears down their
# network namespaces and veths), stops containerd, then sweeps whatever a crash left: processes
# in the node's cgroups, shims, mounts under DIR, network namespaces, the bridge, the nat rule,
# the cgroups, the kubelet's log links, and the kernel settings.
realnode_down() {
  load_node_env || return 0
  local netns=() p m h rule
  stop_components kubelet || return 1
  if component_running containerd; then
    mapfile -t netns < <(pod_netns_paths)
    crictl_ stopp $(crictl_ pods -q 2>/dev/null) >/dev/null 2>&1 || true
    crictl_ rmp --all --force >/dev/null 2>&1 || true
  fi
  stop_components containerd || return 1
  # shellcheck disable=SC2046 # one pid per word
  kill_and_wait $(cgroup_pids) $(shim_pids)
  for m in $(mounts_under_dir); do umount "$m" 2>/dev/null || umount -l "$m" || true; done
  for p in "${netns[@]}"; do
    [[ -e "$p" ]] || continue
    umount "$p" 2>/dev/null || true
    rm -f "$p"
  done
  if ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
    for p in $(ip -o link show master "$NODE_BRIDGE" | awk -F': ' '{print $2}' | cut -d@ -f1); do
      ip link del "$p" 2>/dev/null || true
    done
    ip link del "$NODE_BRIDGE"
  fi
  while rule=$(iptables -t nat -S PREROUTING | grep -F -- "--comment \"chaoscraft-sandbox $DIR\"" | head -n1) && [[ -n "$rule" ]]; do
    eval "iptables -t nat ${rule/-A /-D }"
  done
  for h in $(cgroup_mounts); do
    [[ -d "$h/$NODE_CGROUP_ROOT" ]] && find "$h/$NODE_CGROUP_ROOT" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  find /var/log/containers -maxdepth 1 -lname "$DIR/*" -delete 2>/dev/null || true
  rm -f /var/lib/cni/results/"chaoscraft-node-$NODE_INDEX"-* 2>/dev/null || true
  with_machine_lock restore_sysctls
  return 0
}

realnode_status() {
  load_node_env || return 0
  local c state
  for c in containerd kubelet; do
    if component_running "$c"; then state=running; else state=stopped; fi
    printf '%-25s %-8s %-8s %s\n' "$c" "$state" "$(component_pid "$c" || echo -)" \
      "$([[ $c == kubelet ]] && echo "$KUBELET_PORT on $NODE_IP" || echo "$(node_sock)")"
  done
}
