"""``ankra-auth serve`` processes a fault test can kill, stop or start before its database."""

from __future__ import annotations

import signal
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from ankra_auth.security import totp
from tests.helpers import PASSWORD
from tests.live_server import spawn_service, wait_ready
from tests.postgres_server import free_port


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        wait_ready(self.base, self.process, self.log_path, timeout)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> int:
        """Signal the process by its PID and reap it; returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_service(
    database_url: str,
    *,
    log_path: Path,
    port: int | None = None,
    extra_env: Mapping[str, str] | None = None,
    ready: bool = True,
) -> Service:
    port = port or free_port()
    process = spawn_service(database_url, port=port, log_path=log_path, extra_env=extra_env)
    service = Service(process, port, log_path)
    if ready:
        try:
            service.wait_ready()
        except BaseException:
            service.stop(signal.SIGKILL)
            raise
    return service


@contextmanager
def running(*services: Service) -> Iterator[None]:
    """Every service is stopped (by PID) when the block ends, however it ends."""
    try:
        yield
    finally:
        for service in services:
            service.stop()


def code(secret: str, offset_steps: int = 0) -> str:
    return totp.code_at_step(secret=secret, step=totp.time_step(datetime.now(UTC)) + offset_steps)


def new_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def sign_up(base: str, email: str) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/users", json={"email": email, "password": PASSWORD}, timeout=30
    )
