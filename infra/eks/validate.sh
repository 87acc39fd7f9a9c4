#!/usr/bin/env bash
# `make test`'s check of the EKS cluster config: infra/eks/cluster.yaml against eksctl's own JSON
# schema and create-cluster validation, offline (infra/eks/validate/main.go says why not
# `eksctl create cluster --dry-run`: it needs AWS credentials). Broken copies of the config must
# fail the same checks, and the cluster-* targets must refuse to act without CONFIRM=yes.
# Ends with "N passed, N failed".
set -uo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONFIG="$SCRIPT_DIR/cluster.yaml"
passed=0 failed=0
pass() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

validator=$("$SCRIPT_DIR/../tools/build.sh" eksctl-validate) || { echo "eks: 0 passed, 1 failed (eksctl-validate did not build)"; exit 1; }
work=$(mktemp -d /tmp/chaoscraft-eks.XXXXXX)
trap 'rm -rf "$work"' EXIT

if out=$("$validator" "$CONFIG"); then pass "cluster.yaml: $(echo "$out" | sed 's/^ok [^:]*: //' | paste -sd, -)"; else fail "cluster.yaml: $out"; fi

# must_fail NAME EXPECTED SED_EXPRESSION: a copy of the config, edited, must be refused with a
# message that contains EXPECTED.
must_fail() {
  local name=$1 expected=$2 file=$work/$1.yaml out
  sed "$3" "$CONFIG" >"$file"
  cmp -s "$file" "$CONFIG" && { fail "$name: the edit changed nothing"; return; }
  if out=$("$validator" "$file"); then
    fail "$name: accepted"
  elif [[ "$out" == *"$expected"* ]]; then
    pass "$name: refused ($expected)"
  else
    fail "$name: refused, but not for '$expected': $out"
  fi
}
must_fail unknown-key 'Additional property withOIDCs is not allowed' 's/^  withOIDC: true/  withOIDCs: true/'
must_fail three-nodes-max-two 'nodes-max=2 and --nodes=3' 's/^    desiredCapacity: 2/    desiredCapacity: 3/'
must_fail service-account-without-oidc 'iam.withOIDC must be enabled' 's/^  withOIDC: true/  withOIDC: false/'

# The cluster-* targets: cost first, then nothing without confirmation. A stub eksctl first on
# PATH records any call, so a missing guard fails here instead of reaching AWS.
mkdir -p "$work/bin"
printf '#!/bin/sh\necho "$@" >>"%s/eksctl-calls"\n' "$work" >"$work/bin/eksctl"
chmod +x "$work/bin/eksctl"
for action in create delete kubeconfig; do
  out=$(env -u CONFIRM PATH="$work/bin:$PATH" "$SCRIPT_DIR/cluster.sh" "$action" 2>&1)
  code=$?
  if [[ $code -eq 3 && "$out" == *'/day'* && "$out" == *'CONFIRM=yes'* && ! -e "$work/eksctl-calls" ]]; then
    pass "cluster-$action: prints the cost and refuses without CONFIRM=yes"
  else
    fail "cluster-$action without CONFIRM: exit $code, eksctl calls: $(cat "$work/eksctl-calls" 2>/dev/null)"
  fi
done
out=$(CONFIRM=yes PATH="$work/bin:$PATH" "$SCRIPT_DIR/cluster.sh" create 2>&1)
if [[ "$(cat "$work/eksctl-calls" 2>/dev/null)" == "create cluster -f $CONFIG" ]]; then
  pass "cluster-create with CONFIRM=yes runs eksctl create cluster -f cluster.yaml"
else
  fail "cluster-create with CONFIRM=yes: eksctl calls: $(cat "$work/eksctl-calls" 2>/dev/null)"
fi

echo "eks: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
