"""Serving before the database is migrated: the schema gate, and the retrying migration."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ankra_auth import migrate, startup
from ankra_auth.app import create_app
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from tests.postgres_server import free_port


def test_routes_answer_503_until_the_schema_is_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = create_app(Settings(database_url=url, secret_key="k" * 32))
    with TestClient(app, base_url="http://localhost:8000") as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        body = {"email": "early@example.com", "password": "correct horse battery"}
        r = client.post("/api/v1/users", json=body)
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "service_unavailable" and r.headers["retry-after"] == "1"
        assert r.headers["content-type"].startswith("application/problem+json")

        migrate.upgrade(app.state.engine)
        assert client.get("/readyz").status_code == 200
        assert client.post("/api/v1/users", json=body).status_code == 201
    app.state.engine.dispose()


class _Stop(Exception):
    pass


def test_an_unreachable_database_is_retried_with_growing_delays(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Nothing listens on this port: every attempt is refused at once.
    url = f"postgresql+psycopg://ankra@127.0.0.1:{free_port()}/ankra"
    engine = make_engine(Settings(database_url=url, secret_key="k"))
    delays: list[float] = []

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 5:
            raise _Stop

    with caplog.at_level(logging.WARNING, logger="ankra_auth.startup"), pytest.raises(_Stop):
        startup.migrate_when_reachable(engine, sleep=sleep)
    engine.dispose()
    assert delays == [0.5, 1.0, 2.0, 4.0, 5.0]
    assert len(caplog.records) == 5
    assert "database unreachable at start (OperationalError: " in caplog.records[0].getMessage()
    assert "retrying in 0.5 s (attempt 1)" in caplog.records[0].getMessage()
