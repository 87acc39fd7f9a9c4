#!/usr/bin/env bash
# `make test`'s lint of .github/workflows: actionlint (built once from the Go module proxy and
# cached by infra/tools/build.sh) on each workflow, with shellcheck on their `run:` scripts.
# A deliberately broken workflow must be flagged, so a linter that checks nothing fails here.
# Ends with "workflows: N passed, N failed".
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
passed=0 failed=0
pass() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

actionlint=$("$ROOT/infra/tools/build.sh" actionlint) || { echo "workflows: 0 passed, 1 failed (actionlint did not build)"; exit 1; }
# Without shellcheck actionlint skips the scripts silently; scripts/system-deps.sh installs it.
shellcheck=$(command -v shellcheck) || fail "shellcheck is missing (Debian package shellcheck): the run: scripts would go unchecked"

cd "$ROOT"
for workflow in .github/workflows/*.yaml .github/workflows/*.yml; do
  [[ -e "$workflow" ]] || continue
  if out=$("$actionlint" -shellcheck="${shellcheck:-}" "$workflow" 2>&1); then
    pass "$workflow"
  else
    fail "$workflow"
    echo "$out"
  fi
done

work=$(mktemp -d /tmp/chaoscraft-actionlint.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/.github/workflows"
cat >"$work/.github/workflows/broken.yaml" <<'YAML'
on: push
jobs:
  broken:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "${{ steps.missing.outputs.value }}"
YAML
if out=$(cd "$work" && "$actionlint" -shellcheck= .github/workflows/broken.yaml 2>&1); then
  fail "a workflow that reads an undefined step's output passed actionlint"
elif [[ "$out" == *'property "missing" is not defined'* ]]; then
  pass "actionlint flags a workflow that reads an undefined step's output"
else
  fail "actionlint refused the broken workflow, but not for its error: $out"
fi

echo "workflows: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
