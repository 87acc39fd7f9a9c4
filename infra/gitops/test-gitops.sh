#!/usr/bin/env bash
# `make test`'s check of the GitOps manifests: everything of ours under infra/gitops and
# infra/observability goes through a server-side dry run on the sandbox's real API server, with
# ArgoCD's CRDs (crds/, vendored) installed, so schemas, defaults and CEL rules all apply. Then
# what a dry run cannot see: chart versions pinned, git paths that exist, Applications inside
# their AppProject, and the agent's chart rendered with the Application's values.
# Ends with "gitops: N passed, N failed".
#
#   infra/gitops/test-gitops.sh      (the sandbox of CHAOSCRAFT_SANDBOX_KUBECONFIG, else its own)
set -uo pipefail

GITOPS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$GITOPS/../.." && pwd)"
SANDBOX="$ROOT/infra/sandbox/sandbox.sh"
BIN="$("$ROOT/infra/sandbox/build.sh" --print-bin-dir)"
passed=0 failed=0
pass() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
finish() { echo "gitops: $passed passed, $failed failed"; [[ $failed -eq 0 ]]; }

# Node 22 for the JSON checks (make test has it on PATH already; this is a second when warm).
# shellcheck source=scripts/bootstrap.sh
command -v node >/dev/null || BOOTSTRAP_SKIP_INSTALL=1 source "$ROOT/scripts/bootstrap.sh" >/dev/null 2>&1

WORK=$(mktemp -d /tmp/chaoscraft-gitops.XXXXXX)
CLEANUP=()
cleanup() {
  local i
  for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do eval "${CLEANUP[i]}" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

KUBECONFIG_FILE=${CHAOSCRAFT_SANDBOX_KUBECONFIG:-}
if [[ -z "$KUBECONFIG_FILE" ]]; then
  "$ROOT/infra/sandbox/build.sh" >/dev/null || { fail "the sandbox did not build"; finish; exit 1; }
  CLEANUP+=("'$SANDBOX' down --dir '$WORK/sandbox' --purge")
  "$SANDBOX" up --dir "$WORK/sandbox" --nodes 1 >/dev/null 2>"$WORK/up.err" || { fail "sandbox: $(tail -3 "$WORK/up.err")"; finish; exit 1; }
  KUBECONFIG_FILE=$WORK/sandbox/kubeconfig
fi
k() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# ---- what the manifests need on the server ----------------------------------------------------
for crd in "$GITOPS"/crds/*.yaml; do
  name=$(k create --dry-run=client -o jsonpath='{.metadata.name}' -f "$crd")
  k get crd "$name" >/dev/null 2>&1 || CLEANUP+=("k delete crd '$name' --wait=false")
  k apply --server-side --force-conflicts -f "$crd" >/dev/null || fail "installing $crd"
  # Polled: `kubectl wait` fails at once while a fresh CRD has no conditions yet.
  for _ in $(seq 1 120); do
    [[ "$(k get crd "$name" -o jsonpath='{.status.conditions[?(@.type=="Established")].status}' 2>/dev/null)" == True ]] && break
    sleep 0.5
  done
  [[ "$(k get crd "$name" -o jsonpath='{.status.conditions[?(@.type=="Established")].status}')" == True ]] ||
    fail "CRD $name not established after 60 s"
done
# A dry run of a namespaced object needs its namespace to exist; made for real, removed after.
for ns in argocd monitoring chaos-demo; do
  if ! k get namespace "$ns" >/dev/null 2>&1; then
    k create namespace "$ns" >/dev/null && CLEANUP+=("k delete namespace '$ns' --wait=false")
  fi
done

# dry_run NAME ARGS...: `kubectl apply --dry-run=server -o json` of ARGS, kept in $WORK/NAME.json.
dry_run() {
  local name=$1
  shift
  if k apply --dry-run=server -o json "$@" >"$WORK/$name.json" 2>"$WORK/$name.err"; then
    pass "$name: accepted by the API server (server-side dry run)"
  else
    fail "$name: $(tr '\n' ' ' <"$WORK/$name.err")"
  fi
}
dry_run root -f "$GITOPS/root.yaml"
dry_run apps -f "$GITOPS/apps/"
dry_run cluster -f "$GITOPS/cluster/"
k kustomize "$GITOPS/demo-app" >"$WORK/demo-app.yaml" 2>"$WORK/demo-app.kerr" || fail "demo-app: kustomize: $(cat "$WORK/demo-app.kerr")"
dry_run demo-app -f "$WORK/demo-app.yaml"
k kustomize "$ROOT/infra/observability" >"$WORK/dashboards.yaml" 2>"$WORK/dashboards.kerr" || fail "dashboards: kustomize: $(cat "$WORK/dashboards.kerr")"
dry_run dashboards -f "$WORK/dashboards.yaml"

# The dry run must be able to fail: an Application without its project is refused.
sed '/^  project: /d' "$GITOPS/apps/demo-app.yaml" >"$WORK/no-project.yaml"
if k apply --dry-run=server -f "$WORK/no-project.yaml" >/dev/null 2>"$WORK/no-project.err"; then
  fail "an Application without spec.project was accepted: the CRD's schema is not applied"
elif grep -q 'spec.project' "$WORK/no-project.err"; then
  pass "an Application without spec.project is refused, naming spec.project"
else
  fail "an Application without spec.project was refused, but not for it: $(cat "$WORK/no-project.err")"
fi

# ---- what a dry run cannot see ---------------------------------------------------------------
if [[ -s "$WORK/apps.json" && -s "$WORK/root.json" ]]; then
  node - "$WORK/root.json" "$WORK/apps.json" "$ROOT" "$WORK/demo-app.json" <<'NODE'
const fs = require('node:fs');
const path = require('node:path');
const [rootFile, appsFile, repo, demoFile] = process.argv.slice(2);
const items = file => { const o = JSON.parse(fs.readFileSync(file, 'utf8')); return o.kind === 'List' ? o.items : [o]; };
const objects = [...items(rootFile), ...items(appsFile)];
const apps = objects.filter(o => o.kind === 'Application');
const project = objects.find(o => o.kind === 'AppProject');
const ok = m => console.log(`ok: ${m}`);
const fail = m => console.log(`FAIL: ${m}`);
const repoUrls = new Set(apps.map(a => a.spec.source.repoURL).filter(u => u.endsWith('.git')));
if (repoUrls.size === 1) ok(`every git source is this repository (${[...repoUrls][0]})`);
else fail(`git sources differ: ${[...repoUrls].join(', ')}`);
for (const app of apps) {
  const { source, destination } = app.spec;
  const name = app.metadata.name;
  if (source.chart) {
    if (/^\d+\.\d+\.\d+$/.test(source.targetRevision)) ok(`${name}: chart ${source.chart} pinned to ${source.targetRevision}`);
    else fail(`${name}: chart ${source.chart} not pinned to an exact version (${source.targetRevision})`);
  } else if (fs.existsSync(path.join(repo, source.path))) {
    ok(`${name}: path ${source.path} exists`);
  } else {
    fail(`${name}: path ${source.path} does not exist in the repository`);
  }
  if (name === 'chaoscraft') continue; // the app of apps lives in ArgoCD's default project
  const allowed = app.spec.project === project.metadata.name &&
    project.spec.sourceRepos.includes(source.repoURL) &&
    project.spec.destinations.some(d => d.server === destination.server && d.namespace === destination.namespace);
  if (allowed) ok(`${name}: inside AppProject ${project.metadata.name} (source and destination allowed)`);
  else fail(`${name}: outside AppProject ${project.metadata.name} (project ${app.spec.project}, ${source.repoURL} -> ${destination.namespace})`);
}
const demo = apps.find(a => a.metadata.name === 'demo-app');
const images = items(demoFile).flatMap(o => o.spec?.template?.spec?.containers ?? []).map(c => c.image.replace(/:.*$/, ''));
const override = demo.spec.source.kustomize.images[0].split('=')[0];
if (images.length && images.every(i => i === override)) ok(`demo-app: the kustomize image override names the Deployment's image (${override})`);
else fail(`demo-app: image override ${override} does not match ${images.join(', ')}`);
NODE
else
  fail "static checks skipped: the dry runs above gave nothing to check"
fi 2>&1 | tee "$WORK/static.log"
passed=$((passed + $(grep -c '^ok: ' "$WORK/static.log")))
failed=$((failed + $(grep -c '^FAIL: ' "$WORK/static.log")))

# The agent's chart as the Application renders it (its valuesObject), against the API server.
node -e '
  const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const app = (o.items ?? [o]).find(i => i.metadata.name === "chaoscraft-agent");
  process.stdout.write(JSON.stringify(app.spec.source.helm.valuesObject));
' "$WORK/apps.json" >"$WORK/agent-values.json" 2>/dev/null
ns=chaoscraft-system
k get namespace "$ns" >/dev/null 2>&1 || { k create namespace "$ns" >/dev/null && CLEANUP+=("k delete namespace '$ns' --wait=false"); }
if "$BIN/helm" template chaoscraft-agent "$ROOT/charts/chaoscraft-agent" --namespace "$ns" --include-crds \
  --values "$WORK/agent-values.json" >"$WORK/agent.yaml" 2>"$WORK/agent.err"; then
  # CRDs first, for real (a dry run of a ChaosRun-using object would need them); the rest dry.
  if k apply --server-side --force-conflicts -f "$ROOT/charts/chaoscraft-agent/crds/" >/dev/null 2>&1 &&
    k apply --dry-run=server -f "$WORK/agent.yaml" >/dev/null 2>"$WORK/agent.err" &&
    grep -q -- '--prometheus-url=http://kube-prometheus-stack-prometheus.monitoring:9090' "$WORK/agent.yaml"; then
    pass "chaoscraft-agent: the chart rendered with the Application's values is accepted, and points probes at kube-prometheus-stack's Prometheus"
  else
    fail "chaoscraft-agent: $(tr '\n' ' ' <"$WORK/agent.err")"
  fi
else
  fail "chaoscraft-agent: helm template: $(cat "$WORK/agent.err")"
fi

finish
