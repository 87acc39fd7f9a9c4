#!/usr/bin/env bash
# Scheduled runs across backend replicas, for real: two backend processes on one PostgreSQL,
# the sandbox and the agent of `make dev`, and one experiment on the demo checkout service with
# the schedule '* * * * *'. After MINUTES minutes (default 3) it prints the runs per minute and
# passes only if every whole minute started exactly one run.
#
#   scripts/check-schedule-replicas.sh [MINUTES]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
minutes="${1:-3}"
# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh >/dev/null
WORK="$(mktemp -d /tmp/chaoscraft-replicas.XXXXXX)"
chmod 755 "$WORK"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 2
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  infra/demo/down.sh "$WORK/sandbox" >/dev/null 2>&1 || true
  infra/sandbox/sandbox.sh down --dir "$WORK/sandbox" --purge >/dev/null 2>&1 || true
  scripts/postgres.sh stop "$WORK/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

infra/sandbox/sandbox.sh up --dir "$WORK/sandbox" --no-real-node >/dev/null
infra/demo/up.sh "$WORK/sandbox" >/dev/null
url="$(scripts/postgres.sh start "$WORK/pg")"
port="${url##*:}"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

ports=()
for i in 1 2; do
  p="$(free_port)"
  ports+=("$p")
  cat >"$WORK/replica-$i.yaml" <<CONFIG
backend:
  baseUrl: http://localhost:$p
  listen:
    port: $p
  database:
    client: pg
    connection:
      host: 127.0.0.1
      port: $port
      user: postgres
CONFIG
  (cd packages/backend && setsid yarn backstage-cli package start \
    --config ../../app-config.yaml --config "$WORK/sandbox/app-config.yaml" --config "$WORK/replica-$i.yaml" \
    >"$WORK/backend-$i.log" 2>&1) &
  pids+=($!)
done
for p in "${ports[@]}"; do
  for _ in $(seq 1 300); do
    curl -sf -o /dev/null "http://localhost:$p/.backstage/health/v1/readiness" && break
    sleep 1
  done
done
echo "[replicas] two backends ready on ports ${ports[*]} (PostgreSQL $url)"

json() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const v=JSON.parse(s);console.log($1)})"; }
token="$(curl -sf -X POST "http://localhost:${ports[0]}/api/auth/guest/refresh" | json 'v.backstageIdentity.token')"
auth=(-H "Authorization: Bearer $token" -H 'Content-Type: application/json')
created="$(curl -sf "${auth[@]}" -X POST "http://localhost:${ports[0]}/api/chaos/experiments" -d '{
  "name": "every-minute", "entityRef": "component:default/checkout",
  "target": {"namespace": "chaos-demo", "labelSelector": {"app": "checkout"}, "selection": {"mode": "one"}},
  "faults": [{"type": "pod-kill"}], "duration": "5s", "safety": {"maxBlastRadiusPercent": 10},
  "schedule": "* * * * *"}')"
experiment="$(echo "$created" | json 'v.id')"
start="$(date -u +%s)"
# Whole minutes only: from the first minute boundary after the schedule was set.
first=$(( (start / 60 + 1) * 60 ))
last=$(( first + minutes * 60 ))
echo "[replicas] experiment $experiment scheduled at $(date -u -d "@$start" +%T); counting the minutes $(date -u -d "@$first" +%R) to $(date -u -d "@$last" +%R)"
sleep $(( last - $(date -u +%s) + 20 ))

runs="$(curl -sf "${auth[@]}" -G "http://localhost:${ports[1]}/api/chaos/runs" --data-urlencode entityRef=component:default/checkout --data-urlencode limit=100)"
echo "$runs" | node -e "
let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{
  const runs=JSON.parse(s).items.filter(r=>r.experimentId==='$experiment');
  const byMinute={};
  for(const r of runs){const m=Math.floor(Date.parse(r.createdAt)/60000)*60; (byMinute[m]??=[]).push(r);}
  let bad=0;
  for(let m=$first;m<$last;m+=60){
    const these=byMinute[m]??[];
    const ok=these.length===1 && these[0].createdBy==='schedule (* * * * *)';
    if(!ok) bad++;
    console.log(new Date(m*1000).toISOString().slice(11,16)+': '+these.length+' run(s) '+these.map(r=>r.phase+' by '+r.createdBy).join(', ')+(ok?'':'  <- expected exactly one'));
  }
  console.log('schedule across 2 replicas: '+($minutes-bad)+' passed, '+bad+' failed');
  process.exit(bad?1:0);
});"
