"""Both PostgreSQL pools through PgBouncer in transaction pooling mode (Debian's 1.18).

psycopg prepares a statement on the server after 5 uses on one connection. Through a
transaction pooler two clients share server connections, so the second to prepare the
same statement meets the first one's ``_pg3_0`` ("already exists"): two client
connections taking turns on the same statement show it every time.
``ANKRA_DB_TRANSACTION_POOLER=1`` (``prepare_threshold=None``) must make it go away, in
the sync engine and in the event loop's pool alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import ProgrammingError

from ankra_auth import db_async, migrate, pruning
from ankra_auth.accounts.models import User
from ankra_auth.clock import SystemClock
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from ankra_auth.pruning import RULES
from tests.helpers import run_on_a_loop
from tests.pgbouncer import PgBouncer
from tests.postgres_server import PostgresServer

pytestmark = pytest.mark.postgresql

TURNS = 12  # each connection runs the statement this often: past psycopg's threshold of 5
STATEMENT = select(User.id).where(User.email == "nobody@example.com")


@pytest.fixture
def pooled_url(postgres: PostgresServer | str, pgbouncer: PgBouncer) -> str:
    """A fresh database on the test server, reached through PgBouncer, migrated."""
    assert not isinstance(postgres, str)  # the pgbouncer fixture skips then
    name = "pool_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pgbouncer.url("postgres", driver=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = pgbouncer.url(name)
    engine = make_engine(Settings(database_url=url, secret_key="x"))
    migrate.upgrade(engine)
    engine.dispose()
    return url


def _settings(url: str, *, pooler: bool) -> Settings:
    return Settings(database_url=url, secret_key="x", db_pool_size=2, db_transaction_pooler=pooler)


@pytest.fixture
def engine(pooled_url: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    made = make_engine(_settings(pooled_url, pooler=request.param))
    yield made
    made.dispose()


def _taking_turns(engine: Engine) -> None:
    """Two pooled connections run the same statement in turns, one transaction each."""
    with engine.connect() as first, engine.connect() as second:
        for _ in range(TURNS):
            for conn in (first, second):
                conn.execute(STATEMENT).all()
                conn.commit()


async def _taking_turns_on_the_loop(settings: Settings) -> None:
    read = db_async.compiled(STATEMENT)
    async with db_async.pool_for(settings) as pool:
        assert pool is not None
        async with pool.connection() as first, pool.connection() as second:
            for _ in range(TURNS):
                for conn in (first, second):
                    await (
                        await db_async.cursor(conn).execute(read.sql, read.params({}))
                    ).fetchall()
                    await conn.commit()


@pytest.mark.parametrize("engine", [True], indirect=True)
def test_the_sync_engine_prepares_nothing_behind_a_transaction_pooler(engine: Engine) -> None:
    _taking_turns(engine)


def test_the_event_loops_pool_prepares_nothing_behind_a_transaction_pooler(
    pooled_url: str,
) -> None:
    run_on_a_loop(_taking_turns_on_the_loop(_settings(pooled_url, pooler=True)))


# Without the setting, the same turns fail: what the setting is for, and proof that the
# PgBouncer above really pools by transaction (in session mode these would pass).


@pytest.mark.parametrize("engine", [False], indirect=True)
def test_without_the_setting_the_sync_engine_breaks(engine: Engine) -> None:
    with pytest.raises(ProgrammingError, match="prepared statement"):
        _taking_turns(engine)


def test_without_the_setting_the_event_loops_pool_breaks(pooled_url: str) -> None:
    with pytest.raises(psycopg.ProgrammingError, match="prepared statement"):
        run_on_a_loop(_taking_turns_on_the_loop(_settings(pooled_url, pooler=False)))


def test_the_pruner_leaves_no_lock_behind_a_transaction_pooler(pooled_url: str) -> None:
    """A session-level advisory lock taken in one transaction and released in a later one
    can be released on another server connection, which leaves it held for good (and
    every later run skipped). The pruner's lock lives and dies with one transaction."""
    engine = make_engine(_settings(pooled_url, pooler=True))
    try:
        with engine.connect() as first, engine.connect() as second:
            for conn in (first, second):  # two transactions at once: two server connections
                conn.execute(text("SELECT 1"))
        # Runs of 2 to 5 transactions: with the server connections taken in turn, some
        # end on another server connection than the one they began on.
        for rules in range(1, 5):
            assert pruning.prune(engine, now=SystemClock().now(), rules=RULES[:rules]) != {}
            assert _pruner_locks(engine) == 0
    finally:
        engine.dispose()


def _pruner_locks(engine: Engine) -> int:
    key = pruning.ADVISORY_LOCK_KEY
    with engine.connect() as conn:
        held = conn.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                " AND classid = :high AND objid = :low"
            ),
            {"high": key >> 32, "low": key & 0xFFFFFFFF},
        ).scalar_one()
    return int(held)
