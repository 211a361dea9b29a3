"""The pool's idle ping: a connection the server dropped is replaced, not handed to a request."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url, text
from sqlalchemy.exc import OperationalError

from ankra_auth import db_async
from ankra_auth.app import create_app
from ankra_auth.clock import FrozenClock
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from tests.conftest import PUBLIC_URL
from tests.helpers import code_now, enroll_totp, run_on_a_loop, sign_up, start_login
from tests.pgbouncer import PostgresBehindPgBouncer
from tests.postgres_server import PostgresServer, free_port


def _backend_pid(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(url: str, pid: int) -> None:
    admin = make_engine(Settings(database_url=url, secret_key="x"))
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        conn.commit()
    admin.dispose()


Drop = Callable[[str, int], None]


@pytest.fixture
def terminate(postgres: PostgresServer | str) -> Drop:
    """Drop the pooled connection to server backend ``pid``. Behind PgBouncer the server
    ending it would not reach the service (the pooler keeps its client connection): the
    pooler drops its clients instead, which is what the service's pools then meet."""
    if isinstance(postgres, PostgresBehindPgBouncer):
        bouncer = postgres.bouncer
        return lambda url, _pid: bouncer.drop_clients(str(make_url(url).database))
    return _terminate


@pytest.fixture
def pg_url(postgres: PostgresServer | str) -> str:
    if isinstance(postgres, str):
        return postgres
    return postgres.create_database("pool_" + uuid.uuid4().hex[:12])


@pytest.mark.parametrize("idle_seconds", [1e-9, 0.0])  # ping when idle; ping always
def test_a_dropped_idle_connection_is_replaced(
    pg_url: str, idle_seconds: float, terminate: Drop
) -> None:
    settings = Settings(
        database_url=pg_url,
        secret_key="x",
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_ping_after_idle_seconds=idle_seconds,
    )
    engine = make_engine(settings)
    first = _backend_pid(engine)  # the pool now holds this one connection
    terminate(pg_url, first)
    # Without a ping this would raise (the pooled connection is dead).
    second = _backend_pid(engine)
    assert second != first
    engine.dispose()


def test_a_connection_used_moments_ago_is_not_pinged(pg_url: str, terminate: Drop) -> None:
    """The trade-off, shown: within the idle window a dropped connection fails one use
    (SQLAlchemy then discards it), and the next checkout gets a fresh one."""
    settings = Settings(
        database_url=pg_url,
        secret_key="x",
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_ping_after_idle_seconds=3600,
    )
    engine = make_engine(settings)
    first = _backend_pid(engine)
    terminate(pg_url, first)
    with pytest.raises(OperationalError):
        _backend_pid(engine)
    assert _backend_pid(engine) != first
    engine.dispose()


# The event loop's pool (db_async, the TOTP sign-in) follows the same rule.


async def _loop_backend_pid(pool: db_async.Pool) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
        assert row is not None
        return int(row[0])


def _loop_pool_settings(url: str, idle_seconds: float) -> Settings:
    return Settings(
        database_url=url,
        secret_key="x",
        db_pool_size=1,
        db_pool_ping_after_idle_seconds=idle_seconds,
    )


@pytest.mark.parametrize("idle_seconds", [1e-9, 0.0])  # ping when idle; ping always
def test_the_event_loops_pool_replaces_a_dropped_idle_connection(
    pg_url: str, idle_seconds: float, terminate: Drop
) -> None:
    async def scenario() -> tuple[int, int]:
        async with db_async.pool_for(_loop_pool_settings(pg_url, idle_seconds)) as pool:
            assert pool is not None
            first = await _loop_backend_pid(pool)
            terminate(pg_url, first)
            return first, await _loop_backend_pid(pool)  # would raise without the check

    first, second = run_on_a_loop(scenario())
    assert second != first


def test_the_event_loops_pool_does_not_ping_a_connection_used_moments_ago(
    pg_url: str, terminate: Drop
) -> None:
    async def scenario() -> tuple[int, int]:
        async with db_async.pool_for(_loop_pool_settings(pg_url, 3600)) as pool:
            assert pool is not None
            first = await _loop_backend_pid(pool)
            terminate(pg_url, first)
            with pytest.raises(psycopg.OperationalError):
                await _loop_backend_pid(pool)
            return first, await _loop_backend_pid(pool)

    first, second = run_on_a_loop(scenario())
    assert second != first


def test_an_exhausted_event_loop_pool_is_a_503_that_costs_the_sign_in_nothing(
    settings: Settings, clock: FrozenClock
) -> None:
    """Every connection of the event loop's pool busy past the pool timeout: the TOTP
    sign-in answers the retryable problem, and the same code works once one is free."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite has no event loop pool")
    small = settings.model_copy(update={"db_pool_size": 1, "db_pool_timeout_seconds": 0.3})
    app = create_app(small, clock)
    with TestClient(app, base_url=PUBLIC_URL) as client:
        account = sign_up(client)
        enroll_totp(client, account, clock)
        body = {"mfa_token": start_login(client, account)["mfa_token"]}
        body["code"] = code_now(account.totp_secret, clock)
        pool = app.state.loop_pool
        held = client.portal.call(pool.getconn)  # the pool's only connection
        try:
            r = client.post("/api/v1/auth/mfa/totp", json=body)
        finally:
            client.portal.call(pool.putconn, held)
        assert r.status_code == 503, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "service_unavailable" and r.headers["retry-after"] == "1"
        assert client.post("/api/v1/auth/mfa/totp", json=body).status_code == 200
    app.state.engine.dispose()


def test_both_pools_take_a_multi_host_url_and_find_the_host_that_answers(
    pg_url: str,
) -> None:
    """libpq's multi-host form, first host down: the sync engine and the event loop's pool
    both try the next (what finds a promoted standby after a failover)."""
    given = make_url(pg_url)
    nobody = free_port()  # nothing listens there
    url = (
        f"postgresql+psycopg://{given.username}@/{given.database}"
        f"?host=127.0.0.1:{nobody}&host={given.host}:{given.port}"
        "&target_session_attrs=read-write"
    )
    settings = Settings(database_url=url, secret_key="x", db_pool_size=1)
    engine = make_engine(settings)
    try:
        assert _backend_pid(engine) > 0
    finally:
        engine.dispose()

    async def on_the_loop() -> int:
        async with db_async.pool_for(settings) as pool:
            assert pool is not None
            return await _loop_backend_pid(pool)

    assert run_on_a_loop(on_the_loop()) > 0


# A server that went away (a failover, a restart) leaves every pooled connection dead, not
# only the one a request met: after the first loss the others are checked before use.


def _pid_of(conn) -> int:  # type: ignore[no-untyped-def]
    return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_once_a_pooled_connection_is_lost_the_sync_pool_replaces_the_others(
    pg_url: str, terminate: Drop
) -> None:
    settings = Settings(
        database_url=pg_url, secret_key="x", db_pool_size=2, db_pool_ping_after_idle_seconds=3600
    )
    engine = make_engine(settings)
    with engine.connect() as a, engine.connect() as b:  # two pooled connections
        pids = [_pid_of(a), _pid_of(b)]
    for pid in pids:
        terminate(pg_url, pid)
    with pytest.raises(OperationalError):
        _backend_pid(engine)  # the first one met: a disconnect, the pool invalidated
    assert _backend_pid(engine) not in pids
    engine.dispose()


def test_once_a_pooled_connection_is_lost_the_event_loops_pool_checks_the_others(
    pg_url: str, terminate: Drop
) -> None:
    settings = Settings(
        database_url=pg_url, secret_key="x", db_pool_size=2, db_pool_ping_after_idle_seconds=3600
    )

    async def scenario() -> tuple[list[int], int]:
        async with db_async.pool_for(settings) as pool:
            assert pool is not None
            async with pool.connection() as a, pool.connection() as b:
                pids = [await _pid_on_loop(a), await _pid_on_loop(b)]
            for pid in pids:
                terminate(pg_url, pid)
            with pytest.raises(psycopg.OperationalError):
                await _loop_backend_pid(pool)  # the first one met
            return pids, await _loop_backend_pid(pool)  # the other was checked, replaced

    pids, after = run_on_a_loop(scenario())
    assert after not in pids


async def _pid_on_loop(conn: psycopg.AsyncConnection[Any]) -> int:
    row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
    assert row is not None
    return int(row[0])
