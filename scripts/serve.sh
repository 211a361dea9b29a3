#!/usr/bin/env bash
# Serves the API and pages (SQLite ./ankra.db by default), installing into .venv first.
# Extra arguments go to `ankra-auth serve`, e.g. `scripts/serve.sh --port 8080`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv
exec ankra-auth serve "$@"
