#!/usr/bin/env bash
# `make dev`: sets up everything on a fresh machine, then starts Backstage with the chaos
# plugins (SQLite under .data/, guest sign-in, demo catalog): the app on
# http://localhost:3000 and the backend on http://localhost:7007.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh
mkdir -p .data/sqlite

echo "[dev] starting Backstage: app http://localhost:3000, backend http://localhost:7007"
exec yarn start
