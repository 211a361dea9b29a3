"""``ankra-auth serve`` as a newcomer starts it: the public URL follows ``--port``, the
start-up line says where to open the pages, and logs are text on a terminal, JSON elsewhere."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pytest

from ankra_auth.config import Settings
from ankra_auth.observability.logging import json_lines_for
from tests.live_server import SECRET, wait_ready
from tests.postgres_server import free_port
from tests.processes import stop


def serve_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANKRA_")}
    return {
        **env,
        "ANKRA_DATABASE_URL": f"sqlite:///{tmp_path / 'ankra.db'}",
        "ANKRA_SECRET_KEY": SECRET,
        **extra,
    }


@contextmanager
def serving(
    tmp_path: Path, port: int, *args: str, env: dict[str, str], stdout: int | IO[bytes]
) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "ankra_auth", "serve", "--port", str(port), *args]
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=stdout, stderr=subprocess.STDOUT
    )
    try:
        yield process
    finally:
        stop(process)


def sign_in(base: str, origin: str | None) -> httpx.Response:
    """A page's sign-in call, on a connection of its own (so workers take turns)."""
    headers = {"Origin": origin} if origin else {}
    body = {"email": "new@example.com", "password": "long enough password"}
    return httpx.post(f"{base}/api/v1/auth/login", json=body, headers=headers, timeout=30)


def test_the_public_url_follows_the_port_in_every_worker(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://localhost:{port}"
    log_path = tmp_path / "serve.log"
    with (
        log_path.open("wb") as log,
        serving(tmp_path, port, "--workers", "2", env=serve_env(tmp_path), stdout=log) as process,
    ):
        wait_ready(base, process, log_path)
        body = {"email": "new@example.com", "password": "long enough password"}
        assert httpx.post(f"{base}/api/v1/users", json=body, timeout=30).status_code == 201
        for _ in range(8):  # new connections: both workers answer some
            page = sign_in(base, base)
            assert page.status_code == 200, page.text
            assert "ankra_session=" in page.headers.get("set-cookie", "")
            stale = sign_in(base, "http://localhost:8000")  # the old fixed default
            assert stale.status_code == 403 and stale.json()["code"] == "origin_not_allowed"
            assert stale.json()["allowed_origins"] == [base]
            assert f"Open {base}/login" in stale.json()["detail"]
            assert sign_in(base, None).status_code == 200  # the CLI sends no Origin
        refused = httpx.post(
            f"{base}/api/v1/auth/cli/handoff/TOKENxSECRETx123/totp",
            json={"code": "123456"},
            headers={"Origin": f"http://127.0.0.1:{port}"},
            timeout=30,
        )
        assert refused.status_code == 403
    lines = log_path.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # JSON lines: the output is a file
    assert sum(r["message"].startswith("Started server process") for r in records) == 2
    [started] = [r for r in records if r["message"].startswith("Open ")]
    assert started["message"].startswith(f"Open {base}/login ")
    # Nothing points at the bind address (but the refusal below, which names who called).
    assert not [
        r for r in records if "http://127.0.0.1" in r["message"] and "refused" not in r["message"]
    ]
    # The refused call is logged under its route template, never with the token.
    access = [r for r in records if r["logger"] == "ankra_auth.access" and r["status"] == 403]
    assert "/api/v1/auth/cli/handoff/{token}/totp" in {r["path"] for r in access}
    assert "TOKENxSECRETx123" not in log_path.read_text()
    assert any(r["message"].startswith("sign-in refused: origin") for r in records)


def test_on_a_terminal_logs_are_text_and_an_explicit_public_url_wins(tmp_path: Path) -> None:
    port = free_port()
    public = "http://auth.localhost:9999"
    controller, terminal = pty.openpty()
    output = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed with the process
                return
            if not chunk:
                return
            output.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    env = serve_env(tmp_path, ANKRA_PUBLIC_URL=public)
    try:
        with serving(tmp_path, port, env=env, stdout=terminal) as process:
            log_path = tmp_path / "none.log"
            log_path.write_text("(the output went to a terminal)")
            wait_ready(f"http://localhost:{port}", process, log_path)
            own = sign_in(f"http://localhost:{port}", f"http://localhost:{port}")
            assert own.status_code == 403 and own.json()["allowed_origins"] == [public]
            assert sign_in(f"http://localhost:{port}", public).status_code == 401
    finally:
        os.close(terminal)
        reader.join(timeout=10)
        os.close(controller)
    text = output.decode(errors="replace")
    assert f"Open {public}/login (serving on 127.0.0.1 port {port}" in text
    assert "http://127.0.0.1" not in text
    assert '{"time"' not in text  # not JSON: a person reads this
    assert " INFO uvicorn.error [-] Open " in text


def test_serve_on_a_wider_address_without_a_public_url_says_to_set_one(tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "serve.log"
    with (
        log_path.open("wb") as log,
        serving(tmp_path, port, "--host", "0.0.0.0", env=serve_env(tmp_path), stdout=log) as p,  # noqa: S104
    ):
        wait_ready(f"http://localhost:{port}", p, log_path)
    messages = [json.loads(line)["message"] for line in log_path.read_text().splitlines()]
    assert any("ANKRA_PUBLIC_URL is not set" in m for m in messages)
    assert any(m.startswith(f"Open http://localhost:{port}/login") for m in messages)


# --- the log format choice -------------------------------------------------------------------


@pytest.mark.parametrize("setting", [True, False])
def test_an_explicit_log_setting_wins(setting: bool, tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        with os.fdopen(os.dup(terminal), "w") as on_terminal, (tmp_path / "f").open("w") as file:
            assert json_lines_for(setting, on_terminal) is setting
            assert json_lines_for(setting, file) is setting
    finally:
        os.close(terminal)
        os.close(controller)


def test_unset_logs_json_to_machines_and_text_to_terminals(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        with os.fdopen(os.dup(terminal), "w") as on_terminal, (tmp_path / "f").open("w") as file:
            assert json_lines_for(None, on_terminal) is False
            assert json_lines_for(None, file) is True
            read_end, write_end = os.pipe()
            os.close(read_end)
            with os.fdopen(write_end, "w") as pipe:
                assert json_lines_for(None, pipe) is True
            closed = (tmp_path / "g").open("w")
            closed.close()
            assert json_lines_for(None, closed) is True  # isatty on a closed file: JSON
    finally:
        os.close(terminal)
        os.close(controller)


def test_the_setting_is_unset_unless_ankra_log_json_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANKRA_LOG_JSON", raising=False)
    assert Settings().log_json is None
    monkeypatch.setenv("ANKRA_LOG_JSON", "false")
    assert Settings().log_json is False
    monkeypatch.setenv("ANKRA_LOG_JSON", "true")
    assert Settings().log_json is True
