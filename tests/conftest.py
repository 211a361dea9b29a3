"""Real databases for every test: SQLite files and a PostgreSQL server started here."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from ankra_auth import migrate
from ankra_auth.app import create_app
from ankra_auth.clock import FrozenClock
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from ankra_auth.models import Base
from tests.pgbouncer import PgBouncer, PostgresBehindPgBouncer, through_pgbouncer
from tests.postgres_server import PostgresServer

pytest_plugins = ["tests.chromium"]

# A fixed instant in the middle of a TOTP step.
T0 = datetime(2026, 11, 27, 12, 0, 15, tzinfo=UTC)
PUBLIC_URL = "http://localhost:8000"


def pytest_configure(config: pytest.Config) -> None:  # noqa: ARG001
    if through_pgbouncer():
        # What an operator sets behind a transaction pooler: read by every Settings made
        # in this process and by every service process it starts.
        os.environ["ANKRA_DB_TRANSACTION_POOLER"] = "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that runs on PostgreSQL ``postgresql`` (scripts/test.sh runs them
    again through PgBouncer): those that use the session's server, and the PostgreSQL
    case of a test parametrized over databases."""
    for item in items:
        params = getattr(item, "callspec", None)
        values = params.params.values() if params is not None else ()
        uses_server = "postgres" in getattr(item, "fixturenames", ())
        if uses_server or any(value == "postgresql" for value in values):
            item.add_marker(pytest.mark.postgresql)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer | str]:
    """``ANKRA_TEST_POSTGRES_URL`` if given, else a server started from the Debian binaries
    (with PgBouncer in front of it when ``ANKRA_TEST_THROUGH_PGBOUNCER=1``)."""
    given = os.environ.get("ANKRA_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    server = PostgresBehindPgBouncer() if through_pgbouncer() else PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pgbouncer(postgres: PostgresServer | str) -> Iterator[PgBouncer]:
    """PgBouncer in transaction pooling mode in front of the session's server."""
    if isinstance(postgres, str):
        pytest.skip("needs the tests' own server to put PgBouncer in front of")
    if isinstance(postgres, PostgresBehindPgBouncer):
        yield postgres.bouncer
        return
    bouncer = PgBouncer(postgres.port)
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.stop()


def new_postgres_database(postgres: PostgresServer | str) -> str:
    """A fresh, migrated database on the test server."""
    if isinstance(postgres, str):
        return postgres
    return postgres.create_database("t_" + uuid.uuid4().hex[:12])


@pytest.fixture(scope="session")
def pg_template_url(postgres: PostgresServer | str) -> str:
    url = new_postgres_database(postgres)
    migrate.upgrade(make_engine(Settings(database_url=url, secret_key="x")))
    return url


def _truncate_all(url: str) -> None:
    engine = make_engine(Settings(database_url=url, secret_key="x"))
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test runs on a fresh SQLite file and on the shared PostgreSQL database (emptied)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ankra.db'}"
        migrate.upgrade(make_engine(Settings(database_url=url, secret_key="x")))
        return url
    url: str = request.getfixturevalue("pg_template_url")
    _truncate_all(url)
    return url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key-" + "k" * 32,
        public_url=PUBLIC_URL,
        password_hash_concurrency=4,
    )


@pytest.fixture
def app(settings: Settings, clock: FrozenClock):  # type: ignore[no-untyped-def]
    application = create_app(settings, clock)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url=PUBLIC_URL) as test_client:
        yield test_client
