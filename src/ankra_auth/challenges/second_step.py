"""The one second-factor step: every way a pending login is finished passes here.

The sign-in API's TOTP, recovery-code and passkey routes, and the CLI hand-off pages, run
this flow (``db_flow``: on the event loop on PostgreSQL, on a thread elsewhere) with
their factor and what a finished login grants. In one transaction:

1. the pending login is locked and the attempt reserved by the statement that checks its
   budget (the device token the login was started with, else the account:
   ``accounts.throttle``), before the factor is looked at: during a backoff a right
   answer is refused exactly like a wrong one;
2. the factor is compared, and spent by a conditional write;
3. right: the login is finished, the budget's count starts again and the grant is
   written (one statement on PostgreSQL); wrong (or replayed): the login's and the
   budget's failures are counted, and the answer says so.

Concurrent attempts on one login or one budget wait on its row lock, so each sees the
ones before it settled: at most 5 secrets are compared per pending login, and at most 10
per budget before its backoff, whatever the concurrency, on any number of instances.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import CTE, ColumnElement, Select, Update, exists, select

from ankra_auth.accounts import throttle
from ankra_auth.challenges.service import (
    FAIL,
    FINISH,
    MAX_ATTEMPTS,
    Join,
    Named,
    Pending,
    active_row,
    finish_after,
    lock,
    read_and_admit_query,
    read_query,
)
from ankra_auth.context import RequestContext
from ankra_auth.db_flow import Commit, Flow, Run
from ankra_auth.device_tokens.service import VALID_BY_ID
from ankra_auth.errors import InvalidCode, MfaTokenInvalid, TooManyAttempts
from ankra_auth.events import service as events
from ankra_auth.events.types import EventType, SignInMethod

T = TypeVar("T")
Counted = tuple[tuple[EventType, SignInMethod | None], ...]


@dataclass(frozen=True, slots=True)
class Spend:
    """A factor that checked out: the conditional UPDATE that spends it (it returns a row
    only when it did: a used step or code, a moved sign count return none)."""

    statement: Update
    params: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Wrong:
    """A factor that did not check out; ``also`` are events (type, detail) to record with
    the failure."""

    also: tuple[tuple[EventType, str | None], ...] = ()


class Factor(Protocol):
    """One kind of second factor, as the step uses it."""

    @property
    def method(self) -> SignInMethod: ...

    @property
    def join(self) -> Join:
        """Adds what :meth:`check` needs to the read of the pending login (or leaves it)."""
        ...

    @property
    def join_params(self) -> Mapping[str, object]:
        """The values :attr:`join` binds, beside the pending login's and the budget's."""
        ...

    def check(self, pending: Pending) -> Flow[Spend | Wrong]:
        """Compare the factor (the attempt is already counted); may read, never commit."""
        ...


@dataclass(frozen=True, slots=True)
class Read(Generic[T]):
    """A read the grant's answer needs of rows the grant does not write (whether an
    organisation restricts the new session): one more column of the grant's one statement
    on PostgreSQL, whose snapshot is the database before that statement's writes, so never
    for what the grant writes; a statement after the writes elsewhere. ``answer(result,
    value)`` makes the answer from the value read."""

    value: ColumnElement[Any]
    params: Mapping[str, object]
    answer: Callable[[T, Any], T]


@dataclass(frozen=True, slots=True)
class Grant(Generic[T]):
    """What a finished login grants, written in its transaction.

    ``build(finished, *shape)`` makes the PostgreSQL form: CTEs conditional on
    ``finished`` (the CTE that finished the login) and the column that says whether the
    grant was made; it is built once per ``shape``. ``steps`` is the same as separate
    statements (SQLite), answering the same. A grant not made (a CLI hand-off that ended
    meanwhile) rolls everything back: the factor stays unspent.
    """

    build: Callable[..., tuple[tuple[CTE, ...], ColumnElement[bool]]]
    shape: tuple[Hashable, ...]
    params: Mapping[str, object]
    steps: Callable[[], Flow[bool]]
    result: T
    counted: Counted = field(default=())
    read: Read[T] | None = None
    # What the grant still reads in its transaction once it is written (the recovery codes
    # left), making the result: in the transaction, not after it, which would be a
    # transaction (and round trips) of its own.
    completed: Callable[[T], Flow[T]] | None = None


def second_step(
    *,
    dialect: str,
    named: Named,
    factor: Factor,
    grant_for: Callable[[Pending], Grant[T]],
    ctx: RequestContext,
) -> Flow[T]:
    """Finish the pending login ``named`` with ``factor``; returns the grant's result.

    Raises :class:`MfaTokenInvalid`, :class:`RateLimited`, :class:`InvalidCode` or
    :class:`TooManyAttempts` (the last two once the failure is committed).
    """
    limits = throttle.params(ctx.now)
    waiting = throttle.Waiting()
    while True:
        admitted = yield from _admit(dialect, named, factor, ctx, limits)
        if admitted is not None:
            break
        yield waiting.next_pause()  # the budget is held by attempts in flight
    pending, key = admitted
    checked = yield from factor.check(pending)
    if isinstance(checked, Spend):
        grant = grant_for(pending)
        answer = yield from _spend_and_grant(dialect, pending, key, checked, grant, limits)
        if answer is not None:
            spent, granted, read = answer
            if granted:
                result = grant.result
                if grant.read is not None:
                    result = grant.read.answer(result, read)
                if grant.completed is not None:
                    result = yield from grant.completed(result)
                yield Commit(grant.counted)
                return result
            if spent:  # a grant that ended meanwhile: roll back, the factor unspent
                raise MfaTokenInvalid("This sign-in has expired or was already used: sign in again")
        checked = Wrong()  # spent meanwhile by another sign-in: a replay fails like a wrong one
    yield from _fail(dialect, pending, key, factor.method, checked, ctx, limits)
    raise AssertionError("unreachable")  # pragma: no cover


def _admit(
    dialect: str, named: Named, factor: Factor, ctx: RequestContext, limits: Mapping[str, object]
) -> Flow[tuple[Pending, str] | None]:
    """Lock the active pending login and reserve the attempt; None while attempts in
    flight hold the budget. Raises :class:`MfaTokenInvalid` or :class:`RateLimited`."""
    join = factor.join
    values = {"named": named.value, **limits, **factor.join_params}
    if dialect == "postgresql":
        row = yield Run(read_and_admit_query(join, by_token=named.by_token), values)
        pending = active_row(row, ctx.now)
        if row.admitted:
            return pending, row.counter_key
        yield from throttle.refused(row.counter_key, ctx.now)
        return None  # held, or turned void meanwhile: look again
    if (yield Run(lock(by_token=named.by_token), values)) is None:
        raise MfaTokenInvalid("This sign-in has expired or was already used: sign in again")
    pending = active_row((yield Run(read_query(join, by_token=named.by_token), values)), ctx.now)
    keys = [throttle.mfa_key(pending.user_id)]
    if pending.device_token_id is not None:
        token = yield Run(
            VALID_BY_ID,
            {"token_id": pending.device_token_id, "owner": pending.user_id, "now": ctx.now},
        )
        if token is not None:
            keys.insert(0, throttle.token_key(pending.device_token_id))
    key = yield from throttle.admit_once(dialect, keys, ctx.now)
    return None if key is None else (pending, key)


def _spend_and_grant(
    dialect: str,
    pending: Pending,
    key: str,
    spend: Spend,
    grant: Grant[Any],
    limits: Mapping[str, object],
) -> Flow[tuple[bool, bool, Any] | None]:
    """Spend the factor, finish the login, settle the budget, write the grant and make its
    read; (spent, granted, the value read), or None when the factor was not spent (nothing
    was written)."""
    decided = {"pending_id": pending.id, "counter": key, **limits}
    read = grant.read
    if dialect == "postgresql":
        write = _fused(
            spend.statement, grant.build, grant.shape, None if read is None else read.value
        )
        values = {
            **spend.params,
            **grant.params,
            **decided,
            **(read.params if read is not None else {}),
        }
        row = yield Run(write, values)
        return (
            (True, bool(row.granted), row.read if read is not None else None)
            if row.finished
            else None
        )
    if (yield Run(spend.statement, spend.params)) is None:
        return None
    if (yield Run(FINISH, decided)) is None:
        return True, False, None
    yield Run(throttle.SETTLE_RIGHT, decided)
    granted = yield from grant.steps()
    if not granted or read is None:
        return True, granted, None
    return True, granted, (yield Run(select(read.value), read.params))[0]


@lru_cache(maxsize=32)
def _fused(
    spend: Update,
    build: Callable[..., tuple[tuple[CTE, ...], ColumnElement[bool]]],
    shape: tuple[Hashable, ...],
    read: ColumnElement[Any] | None,
) -> Select[Any]:
    """PostgreSQL: the spend, the finish, the budget's reset, the grant and its read as one
    statement.

    Each write acts only when the one before it did (the finish only when the spend
    returned a row, the rest only when the finish did), and the answer says how far it
    got, so the caller commits only a whole grant.
    """
    spent = spend.cte("spent_factor")
    finished = finish_after(spent)
    done = exists(select(finished.c.id))
    settled = throttle.SETTLE_RIGHT.where(done).returning(throttle.TABLE.c.key).cte("settled")
    ctes, granted = build(finished, *shape)
    answers = (done.label("finished"), granted.label("granted"))
    also = () if read is None else (read.label("read"),)
    return select(*answers, *also).add_cte(spent, finished, settled, *ctes)


def _fail(
    dialect: str,
    pending: Pending,
    key: str,
    method: SignInMethod,
    wrong: Wrong,
    ctx: RequestContext,
    limits: Mapping[str, object],
) -> Flow[None]:
    """Count the failure on the pending login and the budget, record it (the voided login
    mails its owner: someone has the password), commit, and raise the answer:
    :class:`InvalidCode` or :class:`TooManyAttempts`."""
    failed = yield Run(FAIL, {"pending_id": pending.id, **limits})
    if failed is None:  # cannot happen while the login is locked; never count past it
        raise MfaTokenInvalid("This sign-in has expired or was already used: sign in again")
    attempts = failed.failed_attempts
    failures = (yield Run(throttle.settle_wrong(key), {"counter": key, **limits})).failures
    recorded: list[tuple[EventType, SignInMethod | None, str | None]] = [
        (events.SECOND_FACTOR_FAILED, method, None)
    ]
    if attempts >= MAX_ATTEMPTS:
        recorded.append((events.PENDING_LOGIN_VOIDED, method, None))
    # One event per backoff window: only the failure that opened it records one, so
    # refused attempts (which write nothing) cannot flood the owner's log.
    if not throttle.voids(key) and throttle.starts_backoff(failures):
        recorded.append((events.THROTTLED, method, None))
    recorded.extend((type_, method, detail) for type_, detail in wrong.also)
    for type_, event_method, detail in recorded:
        row = events.row(
            user_id=pending.user_id, type=type_, method=event_method, ctx=ctx, detail=detail
        )
        yield from events.insert_flow(dialect, row)
    yield Commit(tuple((type_, event_method) for type_, event_method, _ in recorded))
    if attempts >= MAX_ATTEMPTS:
        raise TooManyAttempts("Too many failed attempts: sign in again")
    remaining = MAX_ATTEMPTS - attempts
    raise InvalidCode(
        f"That did not work. {remaining} attempt{'s' if remaining != 1 else ''} left.",
        extra={"attempts_remaining": remaining},
    )
