#!/usr/bin/env bash
# The demo EKS cluster (infra/eks/cluster.yaml), through eksctl. Every action prints what the
# cluster costs and does nothing unless CONFIRM=yes: creating it starts the meter, and deleting
# or re-pointing kubectl at the wrong cluster is as easy to regret.
#
#   CONFIRM=yes infra/eks/cluster.sh create       eksctl create cluster -f cluster.yaml (~20 min)
#   CONFIRM=yes infra/eks/cluster.sh delete       eksctl delete cluster -f cluster.yaml --wait
#   CONFIRM=yes infra/eks/cluster.sh kubeconfig   eksctl utils write-kubeconfig (to $KUBECONFIG)
#   infra/eks/cluster.sh cost                     the estimate alone
#
# Needs AWS credentials in the environment (any the AWS SDK reads: profile, SSO, env vars).
# eksctl: the one on PATH, else the pinned one built by infra/tools/build.sh.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONFIG="$SCRIPT_DIR/cluster.yaml"

# ---- Prices: us-east-1, on-demand, Linux, USD, as published by AWS in October 2025. ----------
# Re-check them on the AWS pricing pages before relying on the total; infra/eks/README.md
# explains each line.
EKS_CONTROL_PLANE_HOURLY=0.10   # per cluster-hour, Kubernetes version in standard support
NODE_TYPE=t3.medium
NODE_HOURLY=0.0416              # t3.medium on-demand
NODE_COUNT=2
PUBLIC_IPV4_HOURLY=0.005        # per public IPv4 address (one per node: public subnets)
EBS_GP3_GB_MONTH=0.08
EBS_GB=$((2 * 20 + 20 + 10 + 5)) # node root volumes + Prometheus, Loki, Grafana volumes (infra/gitops)
HOURS_PER_MONTH=730
# ----------------------------------------------------------------------------------------------

cost() {
  awk -v cp="$EKS_CONTROL_PLANE_HOURLY" -v node="$NODE_HOURLY" -v n="$NODE_COUNT" \
    -v ip="$PUBLIC_IPV4_HOURLY" -v gb="$EBS_GB" -v ebs="$EBS_GP3_GB_MONTH" -v hpm="$HOURS_PER_MONTH" \
    -v type="$NODE_TYPE" '
    function line(what, price, day) { printf "  %-26s %-16s $%.2f/day\n", what, price, day }
    BEGIN {
      c = cp * 24; w = node * n * 24; i = ip * n * 24; e = gb * ebs / hpm * 24
      printf "cost of the ChaosCraft EKS cluster (us-east-1, on-demand, prices of Oct 2025):\n"
      line("EKS control plane", sprintf("$%.4f/h", cp), c)
      line(sprintf("%d x %s nodes", n, type), sprintf("$%.4f/h each", node), w)
      line(sprintf("%d public IPv4 addresses", n), sprintf("$%.3f/h each", ip), i)
      line(sprintf("%d GB EBS gp3", gb), sprintf("$%.2f/GB-month", ebs), e)
      printf "  %-26s %-16s $%.2f/day (about $%.0f/month)\n", "total", "", c + w + i + e, (c + w + i + e) * hpm / 24
      printf "  not included: data transfer out, load balancers (none are created), T3 CPU credits above baseline\n"
    }'
}

eksctl_bin() {
  if command -v eksctl >/dev/null; then command -v eksctl; else "$SCRIPT_DIR/../tools/build.sh" eksctl; fi
}

main() {
  local action=${1:-}
  case $action in
    create | delete | kubeconfig | cost) ;;
    *) echo "usage: CONFIRM=yes $0 create|delete|kubeconfig, or $0 cost" >&2; exit 2 ;;
  esac
  cost
  [[ $action == cost ]] && return 0
  if [[ "${CONFIRM:-}" != yes ]]; then
    echo "refusing to $action the cluster without confirmation: run it again with CONFIRM=yes" >&2
    exit 3
  fi
  local eksctl
  eksctl=$(eksctl_bin)
  case $action in
    create) "$eksctl" create cluster -f "$CONFIG" ;;
    delete) "$eksctl" delete cluster -f "$CONFIG" --wait ;;
    kubeconfig) "$eksctl" utils write-kubeconfig -f "$CONFIG" ;;
  esac
}

main "$@"
