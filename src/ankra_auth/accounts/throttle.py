"""Per-account backoff: after 10 consecutive failures, 1 minute doubling to 1 hour.

Keys: ``mfa:<user id>`` for second factors, ``pw:<keyed email hash>`` for passwords
(keyed by email, not account, so unknown emails are throttled exactly alike).

An attempt is counted *before* it is checked: :func:`reserve` checks the budget and
counts the attempt as a failure in one statement, so concurrent attempts on any number
of instances cannot all pass a check that none of them has yet counted. A success
takes it back with :func:`reset`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CTE,
    BindParameter,
    ColumnElement,
    Insert,
    Select,
    bindparam,
    case,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ankra_auth.accounts.backoff import FREE_FAILURES, MAX_BACKOFF, backoff_after
from ankra_auth.accounts.models import Throttle
from ankra_auth.db import UTCDateTime, table
from ankra_auth.errors import RateLimited

_THROTTLES = table(Throttle)
# A key with no counted attempt for this long, and no backoff running, is forgotten by
# the pruner: its count starts again, as it would after a success.
FORGET_AFTER = timedelta(days=1)


MFA_PREFIX = "mfa:"


def mfa_key(user_id: str) -> str:
    return f"{MFA_PREFIX}{user_id}"


@dataclass(frozen=True, slots=True)
class Reservation:
    """An admitted attempt, already counted as the ``failures``-th consecutive failure."""

    key: str
    failures: int

    @property
    def starts_backoff(self) -> bool:
        """This attempt opened a backoff window (if it fails, the next ones get 429)."""
        return self.failures >= FREE_FAILURES


def _blocked_until_after(failures: ColumnElement[Any], now: datetime) -> ColumnElement[Any]:
    """``blocked_until`` for the new count, as SQL: the count is only known inside the statement."""
    whens: list[tuple[ColumnElement[bool], ColumnElement[Any]]] = [
        (failures < FREE_FAILURES, null())
    ]
    failures_at_cap = FREE_FAILURES
    while (backoff := backoff_after(failures_at_cap)) is not None and backoff < MAX_BACKOFF:
        whens.append((failures == failures_at_cap, literal(now + backoff, UTCDateTime)))
        failures_at_cap += 1
    return case(*whens, else_=literal(now + MAX_BACKOFF, UTCDateTime))


def reserve(db: Session, *, key: str, now: datetime) -> Reservation:
    """Count one attempt on ``key`` unless it is backing off; commits.

    One upsert both checks and counts: its ``WHERE`` refuses the attempt while
    ``blocked_until`` lies ahead, and otherwise the count (and, from the tenth, the next
    backoff) is written before any password or factor is looked at. Raises
    :class:`RateLimited` (nothing written) while ``key`` is backing off.
    """
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    counted = Throttle.failures + 1
    upsert = (
        insert(Throttle)
        .values(key=key, failures=1, blocked_until=None, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=[Throttle.key],
            set_={
                "failures": counted,
                "blocked_until": _blocked_until_after(counted, now),
                "last_failure_at": now,
            },
            where=_not_backing_off(now),
        )
        .returning(Throttle.failures)
    )
    failures = db.execute(upsert).scalar_one_or_none()
    if failures is not None:
        db.commit()
        return Reservation(key=key, failures=int(failures))
    blocked_until = db.scalar(select(Throttle.blocked_until).where(Throttle.key == key))
    db.rollback()
    seconds = (blocked_until - now).total_seconds() if blocked_until is not None else 1
    raise RateLimited(math.ceil(seconds))


def _not_backing_off(now: datetime | BindParameter[Any]) -> ColumnElement[bool]:
    return or_(_THROTTLES.c.blocked_until.is_(None), _THROTTLES.c.blocked_until <= now)


def _admitting(upsert: PgInsert | SqliteInsert) -> PgInsert | SqliteInsert:
    """The admission rule on ``upsert``'s conflict: unless the key is backing off, its
    count starts again (the row count then says it was admitted)."""
    return upsert.on_conflict_do_update(
        index_elements=[_THROTTLES.c.key],
        set_={"failures": 0, "blocked_until": None},
        where=_not_backing_off(bindparam("now", type_=UTCDateTime)),
    )


@lru_cache(maxsize=2)
def _admit_statement(dialect: str) -> Insert:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    values = insert(_THROTTLES).values(key=bindparam("key"), failures=0, blocked_until=None)
    return _admitting(values).returning(_THROTTLES.c.failures)


def admit(db: Session, *, key: str, now: datetime) -> bool:
    """A right answer: admitted unless ``key`` is backing off, and the count starts again.

    One upsert, under the same rule and on the same row as :func:`reserve` (not
    committed: it belongs to the transaction that spends the factor). False, with nothing
    written, while ``key`` is backing off.
    """
    upsert = _admit_statement(db.get_bind().dialect.name)
    return db.connection().execute(upsert, {"key": key, "now": now}).first() is not None


def admit_mfa_from(users: Select[Any]) -> CTE:
    """:func:`admit` on the ``mfa:`` key of the user ``users`` selects (its one column), as a
    CTE for a statement that reads and admits in one round trip (PostgreSQL). It returns a
    row when admitted; with no row in ``users`` it writes nothing."""
    user_id = users.selected_columns[0]
    keys = users.with_only_columns(
        (literal(MFA_PREFIX) + user_id).label("key"),
        literal(0).label("failures"),
        null().label("blocked_until"),
    )
    rows = pg_insert(_THROTTLES).from_select(["key", "failures", "blocked_until"], keys)
    return _admitting(rows).returning(_THROTTLES.c.key).cte("admitted_account")


def refuse_while_blocked(db: Session, *, key: str, now: datetime) -> None:
    """Raises :class:`RateLimited` while ``key`` is backing off; counts nothing.

    For keys no longer counted on (a password backoff begun under a previous secret key)."""
    blocked_until = db.scalar(select(Throttle.blocked_until).where(Throttle.key == key))
    if blocked_until is not None and blocked_until > now:
        raise RateLimited(math.ceil((blocked_until - now).total_seconds()))


def reset(db: Session, *, key: str) -> None:
    """A success: the consecutive count (this attempt's reservation included) starts again."""
    db.execute(
        update(Throttle)
        .where(Throttle.key == key, Throttle.failures > 0)
        .values(failures=0, blocked_until=None)
    )
