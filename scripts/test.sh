#!/usr/bin/env bash
# `make test`: sets up everything (Debian packages, Node 22, Yarn, the workspace, PostgreSQL,
# the Kubernetes sandbox), then runs the type check, lint and every test suite against the real
# components. Ends with one line `N passed, N failed, N skipped` that sums every suite.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/system-deps.sh
# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh

WORK="$(mktemp -d /tmp/chaoscraft-test.XXXXXX)"
chmod 755 "$WORK"
RESULTS="$WORK/results"
mkdir -p "$RESULTS"
export CI=true BACKSTAGE_TEST_DISABLE_DOCKER=1

CLEANUP=()
cleanup() {
  local code=$?
  local i
  for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do eval "${CLEANUP[i]}" || true; done
  rm -rf "$WORK"
  exit "$code"
}
trap cleanup EXIT INT TERM

# Each step's header also says how long the step before it took, so a slow step shows in CI's log.
STEP_START=$(date +%s)
step() {
  local now
  now=$(date +%s)
  printf '\n=== %s (previous step: %ss)\n' "$*" "$((now - STEP_START))"
  STEP_START=$now
}
elapsed() { echo "$(( $(date +%s) - $1 ))s"; }

t0=$(date +%s)
step "type check"
yarn tsc
step "lint"
yarn backstage-cli repo lint
step "format (prettier, Backstage's configuration)"
yarn prettier:check

step "PostgreSQL for the store tests"
BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING="$(scripts/postgres.sh start "$WORK/postgres")"
export BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING
CLEANUP+=("scripts/postgres.sh stop '$WORK/postgres'")

step "Kubernetes sandbox and images (built once, cached in ~/.cache/chaoscraft)"
t=$(date +%s)
infra/sandbox/build.sh
echo "sandbox build step: $(elapsed "$t")"
t=$(date +%s)
# A failed image build is not fatal here: the suites that need the images report it.
infra/images/build.sh >/dev/null || echo "image build failed; the real-node suites will fail"
echo "image build step: $(elapsed "$t")"
t=$(date +%s)
# Jaeger: the OTLP receiver the tracing test queries (plugins/chaos-backend/src/tracing.test.ts).
infra/tools/build.sh jaeger >/dev/null
echo "tool build step: $(elapsed "$t")"
CLEANUP+=("infra/sandbox/sandbox.sh down --dir '$WORK/sandbox' --purge")
infra/sandbox/sandbox.sh up --dir "$WORK/sandbox" >/dev/null
export CHAOSCRAFT_SANDBOX_KUBECONFIG="$WORK/sandbox/kubeconfig"

step "Jest: every package but the agent"
yarn backstage-cli repo test --ignoreProjects @chaoscraft/agent \
  --json --outputFile="$RESULTS/jest-packages.json" || true

# The suites that deal in dates, again with the system clock a week ahead (libfaketime): a test
# that leans on today's date or time of day fails here. They read injected clocks, so they pass.
step "store, scheduler and model suites with the clock a week ahead (faketime)"
FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f '+7d' yarn backstage-cli repo test \
  plugins/chaos-backend/src/database plugins/chaos-backend/src/runs/ScheduledRuns.test.ts \
  plugins/chaos-backend/src/score plugins/chaos-backend/src/events \
  plugins/chaos-backend/src/experimentsAsCode/clusterSchedule.test.ts \
  plugins/chaos-common/src/model \
  --json --outputFile="$RESULTS/jest-clock-ahead.json" || true

# The agent's suites drive real traffic through network namespaces, a real Prometheus and the
# sandbox, and measure timings: one at a time, so the two cores are theirs.
step "Jest: the agent (sandbox, network namespaces, Prometheus test bed), one suite at a time"
(cd agent && CHAOSCRAFT_TESTBED=1 yarn backstage-cli package test --runInBand \
  --json --outputFile="$RESULTS/jest-agent.json") || true

# Runs a shell suite and keeps its "N passed, N failed" line as counts for the summary.
shell_suite() {
  local name=$1; shift
  local log="$RESULTS/$name.log"
  "$@" 2>&1 | tee "$log" || true
  local line
  line="$(grep -Eo '[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?' "$log" | tail -1 || true)"
  if [[ -z "$line" ]]; then
    echo "$name: no result line; counted as one failure"
    echo "0 1 0" >"$RESULTS/$name.counts"
  else
    echo "$line" | awk -F'[ ,]+' '{print $1, $3, ($5 == "" ? 0 : $5)}' >"$RESULTS/$name.counts"
  fi
}

step "sandbox lifecycle (the real node included)"
shell_suite sandbox-lifecycle infra/sandbox/test-lifecycle.sh

step "the agent's chart, installed with helm from the local image onto the real node"
shell_suite chart infra/sandbox/test-chart.sh

# The operations files (infra/ci, infra/eks, infra/gitops): actionlint and eksctl are built once
# from the Go module proxy and cached (infra/tools/build.sh); warm, the three take ~15 s together.
step "operations: workflows (actionlint), EKS config (eksctl), GitOps manifests (server-side dry run)"
shell_suite workflows infra/ci/lint-workflows.sh
shell_suite eks infra/eks/validate.sh
shell_suite gitops infra/gitops/test-gitops.sh

step "browser story (playwright-core and Chromium against make dev)"
shell_suite e2e scripts/test-e2e.sh

step "summary (after $(elapsed "$t0"))"
node scripts/summarize-tests.js "$RESULTS"
