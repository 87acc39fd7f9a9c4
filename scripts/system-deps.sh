#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo run for real: PostgreSQL (store tests),
# Prometheus (PromQL probes), iproute2 and iptables (network faults in namespaces), Chromium
# (browser test), openssl (sandbox certificates), faketime (date-independence check),
# stress-ng (stress faults), shellcheck (actionlint runs it on the workflows' scripts); for the
# sandbox's real node and the images: containerd, runc, the CNI plugins, buildah and mmdebstrap
# (docs/sandbox.md). Quick when everything is there: it only asks dpkg. Nothing here starts a
# system service; the scripts run private instances.
set -euo pipefail

PACKAGES=(postgresql prometheus iproute2 iptables util-linux chromium openssl python3 faketime stress-ng shellcheck
  containerd runc containernetworking-plugins buildah mmdebstrap)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $EUID -ne 0 ]]; then
  echo "[system-deps] missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
echo "[system-deps] installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# --no-install-recommends: Prometheus' exporters and the like are not needed.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
# Debian starts services on install; ChaosCraft uses private instances, so stop those it just
# installed and left running (PID files of the packages' own units, never ours).
for svc in postgresql prometheus containerd; do
  if [[ " ${missing[*]} " == *" $svc "* ]] && command -v systemctl >/dev/null; then
    systemctl stop "$svc" >/dev/null 2>&1 || true
  fi
done
