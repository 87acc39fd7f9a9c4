#!/usr/bin/env bash
# Builds the Go tools that `make test` runs on the operations files, from source through the Go
# module proxy, and caches them outside the work tree keyed by version (as infra/sandbox/build.sh
# caches the sandbox's binaries):
#   actionlint        lints .github/workflows (github.com/rhysd/actionlint)
#   eksctl            eksctl itself, for the cluster-* Makefile targets and `eksctl utils schema`
#   eksctl-validate   infra/eks/validate/main.go: eksctl's own schema and validation, offline
#   kind              Kubernetes in Docker, for infra/kind/e2e.sh (needs Docker to run, not to build)
#
#   infra/tools/build.sh TOOL     build TOOL if needed; print the path of its binary on stdout
#
# Progress goes to stderr. A warm call only stats the cached binary.
set -euo pipefail

# ---- Pinned versions: change them here and nowhere else. ------------------------------------
ACTIONLINT_VERSION=v1.7.12
# eksctl's module path is still github.com/weaveworks/eksctl (the repository moved to
# eksctl-io); v0.215.0 is the newest version the module proxy serves.
EKSCTL_VERSION=v0.215.0
# Its default node image (Kubernetes v1.37) is pinned by digest in the release itself.
KIND_VERSION=v0.33.0
# ----------------------------------------------------------------------------------------------

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
CACHE_ROOT="${CHAOSCRAFT_CACHE:-$HOME/.cache/chaoscraft}/tools"
VALIDATOR_SOURCE="$REPO_ROOT/infra/eks/validate/main.go"

log() { printf 'tools-build: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The cache entry of each tool; the validator's is keyed by its source too, so editing it
# rebuilds the validator alone (the Go build cache makes that quick once eksctl has been built).
entry_of() {
  case $1 in
    actionlint) echo "$CACHE_ROOT/actionlint-$ACTIONLINT_VERSION" ;;
    eksctl) echo "$CACHE_ROOT/eksctl-$EKSCTL_VERSION" ;;
    eksctl-validate) echo "$CACHE_ROOT/eksctl-validate-$EKSCTL_VERSION-$(sha256sum <"$VALIDATOR_SOURCE" | cut -c1-12)" ;;
    kind) echo "$CACHE_ROOT/kind-$KIND_VERSION" ;;
    *) die "unknown tool '$1' (known: actionlint eksctl eksctl-validate kind)" ;;
  esac
}

find_go() {
  local go version
  go=$(command -v go || echo /usr/local/go/bin/go)
  [[ -x "$go" ]] || die "Go >= 1.25 is needed for the first build; put it on PATH"
  version=$("$go" env GOVERSION)
  version=${version#go}
  printf '1.25.1\n%s\n' "$version" | sort -C -V || die "Go >= 1.25.1 is needed (eksctl's go.mod), found $version"
  echo "$go"
}

# eksctl pins Kubernetes libraries with replace directives, which only apply in the main module:
# the wrapper module copies them from eksctl's own go.mod.
eksctl_wrapper() {
  local work=$1 gomod
  mkdir -p "$work"
  gomod=$(cd / && GOFLAGS='' "$GO" mod download -json "github.com/weaveworks/eksctl@$EKSCTL_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [[ -f "$gomod" ]] || die "could not fetch eksctl $EKSCTL_VERSION's go.mod"
  {
    printf 'module chaoscraft.local/tools/eksctl\n\ngo %s\n\nrequire github.com/weaveworks/eksctl %s\n\n' \
      "$(sed -n 's/^go //p' "$gomod")" "$EKSCTL_VERSION"
    sed -n '/^replace (/,/^)/p' "$gomod"
  } >"$work/go.mod"
}

build_actionlint() {
  local out=$1 work=$2
  mkdir -p "$work"
  printf 'module chaoscraft.local/tools/actionlint\n\ngo 1.24.0\n\nrequire github.com/rhysd/actionlint %s\n' \
    "$ACTIONLINT_VERSION" >"$work/go.mod"
  (cd "$work" && "$GO" build -trimpath -ldflags "-s -w -X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" \
    -o "$out/actionlint" github.com/rhysd/actionlint/cmd/actionlint)
}

build_eksctl() {
  local out=$1 work=$2
  eksctl_wrapper "$work"
  # Without PreReleaseID="" it reports 0.215.0-dev.
  (cd "$work" && "$GO" build -trimpath \
    -ldflags "-s -w -X github.com/weaveworks/eksctl/pkg/version.PreReleaseID=" \
    -o "$out/eksctl" github.com/weaveworks/eksctl/cmd/eksctl)
}

build_eksctl_validate() {
  local out=$1 work=$2
  eksctl_wrapper "$work"
  mkdir -p "$work/validate"
  cp "$VALIDATOR_SOURCE" "$work/validate/main.go"
  (cd "$work" && "$GO" build -trimpath -ldflags "-s -w" -o "$out/eksctl-validate" ./validate)
}

build_kind() {
  local out=$1 work=$2
  mkdir -p "$work"
  printf 'module chaoscraft.local/tools/kind\n\ngo 1.24.0\n\nrequire sigs.k8s.io/kind %s\n' "$KIND_VERSION" >"$work/go.mod"
  (cd "$work" && "$GO" build -trimpath -ldflags "-s -w" -o "$out/kind" sigs.k8s.io/kind)
}

main() {
  [[ $# -eq 1 ]] || die "usage: $0 TOOL (actionlint, eksctl, eksctl-validate or kind)"
  local tool=$1 entry
  entry=$(entry_of "$tool")
  if [[ -x "$entry/bin/$tool" ]]; then
    echo "$entry/bin/$tool"
    return
  fi
  mkdir -p "$CACHE_ROOT"
  exec 9>"$CACHE_ROOT/.build.lock"
  flock -n 9 || { log "another build holds $CACHE_ROOT/.build.lock; waiting"; flock 9; }
  if [[ -x "$entry/bin/$tool" ]]; then
    echo "$entry/bin/$tool"
    return
  fi
  GO=$(find_go)
  # As in infra/sandbox/build.sh: go.sum filled as the wrapper resolves, no toolchain download,
  # static binaries, no surrounding go.work.
  export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod" GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off
  log "$tool: building with $("$GO" version) (eksctl takes about 15 minutes cold on 2 cores)"
  local start=$SECONDS
  # Built beside the cache entry and renamed into place: an interrupted build leaves no entry.
  TMP=$(mktemp -d "$CACHE_ROOT/.tmp-$tool.XXXXXX")
  trap 'rm -rf "$TMP"' EXIT
  mkdir -p "$TMP/bin"
  "build_${tool//-/_}" "$TMP/bin" "$TMP/work"
  rm -rf "$TMP/work"
  chmod 755 "$TMP"
  rm -rf "$entry"
  mv -T "$TMP" "$entry"
  # Keep only the newest validator build.
  if [[ $tool == eksctl-validate ]]; then
    find "$CACHE_ROOT" -maxdepth 1 -name "eksctl-validate-*" ! -path "$entry" -exec rm -rf {} +
  fi
  log "$tool: built in $((SECONDS - start))s"
  echo "$entry/bin/$tool"
}

main "$@"
