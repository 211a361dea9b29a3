"""Revocation on a fleet: a session signed out on one instance is dead on the other at once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ankra_auth import migrate
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from tests.conftest import new_postgres_database
from tests.helpers import PASSWORD
from tests.live_server import service_process
from tests.postgres_server import PostgresServer

PUBLIC_URL = "http://localhost:8000"


@pytest.fixture(params=["sqlite", "postgresql"])
def two_instances(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        postgres: PostgresServer | str = request.getfixturevalue("postgres")
        url = new_postgres_database(postgres)
    migrate.upgrade(make_engine(Settings(database_url=url, secret_key="x")))
    env = {"ANKRA_PUBLIC_URL": PUBLIC_URL}
    with (
        service_process(url, log_path=tmp_path / "a.log", extra_env=env) as a,
        service_process(url, log_path=tmp_path / "b.log", extra_env=env) as b,
    ):
        yield a, b


def sign_in(base: str, email: str) -> str:
    r = httpx.post(f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def me(base: str, token: str) -> int:
    return httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_revoked_on_a_is_dead_on_b_at_once(two_instances: tuple[str, str]) -> None:
    a, b = two_instances
    email = f"fleet-{uuid.uuid4().hex[:8]}@example.com"
    r = httpx.post(f"{a}/api/v1/users", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    keeper, stolen, third = sign_in(a, email), sign_in(b, email), sign_in(b, email)
    assert me(b, stolen) == 200  # B has seen and used it

    sessions = httpx.get(
        f"{a}/api/v1/profile/sessions", headers={"Authorization": f"Bearer {stolen}"}
    ).json()
    stolen_id = next(s["id"] for s in sessions if s["current"])
    r = httpx.delete(
        f"{a}/api/v1/profile/sessions/{stolen_id}", headers={"Authorization": f"Bearer {keeper}"}
    )
    assert r.status_code == 204
    assert me(b, stolen) == 401 and me(a, stolen) == 401

    r = httpx.delete(f"{b}/api/v1/profile/sessions", headers={"Authorization": f"Bearer {keeper}"})
    assert r.status_code == 204
    assert me(a, third) == 401 and me(b, third) == 401
    assert me(a, keeper) == 200 and me(b, keeper) == 200
