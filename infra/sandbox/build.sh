#!/usr/bin/env bash
# Builds the local Kubernetes sandbox's binaries from source through the Go module proxy and
# caches them outside the work tree, keyed by version.
#
#   infra/sandbox/build.sh                  build if needed; print the bin dir on stdout
#   infra/sandbox/build.sh --print-bin-dir  print the bin dir without building
#
# Progress goes to stderr; stdout carries only the bin dir, so callers can do
# `bin=$(infra/sandbox/build.sh)`.
#
# Why from source: there is no Docker (so no kind/k3d) and no download of release tarballs here,
# only package registries. Kubernetes, etcd, kwok and helm are all Go modules, so the Go module
# proxy is the one channel that can deliver them, verified against the checksum database.
set -euo pipefail

# ---- Pinned versions: change them here and nowhere else. ------------------------------------
# Kubernetes: the newest v1.34 patch whose go.mod the checksum database could verify when this
# was pinned (v1.34.11 and v1.34.12 were on the proxy but not yet in the checksum database).
K8S_VERSION=v1.34.10
ETCD_VERSION=v3.6.16
# kwok v0.7.0 ships built-in default stages; v0.8 needs an explicit stage config.
KWOK_VERSION=v0.7.0
HELM_VERSION=v3.22.0
# crictl, the CRI client: the real node's cleanup uses it, and so does the agent image.
CRICTL_VERSION=v1.34.0
# ----------------------------------------------------------------------------------------------

# k8s.io/kubernetes requires these staging modules at v0.0.0 and resolves them through
# `replace => ./staging/...`, which does not apply when it is a dependency. They are published
# as v0.<minor>.<patch> alongside each release.
K8S_STAGING_MODULES=(
  api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
  cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
  cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms
  kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
  mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller
)
# The three sample-* modules are required by k8s.io/kubernetes but no command we build imports
# them. The proxy refuses their recent versions, so they are replaced by empty local stubs:
# the build only needs their module path to resolve, never their code.
K8S_STUB_MODULES=(sample-apiserver sample-cli-plugin sample-controller)

CACHE_ROOT="${CHAOSCRAFT_CACHE:-$HOME/.cache/chaoscraft}/k8s"
SET_KEY="${K8S_VERSION}-etcd${ETCD_VERSION}-kwok${KWOK_VERSION}-helm${HELM_VERSION}-crictl${CRICTL_VERSION}"
BIN_DIR="$CACHE_ROOT/$SET_KEY/bin"
# Every binary the set must hold; also the warm-cache check.
SET_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet etcd etcdctl kwok helm crictl)

log() { printf 'sandbox-build: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

set_is_complete() {
  local b
  for b in "${SET_BINARIES[@]}"; do [[ -x "$BIN_DIR/$b" ]] || return 1; done
}

# Components are cached one directory per component and version, so bumping helm does not
# rebuild Kubernetes (most of the ~11-minute cold build on 2 cores). The set directory links
# them together.
component_dir() { printf '%s/components/%s-%s' "$CACHE_ROOT" "$1" "$2"; }

# Needs Go >= 1.26: etcd v3.6.16 and helm v3.22 declare `go 1.26.0`, and GOTOOLCHAIN=local
# (below) forbids fetching a newer toolchain.
find_go() {
  local go version
  go=$(command -v go || echo /usr/local/go/bin/go)
  [[ -x "$go" ]] || die "Go >= 1.26 is needed for the first build; put it on PATH"
  version=$("$go" env GOVERSION)
  version=${version#go}
  if ! printf '1.26\n%s\n' "$version" | sort -C -V; then
    die "Go >= 1.26 is needed for the first build, found $version ($go)"
  fi
  echo "$go"
}

# release_time MODULE@VERSION: the version's publication time from the module cache's .info
# record, used as the build date so that rebuilds stamp the same value.
release_time() {
  local info
  info=$(cd / && GOFLAGS='' "$GO" mod download -json "$1" |
    sed -n 's/^[[:space:]]*"Info": "\(.*\)",$/\1/p')
  [[ -f "$info" ]] && grep -o '"Time":"[^"]*"' "$info" | head -n1 | cut -d'"' -f4
  return 0
}

# go_build WORKDIR OUTFILE PACKAGE LDFLAGS: builds one command from the wrapper module in WORKDIR.
go_build() {
  local workdir=$1 out=$2 pkg=$3 ldflags=$4
  log "  go build $pkg"
  (cd "$workdir" && "$GO" build -trimpath -ldflags "-s -w $ldflags" -o "$out" "$pkg")
}

# k8s_wrapper WORKDIR: writes the throwaway module that builds k8s.io/kubernetes commands, and
# sets K8S_LDFLAGS to stamp their version.
k8s_wrapper() {
  local work=$1 m
  local staging_version="v0.${K8S_VERSION#v1.}"
  local minor=${K8S_VERSION#v1.}
  minor=${minor%%.*}
  mkdir -p "$work"
  for m in "${K8S_STUB_MODULES[@]}"; do
    mkdir -p "$work/stub/$m"
    printf 'module k8s.io/%s\n\ngo 1.24.0\n' "$m" >"$work/stub/$m/go.mod"
  done
  {
    echo "module chaoscraft.local/sandbox-build/kubernetes"
    echo
    echo "go 1.25.0"
    echo
    # Same default GODEBUG settings as k8s.io/kubernetes itself builds with.
    echo "godebug default=go1.24"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    for m in "${K8S_STAGING_MODULES[@]}"; do
      if [[ " ${K8S_STUB_MODULES[*]} " == *" $m "* ]]; then
        echo "	k8s.io/$m => ./stub/$m"
      else
        echo "	k8s.io/$m => k8s.io/$m $staging_version"
      fi
    done
    echo ")"
  } >"$work/go.mod"

  local date
  date=$(release_time "k8s.io/kubernetes@$K8S_VERSION")
  # Without these the binaries report v0.0.0, and clients (kubectl, client-go version checks,
  # helm's kubeVersion constraints) misjudge the server.
  local pkg
  K8S_LDFLAGS=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    K8S_LDFLAGS+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    # The proxy does not give the source commit; empty beats the "$Format:%H$" placeholder.
    K8S_LDFLAGS+=" -X $pkg.gitCommit= -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
}

build_kubernetes() {
  local out=$1 work=$2/kubernetes m
  k8s_wrapper "$work"
  for m in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    go_build "$work" "$out/$m" "k8s.io/kubernetes/cmd/$m" "$K8S_LDFLAGS"
  done
}

# The real node's kubelet: its own cache entry, so adding it did not rebuild the control plane.
build_kubelet() {
  local out=$1 work=$2/kubernetes
  k8s_wrapper "$work"
  go_build "$work" "$out/kubelet" k8s.io/kubernetes/cmd/kubelet "$K8S_LDFLAGS"
}

build_crictl() {
  local out=$1 work=$2/crictl
  mkdir -p "$work"
  printf 'module chaoscraft.local/sandbox-build/crictl\n\ngo 1.24.0\n\nrequire sigs.k8s.io/cri-tools %s\n' \
    "$CRICTL_VERSION" >"$work/go.mod"
  go_build "$work" "$out/crictl" sigs.k8s.io/cri-tools/cmd/crictl \
    "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION"
}

build_etcd() {
  local out=$1 work=$2/etcd
  mkdir -p "$work"
  # etcd's main packages live at the roots of the server/v3 and etcdctl/v3 modules.
  printf 'module chaoscraft.local/sandbox-build/etcd\n\ngo 1.26.0\n\nrequire (\n\tgo.etcd.io/etcd/server/v3 %s\n\tgo.etcd.io/etcd/etcdctl/v3 %s\n)\n' \
    "$ETCD_VERSION" "$ETCD_VERSION" >"$work/go.mod"
  go_build "$work" "$out/etcd" go.etcd.io/etcd/server/v3 ""
  go_build "$work" "$out/etcdctl" go.etcd.io/etcd/etcdctl/v3 ""
}

build_kwok() {
  local out=$1 work=$2/kwok
  mkdir -p "$work"
  printf 'module chaoscraft.local/sandbox-build/kwok\n\ngo 1.24.0\n\nrequire sigs.k8s.io/kwok %s\n' \
    "$KWOK_VERSION" >"$work/go.mod"
  go_build "$work" "$out/kwok" sigs.k8s.io/kwok/cmd/kwok "-X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}"
}

build_helm() {
  local out=$1 work=$2/helm
  mkdir -p "$work"
  printf 'module chaoscraft.local/sandbox-build/helm\n\ngo 1.26.0\n\nrequire helm.sh/helm/v3 %s\n' \
    "$HELM_VERSION" >"$work/go.mod"
  go_build "$work" "$out/helm" helm.sh/helm/v3/cmd/helm \
    "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
}

# ensure_component NAME VERSION BUILD_FN: builds into a temp dir beside the cache entry and
# renames it into place, so an interrupted build never leaves a half-filled entry.
ensure_component() {
  local name=$1 version=$2 build_fn=$3 dir tmp
  dir=$(component_dir "$name" "$version")
  if [[ -d "$dir/bin" ]]; then
    log "$name $version: cached"
    return
  fi
  log "$name $version: building"
  tmp=$(mktemp -d "$CACHE_ROOT/.tmp-$name.XXXXXX")
  TMP_DIRS+=("$tmp")
  mkdir -p "$tmp/bin"
  "$build_fn" "$tmp/bin" "$tmp/work"
  rm -rf "$tmp/work"
  chmod 755 "$tmp"
  mv -T "$tmp" "$dir"
}

link_set() {
  local tmp set_dir=$CACHE_ROOT/$SET_KEY
  tmp=$(mktemp -d "$CACHE_ROOT/.tmp-set.XXXXXX")
  TMP_DIRS+=("$tmp")
  mkdir -p "$tmp/bin"
  ln -s "$(component_dir kubernetes "$K8S_VERSION")"/bin/* "$tmp/bin/"
  ln -s "$(component_dir etcd "$ETCD_VERSION")"/bin/* "$tmp/bin/"
  ln -s "$(component_dir kwok "$KWOK_VERSION")"/bin/* "$tmp/bin/"
  ln -s "$(component_dir helm "$HELM_VERSION")"/bin/* "$tmp/bin/"
  ln -s "$(component_dir kubelet "$K8S_VERSION")"/bin/* "$tmp/bin/"
  ln -s "$(component_dir crictl "$CRICTL_VERSION")"/bin/* "$tmp/bin/"
  chmod 755 "$tmp"
  rm -rf "$set_dir"
  mv -T "$tmp" "$set_dir"
}

cleanup() {
  local d
  for d in "${TMP_DIRS[@]}"; do [[ -e "$d" ]] && rm -rf "$d"; done
  return 0
}

main() {
  if [[ "${1:-}" == "--print-bin-dir" ]]; then
    echo "$BIN_DIR"
    return
  fi
  [[ $# -eq 0 ]] || die "usage: $0 [--print-bin-dir]"

  # Warm path: no lock, no Go, just stat calls.
  if set_is_complete; then
    log "cached ($BIN_DIR)"
    echo "$BIN_DIR"
    return
  fi

  mkdir -p "$CACHE_ROOT/components"
  # Two sandboxes starting cold at once must not build twice into the same entries.
  exec 9>"$CACHE_ROOT/.build.lock"
  if ! flock -n 9; then
    log "another build holds $CACHE_ROOT/.build.lock; waiting"
    flock 9
  fi
  if set_is_complete; then
    log "cached ($BIN_DIR)"
    echo "$BIN_DIR"
    return
  fi

  GO=$(find_go)
  # -mod=mod lets the wrapper modules fill go.sum as they resolve; GOTOOLCHAIN=local keeps Go
  # from trying to download a newer toolchain named in a dependency; CGO off gives static
  # binaries like the upstream releases; GOWORK=off ignores any go.work around the temp dir.
  export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod" GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off
  log "using $("$GO" version)"

  local start=$SECONDS
  TMP_DIRS=()
  trap cleanup EXIT
  ensure_component kubernetes "$K8S_VERSION" build_kubernetes
  ensure_component etcd "$ETCD_VERSION" build_etcd
  ensure_component kwok "$KWOK_VERSION" build_kwok
  ensure_component helm "$HELM_VERSION" build_helm
  ensure_component kubelet "$K8S_VERSION" build_kubelet
  ensure_component crictl "$CRICTL_VERSION" build_crictl
  link_set
  set_is_complete || die "build finished but $BIN_DIR is incomplete"
  log "built in $((SECONDS - start))s"
  echo "$BIN_DIR"
}

main "$@"
