#!/usr/bin/env bash
# `make test`: sets up everything (Node 22, Yarn, packages, PostgreSQL, the Kubernetes
# sandbox), then runs the type check, lint and every test suite. Ends with one line
# `N passed, N failed` that sums every suite.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh

WORK="$(mktemp -d /tmp/chaoscraft-test.XXXXXX)"
chmod 755 "$WORK"
RESULTS="$WORK/results"
mkdir -p "$RESULTS"
export CI=true BACKSTAGE_TEST_DISABLE_DOCKER=1

cleanup() {
  local code=$?
  for hook in "${CLEANUP[@]}"; do eval "$hook" || true; done
  rm -rf "$WORK"
  exit "$code"
}
CLEANUP=()
trap cleanup EXIT INT TERM

step() { printf '\n=== %s\n' "$*"; }
seconds() { date +%s; }

step "type check"
yarn tsc

step "lint"
yarn backstage-cli repo lint

step "PostgreSQL for the store tests"
BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING="$(scripts/postgres.sh start "$WORK/postgres")"
export BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING
CLEANUP+=("scripts/postgres.sh stop '$WORK/postgres'")

if [[ -x infra/sandbox/sandbox.sh ]]; then
  step "Kubernetes sandbox"
  t0=$(seconds)
  infra/sandbox/build.sh
  echo "sandbox build step took $(( $(seconds) - t0 ))s"
  CLEANUP+=("infra/sandbox/sandbox.sh down --dir '$WORK/sandbox'")
  infra/sandbox/sandbox.sh up --dir "$WORK/sandbox"
  export CHAOSCRAFT_SANDBOX_KUBECONFIG="$WORK/sandbox/kubeconfig"
fi

step "unit and integration tests (Jest, every package)"
jest_status=0
yarn backstage-cli repo test --json --outputFile="$RESULTS/jest.json" || jest_status=$?

for extra in scripts/test.d/*.sh; do
  [[ -e "$extra" ]] || continue
  step "$(basename "$extra" .sh)"
  bash "$extra" "$RESULTS" || true
done

step "summary"
node scripts/summarize-tests.js "$RESULTS"
