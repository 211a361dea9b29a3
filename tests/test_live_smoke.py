from __future__ import annotations

from pathlib import Path

import httpx

from tests.live_server import service_process


def test_service_process_serves_and_migrates(database_url: str, tmp_path: Path) -> None:
    with service_process(database_url, log_path=tmp_path / "server.log") as base:
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        r = httpx.post(
            f"{base}/api/v1/users", json={"email": "a@example.com", "password": "x" * 10}
        )
        assert r.status_code == 201
