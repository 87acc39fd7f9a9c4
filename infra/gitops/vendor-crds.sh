#!/usr/bin/env bash
# Refreshes crds/: ArgoCD's Application and AppProject CRDs, copied from the argo-cd Go module
# (its source, with manifests/, is on the Go module proxy, verified by the checksum database).
# The server-side dry-run of infra/gitops (test-gitops.sh) installs them into the sandbox.
#   infra/gitops/vendor-crds.sh      (needs Go; change ARGOCD_VERSION, run, commit crds/)
set -euo pipefail

ARGOCD_VERSION=v3.6.1

cd "$(dirname "${BASH_SOURCE[0]}")"
module=github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION
# The module zip, not its extracted directory: Go refuses to extract a module whose go.mod
# asks for a newer Go than the local one, but still downloads and verifies the zip.
zip=$(cd / && { GOFLAGS='' go mod download -json "$module" || true; } | sed -n 's/^[[:space:]]*"Zip": "\(.*\)",$/\1/p')
[[ -f "$zip" ]] || { echo "could not download $module" >&2; exit 1; }
for f in application-crd.yaml appproject-crd.yaml; do
  {
    echo "# Vendored from the Go module $module, manifests/crds/$f,"
    echo "# unchanged below this header. Refresh: infra/gitops/vendor-crds.sh (ARGOCD_VERSION there)."
    python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
      "$zip" "$module/manifests/crds/$f"
  } >"crds/argoproj.io_$f"
done
echo "crds/ now holds argo-cd $ARGOCD_VERSION's Application and AppProject CRDs"
