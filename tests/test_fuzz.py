"""Schema-driven fuzzing: malformed and valid bodies at every operation, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from ankra_auth import migrate
from ankra_auth.app import create_app
from ankra_auth.clock import FrozenClock
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from tests.conftest import PUBLIC_URL, T0
from tests.helpers import enroll_totp, sign_up


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    config = Settings(database_url=url, secret_key="fuzz-secret-" + "f" * 32, public_url=PUBLIC_URL)
    migrate.upgrade(make_engine(config))
    clock = FrozenClock(T0)
    app = create_app(config, clock)
    with TestClient(app, base_url=PUBLIC_URL) as client:
        account = sign_up(client, "fuzz@example.com")
        enroll_totp(client, account, clock)
    yield app, account.token
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzz_app: tuple[FastAPI, str]) -> schemathesis.BaseSchema:
    app, _ = fuzz_app
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case, fuzz_app: tuple[FastAPI, str]) -> None:
    _, token = fuzz_app
    response = case.call(headers={"Authorization": f"Bearer {token}", "Origin": PUBLIC_URL})
    assert response.status_code < 500, (case.method, case.path, case.body, response.text)
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.startswith("application/problem+json"), (case.path, response.text)
        assert "code" in response.json()
