"""Per-account backoff: after 10 consecutive failures, 1 minute doubling to 1 hour.

Keys: ``mfa:<user id>`` for second factors, ``pw:<keyed email hash>`` for passwords
(keyed by email, not account, so unknown emails are throttled exactly alike).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ankra_auth.accounts.models import Throttle
from ankra_auth.errors import RateLimited

FREE_FAILURES = 10
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)


def mfa_key(user_id: str) -> str:
    return f"mfa:{user_id}"


def backoff_after(failures: int) -> timedelta | None:
    if failures < FREE_FAILURES:
        return None
    doublings = min(failures - FREE_FAILURES, 6)  # 2**6 minutes already exceeds the cap
    backoff: timedelta = min(FIRST_BACKOFF * (2**doublings), MAX_BACKOFF)
    return backoff


def check(db: Session, *, key: str, now: datetime) -> int:
    """The consecutive failures so far; raises :class:`RateLimited` while ``key`` is backing off."""
    row = db.execute(
        select(Throttle.failures, Throttle.blocked_until).where(Throttle.key == key)
    ).first()
    if row is None:
        return 0
    failures, blocked_until = row
    if blocked_until is not None and blocked_until > now:
        raise RateLimited(math.ceil((blocked_until - now).total_seconds()))
    return int(failures)


def record_failure(db: Session, *, key: str, now: datetime) -> int:
    """Count one failure atomically; returns the consecutive count."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    upsert = (
        insert(Throttle)
        .values(key=key, failures=1)
        .on_conflict_do_update(
            index_elements=[Throttle.key], set_={"failures": Throttle.failures + 1}
        )
        .returning(Throttle.failures)
    )
    failures = int(db.execute(upsert).scalar_one())
    backoff = backoff_after(failures)
    if backoff is not None:
        db.execute(update(Throttle).where(Throttle.key == key).values(blocked_until=now + backoff))
    return failures


def reset(db: Session, *, key: str) -> None:
    db.execute(
        update(Throttle)
        .where(Throttle.key == key, Throttle.failures > 0)
        .values(failures=0, blocked_until=None)
    )
