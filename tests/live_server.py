"""Real service processes for tests: ``ankra-auth serve`` as a subprocess, or uvicorn in a thread."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from tests.postgres_server import free_port
from tests.processes import stop

SECRET = "live-test-secret-" + "s" * 32
# The database behind each running service's base URL (for tests that read what it wrote,
# such as the verification link a mail carries).
DATABASES: dict[str, str] = {}


def spawn_service(
    database_url: str,
    *,
    port: int,
    log_path: Path,
    workers: int = 1,
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """``ankra-auth serve`` on ``port`` with the tests' secret key, its output in ``log_path``."""
    env = {
        **os.environ,
        "ANKRA_DATABASE_URL": database_url,
        "ANKRA_SECRET_KEY": SECRET,
        "ANKRA_PUBLIC_URL": f"http://localhost:{port}",
        **(extra_env or {}),
    }
    command = [sys.executable, "-m", "ankra_auth", "serve", "--port", str(port)]
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [*command, "--workers", str(workers)], env=env, stdout=log, stderr=subprocess.STDOUT
        )


@contextmanager
def service_process(
    database_url: str,
    *,
    log_path: Path,
    workers: int = 1,
    extra_env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> Iterator[str]:
    """Start ``ankra-auth serve`` on a free port (or ``port``: an SSO provider's client may
    need the URL first); yields its base URL (``http://localhost:PORT``)."""
    port = port or free_port()
    process = spawn_service(
        database_url, port=port, log_path=log_path, workers=workers, extra_env=extra_env
    )
    base = f"http://localhost:{port}"
    DATABASES[base] = database_url
    try:
        wait_ready(base, process, log_path)
        yield base
    finally:
        DATABASES.pop(base, None)
        stop(process)


def wait_ready(
    base: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 60
) -> None:
    """Until ``/readyz`` answers 200; fails with the service's log if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"service exited ({process.returncode}):\n" + log_path.read_text(errors="replace")
            )
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("service did not become ready:\n" + log_path.read_text(errors="replace"))


@contextmanager
def threaded_server(app: FastAPI, port: int | None = None) -> Iterator[str]:
    """Serve an in-process app (its clock stays injectable) on 127.0.0.1; yields ``http://localhost:PORT``."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("in-process server did not start")
        time.sleep(0.02)
    try:
        yield f"http://localhost:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
