"""The one admission: every sign-in attempt is counted before anything secret is compared.

A budget is one row of ``throttles``: ``pw:<keyed email hash>`` for passwords (keyed by
email, so unknown emails are throttled alike), ``mfa:<user id>`` for an account's second
factors, ``token:<device token id>`` for a device token (a sign-in that presents a valid
one of the account counts there instead, so a flood from elsewhere does not lock out the
owner's known devices).

An attempt is *reserved* by the statement that checks its budget (:func:`reserve_statement`,
or a CTE of :func:`reserving` inside a bigger statement): admitted while confirmed failures
plus attempts still in flight stay under 10 (once a backoff has run out, one attempt at a
time), and counted in flight. It is then *settled*: right (:data:`SETTLE_RIGHT`, the count
starts again) or wrong (:func:`settle_wrong`, one more failure; the tenth starts a backoff
of 1 minute doubling to 1 hour, or voids a device token).

A second factor reserves and settles in one transaction, so concurrent attempts on one
budget queue on its row lock and each sees the ones before it settled; a password (argon2
is slow) commits its reservation first, and concurrent attempts see it in flight. An
attempt that finds the budget held only by attempts in flight waits for them (up to
:data:`WAIT_LIMIT`): right ones free it, wrong ones start the backoff that then answers
it. So concurrency is never failure, and a burst compares at most 10 secrets. The
reservations of a process that died mid-check lapse after :data:`LEASE`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Insert,
    Select,
    Update,
    and_,
    bindparam,
    case,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ankra_auth.accounts.backoff import (
    FREE_FAILURES,
    MAX_BACKOFF,
    backoff_after,
    retry_after_seconds,
)
from ankra_auth.accounts.models import Throttle
from ankra_auth.db import UTCDateTime, table
from ankra_auth.db_flow import Flow, Pause, Run
from ankra_auth.errors import RateLimited

TABLE = table(Throttle)
MFA_PREFIX = "mfa:"
TOKEN_PREFIX = "token:"  # noqa: S105 - a key prefix
LEASE = timedelta(minutes=1)
# How long an attempt waits for attempts in flight to settle before it is refused (429).
WAIT_LIMIT = 5.0
# A void device token stays void for longer than any token lives.
VOID_FOR = timedelta(days=366)
# A key with no attempt for this long, and no backoff running, is forgotten by the
# pruner: its count starts again, as it would after a success.
FORGET_AFTER = timedelta(days=1)

_NOW = bindparam("now", type_=UTCDateTime)
_LEASE_UNTIL = bindparam("lease_until", type_=UTCDateTime)
_KEY: BindParameter[str] = bindparam("counter")


def mfa_key(user_id: str) -> str:
    return f"{MFA_PREFIX}{user_id}"


def token_key(token_id: str) -> str:
    return f"{TOKEN_PREFIX}{token_id}"


def voids(key: str) -> bool:
    """Whether ``key``'s tenth failure voids it for good (a device token) rather than
    starting a backoff; a void key is passed over for the account's own."""
    return key.startswith(TOKEN_PREFIX)


# The backoff of every count up to the cap, bound as parameters: the statements are built once.
_DOUBLINGS = next(n for n in range(64) if backoff_after(FREE_FAILURES + n) == MAX_BACKOFF)


def params(now: datetime) -> dict[str, Any]:
    """What every statement here binds besides ``key``: the time, the lease, the backoffs."""
    values: dict[str, Any] = {"now": now, "lease_until": now + LEASE, "void_until": now + VOID_FOR}
    for failures in range(FREE_FAILURES, FREE_FAILURES + _DOUBLINGS + 1):
        values[f"backoff_{failures}"] = now + (backoff_after(failures) or MAX_BACKOFF)
    return values


def _live_in_flight() -> ColumnElement[int]:
    return case((TABLE.c.in_flight_until > _NOW, TABLE.c.in_flight), else_=0)


def _admits() -> ColumnElement[bool]:
    """The budget rule: not backing off, and under 10 with those in flight (after a
    backoff, when the count is already 10 or more: only while none is in flight)."""
    live = _live_in_flight()
    not_blocked = or_(TABLE.c.blocked_until.is_(None), TABLE.c.blocked_until <= _NOW)
    return and_(not_blocked, or_(TABLE.c.failures + live < FREE_FAILURES, live == 0))


def _one_fewer_in_flight() -> ColumnElement[int]:
    live = _live_in_flight()
    return case((live > 0, live - 1), else_=0)


def reserving(rows: Insert) -> Insert:
    """``rows`` (an INSERT of a new row per key) as the reservation: on a key that exists,
    one more attempt in flight, where the rule admits it. Returns the key when admitted."""
    upsert: Any = rows
    return upsert.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[TABLE.c.key],
        set_={
            "in_flight": _live_in_flight() + 1,
            "in_flight_until": _LEASE_UNTIL,
            "last_attempt_at": _NOW,
        },
        where=_admits(),
    ).returning(TABLE.c.key)


def new_rows(dialect: str, keys: Select[Any]) -> Insert:
    """The INSERT of a fresh row (one attempt in flight) for each key ``keys`` selects."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    columns = keys.add_columns(
        literal(0).label("failures"),
        literal(1).label("in_flight"),
        _LEASE_UNTIL.label("in_flight_until"),
        null().label("blocked_until"),
        _NOW.label("last_attempt_at"),
    )
    names = ["key", "failures", "in_flight", "in_flight_until", "blocked_until", "last_attempt_at"]
    return insert(TABLE).from_select(names, columns)


@lru_cache(maxsize=2)
def reserve_statement(dialect: str) -> Insert:
    """Reserve one attempt on ``key``; returns the key when admitted, nothing otherwise."""
    return reserving(new_rows(dialect, select(_KEY.label("key"))))


SETTLE_RIGHT: Update = (
    update(TABLE)
    .where(TABLE.c.key == _KEY)
    .values(failures=0, blocked_until=None, in_flight=_one_fewer_in_flight())
)


# A password that was right, counted on a device token: in flight no more, but its count
# stays (the second factor counts there too: a password alone must not wipe it).
RELEASE: Update = update(TABLE).where(TABLE.c.key == _KEY).values(in_flight=_one_fewer_in_flight())


def _blocked_after(failures: ColumnElement[int], *, void: bool) -> ColumnElement[Any]:
    if void:
        return case(
            (failures >= FREE_FAILURES, bindparam("void_until", type_=UTCDateTime)), else_=null()
        )
    whens: list[tuple[ColumnElement[bool], Any]] = [(failures < FREE_FAILURES, null())]
    for count in range(FREE_FAILURES, FREE_FAILURES + _DOUBLINGS):
        whens.append((failures == count, bindparam(f"backoff_{count}", type_=UTCDateTime)))
    capped = bindparam(f"backoff_{FREE_FAILURES + _DOUBLINGS}", type_=UTCDateTime)
    return case(*whens, else_=capped)


@lru_cache(maxsize=2)
def _settle_wrong(*, void: bool) -> Update:
    counted = TABLE.c.failures + 1
    return (
        update(TABLE)
        .where(TABLE.c.key == _KEY)
        .values(
            failures=counted,
            blocked_until=_blocked_after(counted, void=void),
            in_flight=_one_fewer_in_flight(),
        )
        .returning(TABLE.c.failures)
    )


def settle_wrong(key: str) -> Update:
    """One more failure on ``key`` (the reservation settled); returns the new count."""
    return _settle_wrong(void=voids(key))


def starts_backoff(failures: int) -> bool:
    """Whether a failure that made the count ``failures`` opened a backoff window."""
    return failures >= FREE_FAILURES


_STATE = select(TABLE.c.blocked_until).where(TABLE.c.key == _KEY)


def refused(key: str, now: datetime) -> Flow[bool]:
    """After ``key`` did not admit an attempt: raises :class:`RateLimited` while it backs
    off; True when it is void (a device token: count on the account instead); False when
    attempts in flight hold the budget (wait for them)."""
    row = yield Run(_STATE, {"counter": key})
    blocked_until: datetime | None = None if row is None else row.blocked_until
    if blocked_until is None or blocked_until <= now:
        return False
    if voids(key):
        return True
    raise RateLimited(retry_after_seconds(blocked_until, now))


class Waiting:
    """The wait for attempts in flight: short pauses, then 429 after :data:`WAIT_LIMIT`.

    Real time, not the service's clock: it bounds how long a request is held.
    """

    def __init__(self) -> None:
        self.deadline = time.monotonic() + WAIT_LIMIT
        self.pause = 0.01

    def next_pause(self) -> Pause:
        if time.monotonic() >= self.deadline:
            raise RateLimited(1)
        pause = Pause(self.pause)
        self.pause = min(self.pause * 2, 0.1)
        return pause


def admit_once(dialect: str, keys: Sequence[str], now: datetime) -> Flow[str | None]:
    """Reserve one attempt on the first of ``keys`` that admits it, passing over void ones
    (a device token, then the account's own key); returns the key it counts on, or None
    while attempts in flight hold the budget. Not committed. Raises :class:`RateLimited`."""
    for key in keys:
        row = yield Run(reserve_statement(dialect), {"counter": key, **params(now)})
        if row is not None:
            return key
        if not (yield from refused(key, now)):
            return None
    raise RateLimited(1)  # every key void: cannot happen, the account's own is last


def admit(dialect: str, keys: Sequence[str], now: datetime) -> Flow[str]:
    """:func:`admit_once`, waiting (briefly) while attempts in flight hold the budget."""
    waiting = Waiting()
    while True:
        key = yield from admit_once(dialect, keys, now)
        if key is not None:
            return key
        yield waiting.next_pause()


def not_backing_off(keys: Sequence[str], now: datetime) -> Flow[None]:
    """Raises :class:`RateLimited` while one of ``keys`` backs off; counts nothing.

    For keys no longer counted on (a password backoff begun under a previous secret key)."""
    for key in keys:
        yield from refused(key, now)


def forgettable(cutoff: datetime) -> ColumnElement[bool]:
    """What the pruner may delete: nothing to remember (no failure, none in flight), or left
    alone for :data:`FORGET_AFTER` with no backoff running."""
    nothing_in_flight = or_(TABLE.c.in_flight == 0, TABLE.c.in_flight_until < cutoff)
    return and_(
        nothing_in_flight,
        or_(
            TABLE.c.failures == 0,
            and_(
                TABLE.c.last_attempt_at < cutoff - FORGET_AFTER,
                or_(TABLE.c.blocked_until.is_(None), TABLE.c.blocked_until < cutoff),
            ),
        ),
    )
