#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine (as root), then runs the whole suite
# in .venv, then its PostgreSQL tests again through PgBouncer in transaction pooling mode.
# Extra arguments go to pytest (both passes), e.g. `scripts/test.sh -k totp`;
# ANKRA_TEST_PGBOUNCER_PASS=0 leaves the second pass out.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# The pages are tested in Firefox and WebKit too (tests/browser/drivers).
command -v firefox-esr >/dev/null 2>&1 || missing+=(firefox-esr)
command -v WebKitWebDriver >/dev/null 2>&1 || missing+=(webkit2gtk-driver)
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
dpkg -s python3-venv >/dev/null 2>&1 || missing+=(python3-venv)  # Debian's python3 -m venv
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)  # the SSO tests' OpenID provider, the TypeScript clients
# tests/faults puts the deploy's nginx.conf in front of two instances.
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)  # bench/run.py's load generator
# The PostgreSQL tests run a second time through it (tests/pgbouncer.py).
[ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

source scripts/venv.sh
ensure_venv test
# The real OpenID provider the single sign-on tests run (tests/oidc_provider, Node 20).
[ -d tests/oidc_provider/node_modules ] || (cd tests/oidc_provider && npm ci --no-audit --no-fund)
# The strict TypeScript clients generated from openapi/openapi.json (tests/ts_client).
[ -d tests/ts_client/node_modules ] || (cd tests/ts_client && npm ci --no-audit --no-fund)
# axe-core, pinned, for the browser tests' accessibility checks (tests/browser/axe.py).
[ -d tests/axe/node_modules ] || (cd tests/axe && npm ci --no-audit --no-fund)
python -m pytest "$@"
if [ "${ANKRA_TEST_PGBOUNCER_PASS:-1}" != 0 ]; then
  # Every test that runs on PostgreSQL (marker set by tests/conftest.py), through PgBouncer.
  status=0
  ANKRA_TEST_THROUGH_PGBOUNCER=1 python -m pytest "$@" -m "postgresql and not browser" || status=$?
  # 5: the arguments selected no PostgreSQL test (e.g. one SQLite-only file).
  if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then exit "$status"; fi
fi
