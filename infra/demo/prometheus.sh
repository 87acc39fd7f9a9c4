#!/usr/bin/env bash
# The demo's Prometheus: the Debian package's server as a private process of one sandbox, with
# its own config and data under DIR/demo/prometheus, on a free loopback port. It scrapes the
# pods behind the Services annotated prometheus.io/scrape (the demo shop, its load generator,
# the agent's metrics Service) at their IPs: the host routes to the real node's bridge.
# Debian builds Prometheus without kubernetes_sd_configs, so scrape-targets.py (beside this file)
# discovers them through the API server, as the monitoring/prometheus service account of
# infra/demo/access.yaml, into a file_sd file. The real node's pods (the agent's controller, for
# PromQL probes) reach Prometheus at NODE_IP:PORT through `sandbox.sh publish`.
#
#   infra/demo/prometheus.sh start DIR   prints two lines: the host URL, the URL for pods
#   infra/demo/prometheus.sh stop DIR
set -euo pipefail

cmd=${1:?usage: prometheus.sh start|stop SANDBOX_DIR}
dir="$(cd "${2:?usage: prometheus.sh start|stop SANDBOX_DIR}" && pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
home="$dir/demo/prometheus"
pidfile="$home/prometheus.pid"
PROMETHEUS_BIN=${PROMETHEUS_BIN:-/usr/bin/prometheus}
log() { printf '[demo] %s\n' "$*" >&2; }

# ours PID: alive and started for this sandbox (its command line names $home), so a recycled
# PID is never signalled.
ours() { [[ -r "/proc/$1/cmdline" ]] && { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -qF -- "$home/"; }

# started PID: waits (up to 5 s) until the forked shell has exec'd, so that `ours` sees the
# program's command line and not this script's; returns at once if the process is gone.
started() {
  for _ in $(seq 1 500); do
    if ours "$1" || ! kill -0 "$1" 2>/dev/null; then return 0; fi
    sleep 0.01
  done
}

stop_pid() {
  [[ -s "$1" ]] || return 0
  local pid
  pid=$(cat "$1")
  if ours "$pid"; then
    kill -TERM "$pid"
    for _ in $(seq 1 50); do ours "$pid" || break; sleep 0.2; done
    if ours "$pid"; then kill -KILL "$pid"; fi
  fi
  rm -f "$1"
}
stop() {
  stop_pid "$pidfile"
  stop_pid "$home/scrape-targets.pid"
}

start() {
  [[ -x "$PROMETHEUS_BIN" ]] || { log "no $PROMETHEUS_BIN (Debian package prometheus; scripts/system-deps.sh installs it)"; return 1; }
  stop
  local kubectl=("$dir/bin/kubectl" --kubeconfig "$dir/kubeconfig") token="" port apiserver
  # shellcheck source=/dev/null
  apiserver=$(source "$dir/ports.env" && echo "https://127.0.0.1:$APISERVER_PORT")
  rm -rf "$home/data"
  mkdir -p "$home/data"
  for _ in $(seq 1 120); do
    token=$("${kubectl[@]}" -n monitoring get secret prometheus-token -o jsonpath='{.data.token}' 2>/dev/null | base64 -d) || true
    [[ -n "$token" ]] && break
    sleep 0.5
  done
  [[ -n "$token" ]] || { log "the monitoring/prometheus-token Secret got no token (infra/demo/access.yaml applied?)"; return 1; }
  (umask 077 && printf '%s' "$token" >"$home/token")
  local discover=(python3 "$root/infra/demo/scrape-targets.py" --api "$apiserver" --ca "$dir/pki/ca.crt"
    --token-file "$home/token" --out "$home/targets.json")
  local namespaces=(chaos-demo chaos-demo-load chaoscraft-system)
  "${discover[@]}" --once "${namespaces[@]}" 2>>"$home/scrape-targets.log" || echo '[]' >"$home/targets.json"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # Scrape every 2 s: the demo's probes look at 20-second rates and check every few seconds.
  cat >"$home/prometheus.yml" <<EOF
# Written by infra/demo/prometheus.sh for the sandbox in $dir.
global:
  scrape_interval: 2s
  scrape_timeout: 1500ms
  evaluation_interval: 2s
scrape_configs:
  - job_name: kubernetes-service-endpoints
    file_sd_configs:
      - files: [$home/targets.json]
        refresh_interval: 5s
EOF
  "$PROMETHEUS_BIN" --config.file="$home/prometheus.yml" --storage.tsdb.path="$home/data" \
    --web.listen-address="127.0.0.1:$port" --storage.tsdb.retention.time=6h --log.level=warn \
    >"$home/prometheus.log" 2>&1 &
  echo $! >"$pidfile"
  started "$(cat "$pidfile")"
  "${discover[@]}" --pid-to-follow "$(cat "$pidfile")" "${namespaces[@]}" >/dev/null 2>>"$home/scrape-targets.log" &
  echo $! >"$home/scrape-targets.pid"
  for _ in $(seq 1 120); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/-/ready" && break
    ours "$(cat "$pidfile")" || { log "Prometheus exited: $(tail -n 5 "$home/prometheus.log")"; return 1; }
    sleep 0.5
  done
  curl -sf -o /dev/null "http://127.0.0.1:$port/-/ready" || { log "Prometheus not ready after 60 s"; return 1; }
  echo "http://127.0.0.1:$port"
  echo "http://$("$root/infra/sandbox/sandbox.sh" publish --dir "$dir" "$port")"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) echo "usage: prometheus.sh start|stop SANDBOX_DIR" >&2; exit 2 ;;
esac
