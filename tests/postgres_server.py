"""A throwaway PostgreSQL server from the Debian binaries, on 127.0.0.1 and a free port."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError("PostgreSQL server binaries not found: apt-get install postgresql")


# Fast and unsafe on a crash: a throwaway server's data does not outlive the tests.
THROWAWAY = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


class PostgresServer:
    """initdb + postgres in a temporary directory; stopped by :meth:`stop`.

    ``options`` override :data:`THROWAWAY` (``-c`` settings on the command line, so a base
    backup of this server does not carry them).
    """

    def __init__(self, options: Mapping[str, str] | None = None) -> None:
        self.bin = _bin_dir()
        self.dir = Path(tempfile.mkdtemp(prefix="ankra-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.options = {**THROWAWAY, **(options or {})}
        self.process: subprocess.Popen[bytes] | None = None
        # After restart() the postmaster is pg_ctl's child, not ours: its PID, from postmaster.pid.
        self.adopted_pid: int | None = None
        # PostgreSQL refuses to run as root: run it as the postgres user then.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True)

    def tool(self, name: str, *args: str) -> None:
        """Run one of the server's binaries (``pg_ctl``, ``pg_basebackup``) as its owner."""
        self._run(str(self.bin / name), *args)

    def start(self) -> str:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "ankra",
            "--auth=trust",
            "-E",
            "UTF8",
        )
        self.launch()
        return self.url("postgres")

    def launch(self) -> None:
        """Start postgres on :attr:`data` (made by initdb or a base backup) and wait until
        it accepts connections."""
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.dir),
            **self.options,
        }
        self.process = subprocess.Popen(
            [
                *self._as,
                str(self.bin / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                *(arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=(self.dir / "server.log").open("ab"),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not start: " + (self.dir / "server.log").read_text())

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres", driver=False), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, database: str, *, driver: bool = True) -> str:
        scheme = "postgresql+psycopg" if driver else "postgresql"
        return f"{scheme}://ankra@127.0.0.1:{self.port}/{database}"

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: clients are disconnected, the server starts again with the
        same options (postmaster.opts) and answers before this returns."""
        data = self.data
        self._run(
            str(self.bin / "pg_ctl"),
            "restart",
            "-m",
            "fast",
            "-w",
            "-t",
            "30",
            "-D",
            str(data),
            "-l",
            str(self.dir / "restarted.log"),
        )
        if self.process is not None:
            self.process.wait(timeout=30)  # the first postmaster has exited: reap it
            self.process = None
        self.adopted_pid = int((data / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
        if self.adopted_pid is not None:
            # A fast shutdown (SIGINT), then wait for the postmaster to remove its pid file.
            try:
                os.kill(self.adopted_pid, signal.SIGINT)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 30
            while (self.data / "postmaster.pid").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.adopted_pid = None
        shutil.rmtree(self.dir, ignore_errors=True)
