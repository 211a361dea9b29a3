#!/usr/bin/env bash
# Mutation testing of the security core (security/ and accounts/backoff.py) against the fast
# unit tests: mutmut's mutants ([tool.mutmut] in pyproject.toml), then the hand-written ones
# mutmut cannot make (scripts/hand_mutants.py). Exits non-zero when a mutant survives that
# scripts/mutation_allowlist.txt does not list as equivalent.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv test

# mutmut works in ./mutants (git-ignored). Start from nothing, so no verdict is reused from
# older code or tests, and leave nothing behind.
log=$(mktemp)
trap 'rm -rf mutants "$log"' EXIT
rm -rf mutants
started=$SECONDS
if ! mutmut run --max-children "$(nproc)" >"$log" 2>&1; then
  tr '\r' '\n' <"$log" | tail -n 40
  echo "mutmut run failed (above: its last lines)" >&2
  exit 1
fi
echo "mutmut run: $((SECONDS - started)) s"
status=0
python scripts/mutation_gate.py || status=1
python scripts/hand_mutants.py || status=1
exit "$status"
