# Sourced by the other scripts: a virtual environment in .venv with the project installed.
# Debian and Ubuntu's own python3 refuse `pip install` outside one (PEP 668); this needs only
# python3 and python3-venv. ANKRA_PYTHON picks the interpreter, ANKRA_VENV the directory.

ensure_venv() {  # ensure_venv [EXTRAS]
  local extras="${1:-}" python="${ANKRA_PYTHON:-python3}"
  VENV="${ANKRA_VENV:-$PWD/.venv}"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "Creating a virtual environment in ${VENV#"$PWD"/}..." >&2
    if ! "$python" -m venv "$VENV"; then
      echo "could not create a virtual environment: install python3-venv (apt-get install python3-venv)" >&2
      return 1
    fi
  fi
  # Reinstall only when pyproject.toml changed since the last install of these extras.
  local stamp="$VENV/.installed${extras:+-$extras}"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    # pip -q is silent for the minute this takes: say what is happening, and when it is done.
    local what="Ankra Auth${extras:+ and its $extras extras}" where="${VENV#"$PWD"/}"
    if [ -f "$stamp" ]; then
      echo "pyproject.toml changed: updating $what in $where..." >&2
    else
      echo "Installing $what into $where (first run, about a minute)..." >&2
    fi
    PIP_ROOT_USER_ACTION=ignore "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
      -e ".${extras:+[$extras]}"
    touch "$stamp"
    echo "Installed." >&2
  fi
  export PATH="$VENV/bin:$PATH"
}
