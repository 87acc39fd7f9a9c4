#!/usr/bin/env bash
# A private PostgreSQL for the tests: its own data dir, socket dir and loopback port, run as
# the postgres user (initdb refuses root). Never touches the system cluster.
#
#   scripts/postgres.sh start DIR   prints the connection string on stdout
#   scripts/postgres.sh stop DIR
set -euo pipefail

cmd="${1:?usage: postgres.sh start|stop DIR}"
dir="${2:?usage: postgres.sh start|stop DIR}"
log() { printf '[postgres] %s\n' "$*" >&2; }

pg_bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [[ -x "$d/initdb" ]] && { echo "$d"; return; }; done
  log "PostgreSQL server binaries missing: installing the Debian package"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 ||
    { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
  for d in /usr/lib/postgresql/*/bin; do [[ -x "$d/initdb" ]] && { echo "$d"; return; }; done
  log "no initdb after install"; return 1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

as_pg() { runuser -u postgres -- "$@"; }

start() {
  local bin port
  bin="$(pg_bindir)"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  chown postgres "$dir"
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; return 1; }
  fi
  port="$(free_port)"
  mkdir -p "$dir/socket" && chown postgres "$dir/socket"
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir/socket -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2 ||
    { tail -20 "$dir/server.log" >&2; return 1; }
  echo "$port" >"$dir/port"
  log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $dir/data)"
  echo "postgresql://postgres@127.0.0.1:$port"
}

stop() {
  [[ -f "$dir/data/postmaster.pid" ]] || return 0
  as_pg "$(pg_bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) log "unknown command $cmd"; exit 2 ;;
esac
