#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine (as root), then runs the whole suite.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k totp`.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python3 -m pip install -q --disable-pip-version-check -e '.[test]'
# The real OpenID provider the single sign-on tests run (tests/oidc_provider, Node 20).
command -v npm >/dev/null 2>&1 || { echo "npm is needed for the SSO tests (Debian: nodejs npm)" >&2; exit 1; }
[ -d tests/oidc_provider/node_modules ] || (cd tests/oidc_provider && npm ci --no-audit --no-fund)
exec python3 -m pytest "$@"
