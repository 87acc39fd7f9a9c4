#!/usr/bin/env bash
# Lifecycle checks of sandbox.sh, at the process level:
#   1. two sandboxes in different dirs run side by side, as separate clusters;
#   2. `down` leaves no process of the sandbox behind and frees its ports, without touching
#      the other sandbox; a second `down` is a no-op;
#   3. a startup that fails stops what it had started;
#   4. the real node (containerd + kubelet): its pods are real processes with real network
#      namespaces that reach each other by pod IP, its kubelet runs readiness probes, and
#      `down` leaves no process, mount, network namespace, veth, bridge, iptables rule or
#      cgroup behind. Skipped, with the reason, where the machine cannot run it.
# Prints one 'N passed, N failed, N skipped' line at the end; exits non-zero on any failure.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SANDBOX="$SCRIPT_DIR/sandbox.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/chaoscraft-lifecycle.XXXXXX")
A=$WORK/a
B=$WORK/b
C=$WORK/c
D=$WORK/d
PASSED=0
FAILED=0
SKIPPED=0

cleanup() {
  local d
  for d in "$A" "$B" "$C" "$D"; do "$SANDBOX" down --dir "$d" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

pass() { PASSED=$((PASSED + 1)); printf 'ok   %s\n' "$*"; }
skip() { SKIPPED=$((SKIPPED + 1)); printf 'skip %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL %s\n' "$*"; }
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

# Processes whose command line mentions the sandbox dir: every component has paths in it.
procs_of() { pgrep -f -- "$1/" || true; }
no_procs_of() { [[ -z "$(procs_of "$1")" ]]; }

# shellcheck source=/dev/null
ports_of() { (source "$1/ports.env" && echo "$ETCD_PORT $ETCD_PEER_PORT $APISERVER_PORT $KCM_PORT $SCHEDULER_PORT $KWOK_PORT"); }

# ports_free PORT...: nothing listens on any of them (`ss -ltn` lists TCP listeners).
ports_free() {
  local port listening
  listening=$(ss -ltnH | awk '{print $4}')
  for port in "$@"; do
    if grep -qE "[:.]$port\$" <<<"$listening"; then
      echo "  port $port is still listening" >&2
      return 1
    fi
  done
}

kubectl_in() { local dir=$1; shift; "$dir/bin/kubectl" --kubeconfig "$dir/kubeconfig" --request-timeout=10s "$@"; }

disjoint() { [[ -z "$(comm -12 <(tr ' ' '\n' <<<"$1" | sort) <(tr ' ' '\n' <<<"$2" | sort))" ]]; }

# pids_gone PID...: none of them is alive. A zombie counts as gone: it has exited and only
# waits for init to reap it.
pids_gone() {
  local pid state
  for pid in "$@"; do
    state=$(ps -o stat= -p "$pid" || true)
    [[ -z "$state" || "$state" == Z* ]] || return 1
  done
}

logs_kept_data_removed() { [[ -s "$1/logs/kube-apiserver.log" && ! -e "$1/data" && ! -e "$1/pids" ]]; }

absent_in() { ! kubectl_in "$1" get namespace "$2" >/dev/null 2>&1; }

status_says_running() { "$SANDBOX" status --dir "$1" >/dev/null 2>&1; }
status_says_stopped() { ! status_says_running "$1"; }
up_again_is_noop() { "$SANDBOX" up --dir "$1" >/dev/null 2>&1; }
down_quietly() { "$SANDBOX" down --dir "$1" >/dev/null 2>&1; }

nodes_ready_in() {
  [[ "$(kubectl_in "$1" get nodes -l type=kwok --no-headers 2>/dev/null | grep -cw Ready)" == "$2" ]]
}

# ---- 1. side by side ----
# A and B test the control plane's lifecycle; the real node has its own section (4).
"$SANDBOX" up --dir "$A" --nodes 1 --no-real-node >/dev/null
"$SANDBOX" up --dir "$B" --nodes 2 --no-real-node >/dev/null
read -r -a PORTS_A <<<"$(ports_of "$A")"
read -r -a PORTS_B <<<"$(ports_of "$B")"
read -r -a PIDS_A <<<"$(cat "$A"/pids/*.pid | tr '\n' ' ')"

check "sandbox A is ready with 1 node" nodes_ready_in "$A" 1
check "sandbox B is ready with 2 nodes" nodes_ready_in "$B" 2
check "the two sandboxes use different ports" disjoint "${PORTS_A[*]}" "${PORTS_B[*]}"
kubectl_in "$A" create namespace only-in-a >/dev/null
check "they are separate clusters" absent_in "$B" only-in-a
check "status reports A running" status_says_running "$A"
check "a second 'up' of a running sandbox is a no-op" up_again_is_noop "$A"

# ---- 2. down ----
"$SANDBOX" down --dir "$A"
check "down A: no process of A is left" no_procs_of "$A"
check "down A: the ${#PIDS_A[@]} recorded pids are gone" pids_gone "${PIDS_A[@]}"
check "down A: its ports are free" ports_free "${PORTS_A[@]}"
check "down A: logs kept, data removed" logs_kept_data_removed "$A"
check "down A: B still serves" nodes_ready_in "$B" 2
check "down A again is a no-op" down_quietly "$A"
check "status reports A stopped" status_says_stopped "$A"
"$SANDBOX" down --purge --dir "$B"
check "down --purge B: no process of B is left" no_procs_of "$B"
check "down --purge B: its ports are free" ports_free "${PORTS_B[@]}"
check "down --purge B: dir removed" test ! -e "$B"

# ---- 3. failed startup ----
# A zero readiness budget makes the first wait that does not pass on its first try fail: etcd's
# /health, or (when etcd answers at once) the API server's /readyz. Either way the failing
# component's log must be shown.
if SANDBOX_READY_TIMEOUT=0 "$SANDBOX" up --dir "$C" --nodes 1 --no-real-node >/dev/null 2>"$WORK/c.err"; then
  fail "a failed startup exits non-zero"
else
  pass "a failed startup exits non-zero"
fi
check "a failed startup shows the component's log" grep -Eq "last lines of $C/logs/[a-z-]+\.log" "$WORK/c.err"
check "a failed startup leaves no process running" no_procs_of "$C"

# ---- 4. the real node ----
# shellcheck source=infra/sandbox/test-realnode.inc.sh
source "$SCRIPT_DIR/test-realnode.inc.sh"
test_real_node

echo
echo "lifecycle: $PASSED passed, $FAILED failed, $SKIPPED skipped"
((FAILED == 0))
