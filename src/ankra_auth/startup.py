"""Serve before the database is there: migrate in the background, retrying, behind a gate.

``ankra-auth serve`` listens at once (``/healthz`` answers 200, so an orchestrator does not
kill a replica whose database is still starting) and applies migrations as soon as the
database answers. Until the schema is current every other route answers 503
``service_unavailable`` and ``/readyz`` says why.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from functools import cache

from alembic.script import ScriptDirectory
from fastapi import FastAPI
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from ankra_auth import migrate
from ankra_auth.errors import ServiceUnavailable, database_failure, problem

log = logging.getLogger("ankra_auth.startup")

FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 5.0
# Answer while the schema is not there yet: liveness, readiness (which says why) and metrics.
UNGATED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def migrate_when_reachable(
    engine: Engine,
    *,
    sleep: Callable[[float], None] = time.sleep,
    first_delay: float = FIRST_RETRY_SECONDS,
    max_delay: float = MAX_RETRY_SECONDS,
) -> int:
    """Apply migrations, waiting (with capped doubling delays) while the database is
    unreachable; returns how many attempts failed. Other errors propagate."""
    delay = first_delay
    failures = 0
    while True:
        try:
            migrate.upgrade(engine)
        except (OperationalError, InterfaceError) as exc:
            failures += 1
            log.warning(
                "database unreachable at start (%s): retrying in %.1f s (attempt %d)",
                database_failure(exc),
                delay,
                failures,
            )
            sleep(delay)
            delay = min(delay * 2, max_delay)
            continue
        if failures:
            log.warning("database reachable after %d failed attempts: migrations applied", failures)
        else:
            log.info("migrations applied")
        return failures


def migrate_in_background(engine: Engine) -> threading.Thread:
    """Migrate on a daemon thread while the server already listens."""

    def run() -> None:
        try:
            migrate_when_reachable(engine)
        except Exception:
            # A broken migration is not going to heal by waiting: stop, loudly.
            log.exception("migrations failed: stopping the service")
            os._exit(1)
        finally:
            engine.dispose()

    thread = threading.Thread(target=run, name="ankra-migrate", daemon=True)
    thread.start()
    return thread


def exit_zero_after_drain() -> None:
    """uvicorn drains on SIGTERM, then re-raises the signal for the previous handler: make
    that handler a clean exit, so a graceful stop ends with status 0, not "killed by 15"."""
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))


@cache
def _head() -> str | None:
    return ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


def schema_is_current(engine: Engine) -> bool:
    # A plain read of Alembic's table: MigrationContext would log two lines per request.
    try:
        with engine.connect() as connection:
            revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
    except DBAPIError:  # unreachable, or no alembic_version table yet
        return False
    return revision is not None and revision == _head()


class SchemaGate:
    """503 on every gated route until this process has seen the schema current once."""

    def __init__(self, app: ASGIApp, *, owner: FastAPI) -> None:
        self.app = app
        self.owner = owner
        self.ready = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.ready or scope["type"] != "http" or scope["path"] in UNGATED_PATHS:
            await self.app(scope, receive, send)
            return
        if await run_in_threadpool(schema_is_current, self.owner.state.engine):
            self.ready = True  # checked once per process: no cost after start
            await self.app(scope, receive, send)
            return
        response = problem(
            ServiceUnavailable(
                "The service is starting: its database is not reachable or not migrated yet",
                headers={"Retry-After": "1"},
            )
        )
        await response(scope, receive, send)


def install_schema_gate(app: FastAPI) -> None:
    app.add_middleware(SchemaGate, owner=app)
