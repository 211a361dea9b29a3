"""Deleting rows that only matter for minutes, from inside the service.

Pending logins, passkey challenges, CLI hand-offs, sign-in links and ended
sessions are dead once expired, and throttle counts once forgotten; without this
they would grow without bound.
Each kind is one :class:`Rule` in :data:`RULES`: a new short-lived table is one
more line there.

Safe with many instances on one database: on PostgreSQL a run first takes an
advisory try-lock held for the run's transaction, so at most one instance prunes at a
time and the others skip that round (transaction-scoped: it holds through a transaction
pooler such as PgBouncer); on SQLite the writes serialise anyway. Every DELETE is bounded
(``BATCH`` rows per transaction) and idempotent, so a run that is interrupted or
races another simply leaves the rest to the next run.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    delete,
    exists,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from ankra_auth.accounts import throttle, windows
from ankra_auth.accounts.models import AttemptWindow, AuthSession, EmailVerification, Throttle
from ankra_auth.challenges.models import PendingLogin
from ankra_auth.cli_handoff.models import CliGrant
from ankra_auth.clock import Clock
from ankra_auth.db import affected_rows
from ankra_auth.device_tokens.models import DeviceToken
from ankra_auth.notify.models import MailOutbox
from ankra_auth.orgs import reminders
from ankra_auth.orgs.models import Invitation
from ankra_auth.passkeys.models import WebAuthnChallenge
from ankra_auth.sign_in_links.models import SignInLink
from ankra_auth.sso.models import SsoFlow, SsoPendingLink

log = logging.getLogger("ankra_auth.pruning")

# Rows are kept this long past their expiry: nothing reads them then, and the
# margin covers what outlives its row by a little (a CLI grant's 60-second code,
# a clock a few seconds apart between instances).
GRACE = timedelta(hours=1)
BATCH = 500
MAIL_KEPT = timedelta(days=30)
# Any fixed 64-bit number, the same on every instance: it names "the pruner".
ADVISORY_LOCK_KEY = 0x616E6B7261_7072


@dataclass(frozen=True, slots=True)
class Rule:
    """Delete rows of ``model`` (one primary-key column) for which ``dead(cutoff)`` holds.

    ``cutoff`` is ``now - GRACE``: a row expired before it is no use to anyone. A new
    short-lived table is one line in :data:`RULES`, e.g.
    ``Rule(DeviceToken, _expired(DeviceToken.expires_at))`` or
    ``Rule(Invitation, lambda cutoff: Invitation.created_at < cutoff - timedelta(days=7))``.
    """

    model: type[Any]
    dead: Callable[[datetime], ColumnElement[bool]]

    @property
    def table(self) -> str:
        return str(self.model.__tablename__)


def _expired(column: InstrumentedAttribute[datetime]) -> Callable[[datetime], ColumnElement[bool]]:
    return lambda cutoff: column < cutoff


RULES: list[Rule] = [
    # Grants go with their pending login (ON DELETE CASCADE) too; listed so a
    # grant is not kept by a pending login pruned later.
    Rule(CliGrant, lambda cutoff: CliGrant.expires_at < cutoff),
    Rule(WebAuthnChallenge, _expired(WebAuthnChallenge.expires_at)),
    Rule(PendingLogin, _expired(PendingLogin.expires_at)),
    Rule(SignInLink, _expired(SignInLink.expires_at)),
    Rule(DeviceToken, _expired(DeviceToken.expires_at)),
    Rule(Invitation, _expired(Invitation.expires_at)),
    # No window lasts a day: one that began a day before the cutoff is long over.
    Rule(AttemptWindow, lambda cutoff: AttemptWindow.window_started_at < cutoff - windows.LONGEST),
    Rule(SsoFlow, _expired(SsoFlow.expires_at)),
    Rule(SsoPendingLink, _expired(SsoPendingLink.expires_at)),
    Rule(EmailVerification, _expired(EmailVerification.expires_at)),
    # Mails are sent or failed within a day; their rows are kept 30 days for the record.
    Rule(MailOutbox, lambda cutoff: MailOutbox.created_at < cutoff - MAIL_KEPT),
    Rule(
        AuthSession,
        lambda cutoff: or_(AuthSession.expires_at < cutoff, AuthSession.revoked_at < cutoff),
    ),
    # Every email tried leaves a password throttle row: forget those with nothing to
    # remember, or left alone for a day with no backoff running.
    Rule(Throttle, throttle.forgettable),
    # A device token's budget goes with the token (retired at its next sign-in, or expired).
    Rule(
        Throttle,
        lambda _cutoff: and_(
            Throttle.key.startswith(throttle.TOKEN_PREFIX),
            ~exists(
                select(DeviceToken.id).where(
                    literal(throttle.TOKEN_PREFIX) + DeviceToken.id == Throttle.key
                )
            ),
        ),
    ),
]


def prune(
    engine: Engine, *, now: datetime, rules: list[Rule] | None = None, batch: int = BATCH
) -> dict[str, int]:
    """One run: every rule's dead rows, in bounded batches; returns rows deleted per table.

    Returns an empty dict when another instance holds the pruning lock.
    """
    factory = sessionmaker(bind=engine)
    cutoff = now - GRACE
    # The lock's transaction stays open (it writes nothing) while the batches commit on
    # another connection, and its end releases the lock: a transaction pooler
    # (PgBouncer) keeps one transaction on one server connection, never a session.
    with engine.connect() as lock_conn, lock_conn.begin():
        if not _try_lock(lock_conn):
            return {}
        deleted: dict[str, int] = {}
        with factory() as db:
            for rule in rules if rules is not None else RULES:
                count = _prune_rule(db, rule, cutoff, batch)
                deleted[rule.table] = deleted.get(rule.table, 0) + count
            # The same periodic run, under the same lock, sends the grace periods'
            # reminders (each one claimed by a conditional write: once, whoever runs it).
            _remind(db, now)
        return deleted


def _remind(db: Session, now: datetime) -> None:
    queued = reminders.queue_due(db, now=now)
    if queued:
        log.info("queued %d grace period reminder mails", queued)


def _prune_rule(db: Session, rule: Rule, cutoff: datetime, batch: int) -> int:
    [key] = rule.model.__mapper__.primary_key  # bounded by key: DELETE has no LIMIT everywhere
    total = 0
    while True:
        doomed = select(key).where(rule.dead(cutoff)).limit(batch)
        # The rule again on the DELETE itself: a row changed since the SELECT read it (a
        # throttle counted meanwhile) is re-checked on its new version, not deleted blindly.
        result = db.execute(delete(rule.model).where(key.in_(doomed), rule.dead(cutoff)))
        db.commit()  # one short transaction per batch: no long lock on a busy table
        count = affected_rows(result)
        total += count
        if count < batch:
            return total


def _try_lock(conn: Connection) -> bool:
    """Take the pruner's lock until ``conn``'s transaction ends, if no one holds it."""
    if conn.dialect.name != "postgresql":
        return True
    locked = conn.execute(
        text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY}
    ).scalar()
    return bool(locked)


@dataclass(slots=True)
class Pruner:
    """Runs :func:`prune` every ``interval`` seconds (jittered +-50%) until cancelled.

    The jitter keeps a fleet started at once from pruning in lockstep; a failed
    run is logged and the next one tried, never taking the server down.
    ``sleep`` and ``jitter`` are injectable so tests drive the loop without waiting.
    """

    engine: Engine
    clock: Clock
    interval: float
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    jitter: Callable[[], float] = random.random

    def next_delay(self) -> float:
        return self.interval * (0.5 + self.jitter())

    async def run_once(self) -> dict[str, int] | None:
        try:
            deleted = await run_in_threadpool(prune, self.engine, now=self.clock.now())
        except Exception as exc:  # a database outage must not stop the loop
            log.warning("pruning failed: %s", type(exc).__name__, exc_info=exc)
            return None
        if any(deleted.values()):
            log.info(
                "pruned expired rows: %s",
                ", ".join(f"{table} {n}" for table, n in deleted.items() if n),
            )
        return deleted

    async def run_forever(self) -> None:
        while True:
            await self.sleep(self.next_delay())
            await self.run_once()


@asynccontextmanager
async def running(pruner: Pruner | None) -> AsyncIterator[None]:
    """Keep ``pruner`` going in the background for the duration of the block."""
    if pruner is None:
        yield
        return
    task = asyncio.create_task(pruner.run_forever(), name="ankra-pruner")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """The app's lifespan: prune every ``ANKRA_PRUNE_INTERVAL_SECONDS`` (0 turns it off)."""
    interval = float(app.state.settings.prune_interval_seconds)
    pruner = Pruner(app.state.engine, app.state.clock, interval) if interval > 0 else None
    async with running(pruner):
        yield
