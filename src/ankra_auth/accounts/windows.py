"""Attempts per key in a fixed window, counted before they act: user codes tried on
/cli/device per client address, organisations created and invitations sent per account.

An attempt is reserved in the same statement that checks the budget and committed before
anything else happens, so of any number of concurrent attempts at most ``budget`` get
through per window. A reservation can be given back (a right user code costs nothing).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ankra_auth.accounts.backoff import retry_after_seconds
from ankra_auth.accounts.models import AttemptWindow
from ankra_auth.errors import RateLimited

# Windows are kept this long after they start, then pruned: longer than any window here.
LONGEST = timedelta(days=1)


def take(db: Session, *, key: str, budget: int, window: timedelta, now: datetime) -> None:
    """Count one attempt on ``key`` (commits), or raise :class:`RateLimited` (nothing
    written) when ``budget`` attempts were already counted in the current window."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.execute(
        insert(AttemptWindow)
        .values(key=key, window_started_at=now, attempts=0)
        .on_conflict_do_nothing(index_elements=[AttemptWindow.key])
    )
    stale = AttemptWindow.window_started_at <= now - window
    reserved = db.execute(
        update(AttemptWindow)
        .where(AttemptWindow.key == key, stale | (AttemptWindow.attempts < budget))
        # SET reads the row as it was, so both columns see the same ``stale``.
        .values(
            attempts=case((stale, 1), else_=AttemptWindow.attempts + 1),
            window_started_at=case((stale, now), else_=AttemptWindow.window_started_at),
        )
        .returning(AttemptWindow.attempts)
    ).first()
    if reserved is not None:
        db.commit()
        return
    started = db.scalar(select(AttemptWindow.window_started_at).where(AttemptWindow.key == key))
    db.rollback()
    raise RateLimited(retry_after_seconds(None if started is None else started + window, now))


def give_back(db: Session, *, key: str) -> None:
    """Return one reservation (not committed: the caller's transaction)."""
    db.execute(
        update(AttemptWindow)
        .where(AttemptWindow.key == key, AttemptWindow.attempts > 0)
        .values(attempts=AttemptWindow.attempts - 1)
    )
