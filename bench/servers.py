"""The processes a benchmark run measures: the service, the bare references, a peer.

A :class:`Server` is a process tree (uvicorn's supervisor and its workers, gunicorn's
arbiter and its worker): its CPU is the sum over the tree, its peak RSS the largest of any
one process (the targets are per worker).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.postgres_server import free_port
from tests.processes import stop

BENCH = Path(__file__).resolve().parent
SECRET_KEY = "bench-secret-key-" + "b" * 32
PUBLIC_URL = "http://localhost:8000"


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        tree.setdefault(int(stat[1]), []).append(int(entry.name))
    return tree


@dataclass(frozen=True)
class Server:
    port: int
    pid: int

    def pids(self) -> list[int]:
        """The process and its descendants, now."""
        tree, found, todo = _children(), [], [self.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(tree.get(pid, []))
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU time the process tree has used so far."""
        total = 0.0
        for pid in self.pids():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            total += int(stat[11]) + int(stat[12])
        return total / os.sysconf("SC_CLK_TCK")

    def memory_mb(self) -> dict[str, float]:
        """Current (VmRSS) and peak (VmHWM) resident memory of the largest process."""
        rss = peak = 0.0
        for pid in self.pids():
            fields = {}
            try:
                lines = Path(f"/proc/{pid}/status").read_text().splitlines()
            except OSError:
                continue
            for line in lines:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    fields[name] = int(value.split()[0]) / 1024
            rss, peak = max(rss, fields.get("VmRSS", 0)), max(peak, fields.get("VmHWM", 0))
        return {"rss_mb": round(rss, 1), "peak_rss_mb": round(peak, 1)}

    def reset_peak(self) -> None:
        """Make VmHWM start again from the current RSS (Linux: clear_refs 5)."""
        for pid in self.pids():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                pass  # then the peak is the process's lifetime peak


@contextmanager
def server(
    cmd: list[str], env: dict[str, str], log: Path, port: int, *, health: str = "/healthz"
) -> Iterator[Server]:
    with log.open("ab") as out:
        process = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[:3]} did not start:\n" + log.read_text()[-3000:])
            try:
                if httpx.get(f"http://127.0.0.1:{port}{health}", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield Server(port, process.pid)
    finally:
        stop(process, timeout=30)


def service(
    url: str,
    workdir: Path,
    server_env: dict[str, str],
    log: str,
    *,
    workers: int = 1,
    extra: dict[str, str] | None = None,
) -> Any:
    """``ankra-auth serve --workers N`` as an operator runs it (JSON access log, metrics)."""
    port = free_port()
    env = {**os.environ, **server_env, "ANKRA_DATABASE_URL": url}
    # The public URL the benchmark's assertions are signed for (the service's default
    # would follow the port it serves on).
    env |= {"ANKRA_SECRET_KEY": SECRET_KEY, "ANKRA_PUBLIC_URL": PUBLIC_URL, **(extra or {})}
    cmd = [sys.executable, "-m", "ankra_auth", "serve", "--port", str(port)]
    cmd += ["--workers", str(workers)]
    return server(cmd, env, workdir / log, port)


def bare_server(workdir: Path, server_env: dict[str, str]) -> Any:
    """bench/bare_app.py: both references (async and sync routes), one uvicorn worker."""
    port = free_port()
    env = {**os.environ, **server_env}
    env["PYTHONPATH"] = os.pathsep.join([str(BENCH), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, str(BENCH / "bare_app.py"), "--port", str(port)]
    return server(cmd, env, workdir / "bare.log", port)


@contextmanager
def pgbouncer(server_port: int) -> Iterator[Any]:
    """PgBouncer in transaction mode in front of the run's PostgreSQL (the test suite's
    fixture, tests/pgbouncer.py); yields it (``.url(database)``)."""
    from tests.pgbouncer import PgBouncer  # type: ignore[import-not-found,unused-ignore]

    bouncer = PgBouncer(server_port)
    bouncer.start()
    try:
        yield bouncer
    finally:
        bouncer.stop()
