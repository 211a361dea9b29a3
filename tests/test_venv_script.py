"""scripts/venv.sh (sourced by serve.sh and test.sh) says what it does while it installs,
instead of a silent minute. Real bash; a stand-in interpreter makes pip instant."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# `python -m venv DIR` makes DIR/bin/python, which then answers `-m pip install ...` at once.
FAKE_PYTHON = """#!/bin/sh
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin"
  printf '#!/bin/sh\\nexit 0\\n' > "$3/bin/python"
  chmod +x "$3/bin/python"
fi
"""


def ensure_venv(folder: Path, *extras: str) -> str:
    """Runs ``ensure_venv`` in ``folder`` as the scripts do; returns what it told the person."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANKRA_")}
    env["ANKRA_PYTHON"] = str(folder / "python3")
    result = subprocess.run(
        ["bash", "-c", f'source "{REPO}/scripts/venv.sh" && ensure_venv {" ".join(extras)}'],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == ""  # messages go to stderr: stdout stays the command's own
    return result.stderr


def test_the_first_run_says_it_installs_and_later_runs_are_quiet(tmp_path: Path) -> None:
    (tmp_path / "python3").write_text(FAKE_PYTHON)
    (tmp_path / "python3").chmod(0o755)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")

    assert ensure_venv(tmp_path).splitlines() == [
        "Creating a virtual environment in .venv...",
        "Installing Ankra Auth into .venv (first run, about a minute)...",
        "Installed.",
    ]
    assert ensure_venv(tmp_path) == ""

    stamp = tmp_path / ".venv" / ".installed"
    os.utime(stamp, (0, 0))  # pyproject.toml is now newer than the last install
    assert ensure_venv(tmp_path).splitlines() == [
        "pyproject.toml changed: updating Ankra Auth in .venv...",
        "Installed.",
    ]
    assert ensure_venv(tmp_path, "test").splitlines() == [
        "Installing Ankra Auth and its test extras into .venv (first run, about a minute)...",
        "Installed.",
    ]
