#!/usr/bin/env bash
# Gives the demo's host processes their identities in a sandbox (infra/demo/access.yaml) and
# writes DIR/app-config.yaml: the sandbox as the one cluster of `kubernetes.clusterLocatorMethods`,
# which the Kubernetes plugin and the chaos plugin both read, so the Kubernetes tab shows the
# very pods a chaos run hits. Takes a second or two; `make dev` runs it before Backstage starts.
#
#   infra/demo/access.sh DIR      (DIR: a running sandbox, as from infra/sandbox/sandbox.sh up)
set -euo pipefail

dir="$(cd "${1:?usage: access.sh SANDBOX_DIR}" && pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kubectl=("$dir/bin/kubectl" --kubeconfig "$dir/kubeconfig")
log() { printf '[demo] %s\n' "$*" >&2; }

"${kubectl[@]}" apply -f "$root/infra/demo/access.yaml" >/dev/null
token=""
for _ in $(seq 1 120); do
  token=$("${kubectl[@]}" -n backstage get secret backstage-token -o jsonpath='{.data.token}' 2>/dev/null | base64 -d) || true
  [[ -n "$token" ]] && break
  sleep 0.5
done
[[ -n "$token" ]] || { log "the backstage/backstage-token Secret got no token from the controller-manager"; exit 1; }

# shellcheck source=/dev/null
apiserver=$(source "$dir/ports.env" && echo "https://127.0.0.1:$APISERVER_PORT")
(
  umask 077
  cat >"$dir/app-config.yaml" <<CONFIG
# Written by infra/demo/access.sh: the local sandbox, the one cluster of both the Kubernetes
# plugin (its Kubernetes tab) and the chaos plugin (it reads the same config entries).
kubernetes:
  clusterLocatorMethods:
    - type: config
      clusters:
        - name: sandbox
          title: Local sandbox (make dev)
          url: $apiserver
          authProvider: serviceAccount
          # backstage/backstage (infra/demo/access.yaml): reads the Kubernetes tab's objects,
          # creates, watches and aborts ChaosRuns; no secrets.
          serviceAccountToken: $token
          caData: $(base64 -w0 "$dir/pki/ca.crt")
          # No metrics-server in the sandbox.
          skipMetricsLookup: true
CONFIG
)
log "Backstage reaches the sandbox as backstage/backstage ($dir/app-config.yaml)"
