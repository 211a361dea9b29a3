"""PostgreSQL from the event loop: psycopg's async pool, and Core statements compiled once.

The second-factor sign-ins run here instead of on a thread (:func:`run` executes the same
``db_flow`` flows the sync runner does): with 32 sign-ins in flight, threads take turns at
the GIL and SQLAlchemy's execution layer costs more than PostgreSQL takes to run the
statements. The statements stay the SQLAlchemy Core constructs the flows build;
:func:`compiled` turns one into its SQL text and bound values once, and a request only
fills in its parameters. SQLite has no such pool: there every flow runs on a thread.

The SQL is compiled with PostgreSQL's own ``$n`` placeholders and sent by psycopg's raw
cursor as it is. With ``%(name)s`` placeholders psycopg rewrites the text on every
execute, caching the rewrite only for statements under 4,096 characters and 50
parameters: the statement that finishes a TOTP sign-in is longer, and its rewrite was
the largest single cost of that sign-in in the profile (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any, TypeVar, cast

from psycopg import AsyncConnection, AsyncRawCursor
from psycopg.conninfo import make_conninfo
from psycopg.pq import TransactionStatus
from psycopg.rows import namedtuple_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import make_url
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from ankra_auth import db_flow
from ankra_auth.config import Settings
from ankra_auth.db import psycopg_options

T = TypeVar("T")

Pool = AsyncConnectionPool[AsyncConnection[Any]]
RECONNECT_SECONDS = 4.0
_DIALECT = PGDialect_psycopg(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A statement's SQL (``$n`` placeholders), the names its placeholders stand for in
    order, its fixed values, and whether it answers rows (a SELECT, or a write with
    RETURNING)."""

    sql: str
    names: tuple[str, ...]
    defaults: Mapping[str, Any]
    processors: Mapping[str, Callable[[Any], Any]]
    returns_rows: bool
    # The values of ``names`` from a mapping, in order (itemgetter: one C call).
    pick: Callable[[Mapping[str, Any]], tuple[Any, ...]]

    def params(self, given: Mapping[str, Any]) -> tuple[Any, ...]:
        """The statement's values in placeholder order: its literals, then ``given``,
        through the column types' bind processing (``UTCDateTime`` refuses a naive
        datetime, as on the sync way)."""
        values = {**self.defaults, **given}
        for name, process in self.processors.items():
            values[name] = process(values[name])
        return self.pick(values)


@lru_cache(maxsize=32)
def compiled(statement: ClauseElement) -> Compiled:
    """``statement`` compiled for psycopg once (statements on this path are built once)."""
    done = cast("SQLCompiler", statement.compile(dialect=_DIALECT))
    # The literals' values, and which parameters a column type processes (UTCDateTime).
    defaults, processors = {}, {}
    for name, bind in done.binds.items():
        compiled_name = done.bind_names.get(bind, name)
        defaults[compiled_name] = bind.effective_value
        process = bind.type.bind_processor(_DIALECT)
        if process is not None:
            processors[compiled_name] = process
    writes = done.isinsert or done.isupdate or done.isdelete
    returns_rows = not writes or bool(done.effective_returning)
    names = tuple(done.positiontup or ())
    return Compiled(done.string, names, defaults, processors, returns_rows, _picker(names))


def _picker(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    if len(names) > 1:
        return itemgetter(*names)
    return lambda values: tuple(values[name] for name in names)  # itemgetter of one: no tuple


def cursor(conn: AsyncConnection[Any]) -> AsyncRawCursor[Any]:
    """A cursor for :func:`compiled` statements: their SQL goes as it is."""
    return AsyncRawCursor(conn, row_factory=namedtuple_row)


async def run(pool: Pool, flow: db_flow.Flow[T]) -> T:
    """``flow`` on a connection of the event loop's pool; what it did not commit is rolled
    back before the connection goes back."""
    # getconn/putconn, not pool.connection(): the same hand-out and return without a
    # generator-based context manager and the connection's own context around it.
    conn = await pool.getconn()
    try:
        cur = cursor(conn)
        reply: Any = None
        try:
            while True:
                step = flow.send(reply)
                reply = None
                if isinstance(step, db_flow.Run):
                    statement = compiled(step.statement)
                    params = statement.params(step.params)
                    await cur.execute(statement.sql, params)
                    reply = await cur.fetchone() if statement.returns_rows else None
                elif isinstance(step, db_flow.Commit):
                    await conn.commit()
                    db_flow.count(step.counted)
                else:
                    await conn.rollback()
                    await asyncio.sleep(step.seconds)
        except StopIteration as done:
            value: T = done.value
            return value
        finally:
            if conn.info.transaction_status != TransactionStatus.IDLE:
                await conn.rollback()
    finally:
        await pool.putconn(conn)


def _conninfo(database_url: str) -> str:
    """libpq's connection string for ``database_url``, read as the sync engine reads it:
    a multi-host URL (``?host=db1:5432&host=db2:5433&target_session_attrs=read-write``)
    becomes ``host=db1,db2 port=5432,5433``, the form libpq tries in turn."""
    _, params = _DIALECT.create_connect_args(make_url(database_url))  # type: ignore[no-untyped-call]
    params.pop("context", None)  # SQLAlchemy's type adapters, not a connection parameter
    return make_conninfo(**params)


class _IdleCheck:
    """Check a connection before handing it out only when it may be dead: it may have sat
    idle in the pool longer than ``idle_seconds`` (a restart, failover or firewall can have
    killed it), or a connection handed out since it was last handed out came back broken
    (the server went away: its siblings in the pool are suspect too). The sync pool does
    the same (``db._ping_when_idle``, and SQLAlchemy's pool invalidation on a disconnect);
    a ping on every checkout would be one more round trip per sign-in.

    Both are counted from when the connection was last handed out, not from when it came
    back: that overstates its idle time by the time it was in use (milliseconds), so it
    pings at least as often as the rule asks. Knowing when it came back would take
    psycopg_pool's ``reset`` callback, and with one the pool hands every returned
    connection to a worker task before another request may have it: a task hop per
    sign-in (docs/performance.md, fifth round).
    """

    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        # Every connection handed out, and when it last was (as many as the pool holds):
        # one found closed was lost in use, or closed by the pool, since.
        self.handed_out_at: dict[AsyncConnection[Any], float] = {}
        self.lost_at = float("-inf")

    async def check(self, conn: AsyncConnection[Any]) -> None:
        now = time.monotonic()
        last = self.handed_out_at.get(conn)
        self.handed_out_at[conn] = now
        if last is None:
            return  # fresh from connect
        if now - last >= self.idle_seconds or last <= self._last_loss(now):
            await AsyncConnectionPool.check_connection(conn)

    def _last_loss(self, now: float) -> float:
        lost = [conn for conn in self.handed_out_at if conn.closed]
        if lost:
            for conn in lost:
                del self.handed_out_at[conn]
            self.lost_at = now
        return self.lost_at


@asynccontextmanager
async def pool_for(settings: Settings) -> AsyncIterator[Pool | None]:
    """The event loop's pool for the app's lifespan on PostgreSQL (None on SQLite).

    Opened without waiting: the service starts, and answers 503, while the database is
    not there yet, and the pool connects in the background once it is.
    """
    if not settings.database_url.startswith("postgresql"):
        yield None
        return
    idle = _IdleCheck(settings.db_pool_ping_after_idle_seconds)
    pool: Pool = AsyncConnectionPool(
        _conninfo(settings.database_url),
        min_size=1,
        max_size=settings.db_pool_size,
        timeout=settings.db_pool_timeout_seconds,
        check=(
            idle.check
            if settings.db_pool_ping_after_idle_seconds > 0
            else AsyncConnectionPool.check_connection
        ),
        kwargs=psycopg_options(settings),
        # psycopg_pool retries a failed connect after 1, 2, 4, 8... seconds for this long;
        # after that a waiting request starts a new attempt at once. Short, so the pool
        # finds a promoted standby within seconds of the switch, however long it took.
        reconnect_timeout=RECONNECT_SECONDS,
        open=False,
        name="event-loop",
    )
    await pool.open(wait=False)
    try:
        yield pool
    finally:
        await pool.close(timeout=settings.shutdown_grace_seconds)
