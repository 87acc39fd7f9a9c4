#!/usr/bin/env bash
# Builds ChaosCraft's container images without Docker. buildah (vfs storage, chroot isolation)
# runs the project's Containerfiles verbatim, so they stay the one definition of each image;
# the base images they name come from local stand-ins, because no image registry is reachable
# here. Each image is written as an OCI archive, cached outside the work tree and keyed by the
# content that went into it, for `ctr images import` (see `infra/sandbox/sandbox.sh load`).
#
#   infra/images/build.sh [IMAGE...]         build what is not cached; prints "IMAGE REF ARCHIVE"
#   infra/images/build.sh --stage IMAGE DIR  only fill DIR with IMAGE's build context (docker build)
#
# IMAGE: pause, agent, demo-app (default: all three). Needs root, buildah and mmdebstrap
# (scripts/system-deps.sh), and for agent and demo-app the workspace (scripts/bootstrap.sh).
# Progress goes to stderr.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

# ---- Pinned versions: change them here and nowhere else. ------------------------------------
DEBIAN_SUITE=bookworm
# The Node 22 of the images: the npm registry's `node` package (nodejs.org's release binary).
NODE_VERSION=22.23.3
# ----------------------------------------------------------------------------------------------
IMAGE_TAG=dev
ALL_IMAGES=(pause agent demo-app)

CACHE_ROOT="${CHAOSCRAFT_CACHE:-$HOME/.cache/chaoscraft}/images"

log() { printf 'images: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

containerfile_of() {
  case $1 in
    pause) echo "$SCRIPT_DIR/pause/Containerfile" ;;
    agent) echo "$REPO_ROOT/agent/Containerfile" ;;
    demo-app) echo "$REPO_ROOT/infra/demo-app/Containerfile" ;;
    *) die "unknown image '$1' (known: ${ALL_IMAGES[*]})" ;;
  esac
}

ref_of() { echo "localhost/chaoscraft/$1:$IMAGE_TAG"; }

sha() { sha256sum | cut -c1-16; }

# ---- build contexts ------------------------------------------------------------------------

stage_pause() {
  cp "$SCRIPT_DIR/pause/pause.c" "$1/pause.c"
}

# The agent's bundle is rebuilt every time (esbuild takes about a second), so an image never
# carries stale code; the content key below then decides whether the image is rebuilt.
stage_agent() {
  local dir=$1 crictl
  need_workspace
  in_workspace yarn workspace @chaoscraft/agent build:bundle >&2
  mkdir -p "$dir/app/bin" "$dir/app/dist/bundle"
  cp "$REPO_ROOT/agent/bin/chaoscraft-agent" "$dir/app/bin/"
  cp "$REPO_ROOT/agent/package.json" "$dir/app/"
  cp "$REPO_ROOT/agent/dist/bundle/chaoscraft-agent.cjs" "$dir/app/dist/bundle/"
  # pino is the bundle's one external (see agent/package.json, build:bundle).
  node "$SCRIPT_DIR/copy-packages.cjs" "$REPO_ROOT/agent" "$dir/app/node_modules" pino >/dev/null
  crictl="$("$REPO_ROOT/infra/sandbox/build.sh")/crictl"
  cp -L "$crictl" "$dir/crictl"
}

stage_demo_app() {
  local dir=$1
  need_workspace
  mkdir -p "$dir/app"
  local entry
  # The app (main.ts) and its users, the load generator (load.ts): one image, two entry points.
  for entry in main:demo-app load:demo-load; do
    "$REPO_ROOT/node_modules/.bin/esbuild" "$REPO_ROOT/infra/demo-app/${entry%%:*}.ts" --bundle \
      --platform=node --target=node22 --format=cjs --log-level=warning --outfile="$dir/app/${entry##*:}.cjs"
  done
}

stage() {
  local image=$1 dir=$2
  mkdir -p "$dir"
  case $image in
    pause) stage_pause "$dir" ;;
    agent) stage_agent "$dir" ;;
    demo-app) stage_demo_app "$dir" ;;
  esac
}

need_workspace() {
  [[ -x "$REPO_ROOT/node_modules/.bin/esbuild" ]] || in_workspace true
}

# in_workspace CMD...: runs CMD in the repository root with Node 22 and Yarn 4 set up by
# bootstrap.sh (about a second when warm), in a subshell: bootstrap.sh defines functions and
# variables of its own.
in_workspace() {
  bash -c 'cd "$1" && source scripts/bootstrap.sh >&2 && shift && "$@"' bash "$REPO_ROOT" "$@"
}

# context_key DIR: a hash of every file's path, mode and content in DIR.
context_key() {
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z |
    xargs -0 sh -c 'for f; do stat -c "%n %a" "$f"; sha256sum <"$f"; done' sh) | sha
}

# ---- buildah and the stand-in base images -----------------------------------------------------

buildah_() {
  buildah --root "$CACHE_ROOT/buildah/root" --runroot "$CACHE_ROOT/buildah/run" --storage-driver vfs "$@"
}

# build_image CONTAINERFILE CONTEXT REF: runs the Containerfile as it is. --pull=never: every
# FROM resolves in the private storage (a stand-in, or an earlier stage). --isolation chroot:
# RUN steps need no container runtime of their own. --network host: RUN apt-get reaches the
# Debian archive as the host does.
build_image() {
  buildah_ build --quiet --pull=never --isolation chroot --network host --layers=false \
    -f "$1" -t "$3" "$2" >/dev/null
}

has_image() { buildah_ inspect --type image "$1" >/dev/null 2>&1; }

# A stand-in is rebuilt when its key (what went into it) changes; the key is kept beside the
# storage, as the image's own metadata cannot be read back cheaply.
stand_in_current() { [[ -f "$CACHE_ROOT/buildah/$1.key" && "$(cat "$CACHE_ROOT/buildah/$1.key")" == "$2" ]] && has_image "$3"; }

# debian:bookworm-slim, made as the official image is made: mmdebstrap, variant minbase, with
# the same dpkg path exclusions as the slim variant. The apt sources are the host's own.
DEBIAN_REF=docker.io/library/debian:$DEBIAN_SUITE-slim
DEBIAN_DPKG_OPTS=(
  'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/doc/*'
  'path-include=/usr/share/doc/*/copyright' 'path-exclude=/usr/share/locale/*'
)
ensure_debian() {
  local sources key tarball ctr mnt opt args=()
  sources=$(ls /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 || true)
  [[ -n "$sources" ]] || sources=/etc/apt/sources.list
  [[ -s "$sources" ]] || die "no apt sources on this host ($sources)"
  key=$(printf '%s\n' "$DEBIAN_SUITE minbase" "${DEBIAN_DPKG_OPTS[@]}" | sha)
  DEBIAN_KEY=$key
  stand_in_current debian "$key" "$DEBIAN_REF" && return 0
  tarball=$CACHE_ROOT/bases/debian-$DEBIAN_SUITE-slim-$key.tar
  if [[ ! -s "$tarball" ]]; then
    command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (scripts/system-deps.sh installs it)"
    log "debian:$DEBIAN_SUITE-slim stand-in: mmdebstrap (minbase; the first time takes minutes)"
    mkdir -p "$CACHE_ROOT/bases"
    for opt in "${DEBIAN_DPKG_OPTS[@]}"; do args+=(--dpkgopt="$opt"); done
    mmdebstrap --quiet --format=tar --variant=minbase "${args[@]}" "$DEBIAN_SUITE" "$tarball.tmp" "$sources"
    mv "$tarball.tmp" "$tarball"
  fi
  log "debian:$DEBIAN_SUITE-slim stand-in: importing into buildah storage"
  ctr=$(buildah_ from scratch)
  mnt=$(buildah_ mount "$ctr")
  tar -xf "$tarball" -C "$mnt"
  buildah_ umount "$ctr" >/dev/null
  buildah_ config --cmd /bin/bash "$ctr"
  buildah_ commit --quiet --rm "$ctr" "$DEBIAN_REF" >/dev/null
  echo "$key" >"$CACHE_ROOT/buildah/debian.key"
}

NODE_REF=docker.io/library/node:22-$DEBIAN_SUITE-slim
ensure_node() {
  local containerfile=$SCRIPT_DIR/stand-ins/node-22-bookworm-slim.Containerfile key dir ctx
  key=$( (echo "$DEBIAN_KEY $NODE_VERSION"; cat "$containerfile") | sha)
  NODE_KEY=$key
  stand_in_current node "$key" "$NODE_REF" && return 0
  dir=$CACHE_ROOT/node-$NODE_VERSION
  if [[ ! -x "$dir/node_modules/node/bin/node" ]]; then
    log "node $NODE_VERSION: from the npm registry's node package"
    mkdir -p "$dir"
    (cd "$dir" && npm i --no-save --no-audit --no-fund --prefix "$dir" "node@$NODE_VERSION" >&2)
  fi
  log "node:22-$DEBIAN_SUITE-slim stand-in: building"
  ctx=$(mktemp -d "$CACHE_ROOT/tmp/ctx.XXXXXX")
  cp -L "$dir/node_modules/node/bin/node" "$ctx/node"
  build_image "$containerfile" "$ctx" "$NODE_REF"
  rm -rf "$ctx"
  echo "$key" >"$CACHE_ROOT/buildah/node.key"
}

# ---- images ------------------------------------------------------------------------------

# build_one IMAGE: prints "IMAGE REF ARCHIVE", building the archive unless it is cached.
build_one() {
  local image=$1 containerfile ref ctx key archive t0
  containerfile=$(containerfile_of "$image")
  ref=$(ref_of "$image")
  t0=$SECONDS
  # The base images this one builds on: every image starts from debian:bookworm-slim (pause in
  # its build stage); all but pause from node:22-bookworm-slim too.
  local bases=$DEBIAN_KEY
  if [[ $image != pause ]]; then
    ensure_node
    bases+=" $NODE_KEY"
  fi
  ctx=$(mktemp -d "$CACHE_ROOT/tmp/ctx.XXXXXX")
  stage "$image" "$ctx"
  key=$( (echo "$bases"; cat "$containerfile"; context_key "$ctx") | sha)
  archive=$CACHE_ROOT/archives/$image-$key.oci.tar
  if [[ -s "$archive" ]]; then
    log "$image: cached ($archive)"
  else
    log "$image: building $ref"
    build_image "$containerfile" "$ctx" "$ref"
    mkdir -p "$CACHE_ROOT/archives"
    buildah_ push --quiet "$ref" "oci-archive:$archive.tmp:$ref" >/dev/null
    mv "$archive.tmp" "$archive"
    buildah_ rmi "$ref" >/dev/null
    # Earlier stages of a multi-stage build are left untagged; the stand-ins stay tagged.
    buildah_ rmi --prune >/dev/null 2>&1 || true
    # Keep the two newest archives of each image.
    ls -t "$CACHE_ROOT/archives/$image"-*.oci.tar | tail -n +3 | xargs -r rm -f
    log "$image: built in $((SECONDS - t0))s ($(du -m "$archive" | cut -f1) MiB)"
  fi
  rm -rf "$ctx"
  echo "$image $ref $archive"
}

main() {
  if [[ "${1:-}" == "--stage" ]]; then
    [[ $# -eq 3 ]] || die "usage: $0 --stage IMAGE DIR"
    containerfile_of "$2" >/dev/null
    stage "$2" "$3"
    log "staged $2's build context in $3; build it with: docker build -f $(containerfile_of "$2") $3"
    return
  fi
  local images=("$@") image
  ((${#images[@]})) || images=("${ALL_IMAGES[@]}")
  for image in "${images[@]}"; do containerfile_of "$image" >/dev/null; done
  [[ $EUID -eq 0 ]] || die "building images needs root (buildah's vfs storage, chroot isolation)"
  command -v buildah >/dev/null || die "buildah is missing (scripts/system-deps.sh installs it)"

  mkdir -p "$CACHE_ROOT/buildah" "$CACHE_ROOT/tmp"
  # buildah keeps RUN --mount=type=cache directories and its temp files under TMPDIR.
  export TMPDIR=$CACHE_ROOT/tmp
  # One build at a time per cache: they share the storage.
  exec 9>"$CACHE_ROOT/.build.lock"
  if ! flock -n 9; then
    log "another image build holds $CACHE_ROOT/.build.lock; waiting"
    flock 9
  fi
  local t0=$SECONDS
  ensure_debian
  for image in "${images[@]}"; do build_one "$image"; done
  log "done in $((SECONDS - t0))s"
}

main "$@"
