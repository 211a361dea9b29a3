"""nginx from Debian in front of test instances, configured by deploy/nginx.conf itself.

The deploy file's upstream (Docker's ``auth:8000``) becomes one line per instance and its
``listen`` a 127.0.0.1 port; everything else (retry on connection failure only, keepalive,
``max_fails``) is the production file. nginx runs in the foreground with its own prefix,
pid file and logs, and is stopped by its PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.postgres_server import free_port

DEPLOY_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
UPSTREAM_LINE = "    server auth:8000 max_fails=1 fail_timeout=5s;\n"
LISTEN_LINE = "    listen 8000;\n"


def render(*, upstream_ports: list[int], port: int) -> str:
    deployed = DEPLOY_CONF.read_text()
    assert UPSTREAM_LINE in deployed and LISTEN_LINE in deployed, "deploy/nginx.conf changed"
    servers = "".join(UPSTREAM_LINE.replace("auth:8000", f"127.0.0.1:{p}") for p in upstream_ports)
    return deployed.replace(UPSTREAM_LINE, servers).replace(
        LISTEN_LINE, f"    listen 127.0.0.1:{port};\n"
    )


@contextmanager
def nginx_in_front(prefix: Path, upstream_ports: list[int]) -> Iterator[str]:
    """Yields the proxy's base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = render(upstream_ports=upstream_ports, port=port)
    with nginx_serving(prefix, site, probe=f"{base}/healthz"):
        yield base


@contextmanager
def nginx_serving(prefix: Path, site: str, *, probe: str) -> Iterator[None]:
    """nginx with ``site`` (server blocks, as in a sites-enabled file) in its ``http``
    block, until ``probe`` answers; stopped by its PID afterwards."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise RuntimeError("nginx not found: apt-get install nginx (scripts/test.sh does)")
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "ankra.conf").write_text(site)
    # As root the workers would drop to "nobody", who cannot enter pytest's private tmp.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp_paths = "".join(
        f"    {kind}_temp_path {prefix / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (prefix / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'} info;\n"
        "events { worker_connections 512; }\n"
        f"http {{\n    access_log {prefix / 'access.log'};\n{temp_paths}"
        f"    include {prefix / 'ankra.conf'};\n}}\n"
    )
    process = subprocess.Popen(
        [
            binary,
            "-p",
            str(prefix),
            "-c",
            str(prefix / "nginx.conf"),
            "-e",
            str(prefix / "error.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=(prefix / "stderr.log").open("wb"),
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise RuntimeError("nginx exited: " + (prefix / "stderr.log").read_text())
            try:
                httpx.get(probe, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield
    finally:
        process.send_signal(signal.SIGQUIT)  # graceful: the master stops its workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
