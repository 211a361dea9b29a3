#!/usr/bin/env bash
# What a newcomer does on a stock Debian: a fresh clone, Debian's own /usr/bin/python3 (which
# refuses `pip install` outside a virtual environment), and the README's two commands.
# Serves on SQLite, waits for /readyz, then runs a small part of the suite the same way.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${ANKRA_PYTHON:-/usr/bin/python3}"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

git clone -q "$repo" "$work/ankra"
cd "$work/ankra"
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

ANKRA_PYTHON="$python" bash scripts/serve.sh --port "$port" >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do
  if "$python" -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:$port/readyz', timeout=2)" 2>/dev/null; then
    echo "fresh clone: scripts/serve.sh with $python answers /readyz on port $port"
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "fresh clone: scripts/serve.sh exited:" >&2
    cat "$work/serve.log" >&2
    exit 1
  fi
  sleep 0.5
done
"$python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/readyz', timeout=2)"
test -f ankra.db && test "$(stat -c %a secret.key)" = 600
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

ANKRA_PYTHON="$python" bash scripts/test.sh -q -p no:cacheprovider tests/test_smoke.py
