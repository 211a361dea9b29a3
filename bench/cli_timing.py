"""The CLI's figure: ``ankra profile auth status`` with a saved session, start to exit."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
from options import Options
from paths import TOTP, Workloads
from servers import Server


def status_seconds(srv: Server, work: Workloads, opts: Options) -> dict[str, list[float]]:
    """Wall time of ``ankra profile auth status``: process start, imports and the round trip,
    with the output piped and on a terminal (where rich is loaded for the colours)."""
    jobs = work.totp([0])
    body = json.loads(jobs.read_text().split("\t", 2)[2])
    r = httpx.post(f"http://127.0.0.1:{srv.port}{TOTP}", json=body)
    r.raise_for_status()
    config = opts.workdir / "cli-config"
    config.mkdir(exist_ok=True)
    saved = {"server": f"http://127.0.0.1:{srv.port}", "access_token": r.json()["access_token"]}
    (config / "credentials.json").write_text(json.dumps(saved))
    (config / "credentials.json").chmod(0o600)
    env = {**os.environ, "ANKRA_CONFIG_DIR": str(config)}
    ankra = ankra_command()
    times: dict[str, list[float]] = {"piped": [], "terminal": []}
    for _ in range(opts.cli_runs):
        for mode, run_once in (("piped", _status_piped), ("terminal", _status_on_a_terminal)):
            began = time.perf_counter()
            run_once([ankra, "profile", "auth", "status"], env)
            times[mode].append(time.perf_counter() - began)
    return times


def _status_piped(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"{cmd} failed: {done.stdout!r}{done.stderr!r}")


def _status_on_a_terminal(cmd: list[str], env: dict[str, str]) -> None:
    """As a person runs it: stdout on a (pseudo) terminal, so rich draws the colours."""
    main, side = pty.openpty()
    try:
        done = subprocess.run(cmd, env=env, stdout=side, stderr=side, stdin=subprocess.DEVNULL)
        os.close(side)
        side = -1
        output = b""
        while chunk := _read_pty(main):
            output += chunk
    finally:
        os.close(main)
        if side != -1:
            os.close(side)
    if done.returncode != 0:
        raise RuntimeError(f"{cmd} failed on a terminal: {output!r}")


def _read_pty(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the other side is closed and everything was read
        return b""


def ankra_command() -> str:
    """The ``ankra`` installed beside the Python running the benchmark.

    Not the first one on PATH: that may be a pyenv shim (a bash script that runs
    ``pyenv exec``: 0.1 to 0.3 s before any Python starts) or another environment's copy.
    """
    beside = Path(sys.executable).with_name("ankra")
    return str(beside) if beside.exists() else shutil.which("ankra") or "ankra"


def python_startup_seconds(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - began)
    return times
