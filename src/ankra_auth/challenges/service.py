"""Pending logins (``mfa_token``) and the second-factor step that completes them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import CTE, Row, Select, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session

from ankra_auth import two_factor_status as status
from ankra_auth.accounts import throttle
from ankra_auth.challenges.models import PendingLogin
from ankra_auth.context import RequestContext
from ankra_auth.db import UTCDateTime, affected_rows, table
from ankra_auth.device_tokens import service as device_tokens
from ankra_auth.errors import InvalidCode, MfaTokenInvalid, TooManyAttempts
from ankra_auth.events import service as events
from ankra_auth.events.types import SignInMethod
from ankra_auth.security import tokens

PENDING_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class StartedLogin:
    mfa_token: str
    pending: PendingLogin


def start(
    db: Session,
    *,
    user_id: str,
    now: datetime,
    device_token_id: str | None = None,
    sso_provider: str | None = None,
) -> StartedLogin:
    """A pending login; ``device_token_id`` is the device token its password step counted on,
    ``sso_provider`` the provider when single sign-on was the first factor."""
    token = tokens.new_token()
    pending = PendingLogin(
        user_id=user_id,
        token_hash=tokens.hash_token(token),
        created_at=now,
        expires_at=now + PENDING_TTL,
        failed_attempts=0,
        device_token_id=device_token_id,
        sso_provider=sso_provider,
    )
    db.add(pending)
    db.commit()
    return StartedLogin(token, pending)


def methods_for(db: Session, user_id: str) -> list[str]:
    """What the user can use now, in the order the sign-in page offers them."""
    summary = status.summarize(db, user_id)
    methods = []
    if summary.passkey_count:
        methods.append("passkey")
    if summary.totp_enabled:
        methods.append("totp")
    if summary.recovery_codes_remaining:
        methods.append("recovery_code")
    return methods


def load_active(db: Session, *, mfa_token: str, now: datetime) -> PendingLogin:
    pending = db.scalar(
        select(PendingLogin).where(PendingLogin.token_hash == tokens.hash_token(mfa_token))
    )
    return _active(pending, now)


def load_active_by_id(db: Session, *, pending_login_id: str, now: datetime) -> PendingLogin:
    """For the CLI hand-off, which holds the pending login's id, never its token."""
    pending = db.scalar(select(PendingLogin).where(PendingLogin.id == pending_login_id))
    return _active(pending, now)


def resolve(
    db: Session, *, mfa_token: str | None, pending_login_id: str | None, now: datetime
) -> PendingLogin:
    """The active pending login named by its token (sign-in API) or its id (CLI hand-off)."""
    if mfa_token is not None:
        return load_active(db, mfa_token=mfa_token, now=now)
    if pending_login_id is not None:
        return load_active_by_id(db, pending_login_id=pending_login_id, now=now)
    raise TypeError("mfa_token or pending_login_id is required")


def _active(pending: PendingLogin | None, now: datetime) -> PendingLogin:
    if (
        pending is None
        or pending.finished_at is not None
        or pending.expires_at <= now
        or pending.failed_attempts >= MAX_ATTEMPTS
    ):
        raise MfaTokenInvalid("This sign-in has expired or was already used: sign in again")
    return pending


@dataclass(frozen=True, slots=True)
class _Counted:
    """Where an attempt was counted before its check: a device token, or the account."""

    device_token_id: str | None
    reservation: throttle.Reservation | None


def _count_attempt(db: Session, *, pending: Pending, ctx: RequestContext) -> _Counted:
    """Count the attempt before any factor is checked (commits); raises :class:`RateLimited`.

    On the device token the pending login was started with while that token is valid,
    else on the account's throttle, in the statement that checks its budget.
    """
    if pending.device_token_id is not None:
        token_id = device_tokens.count_attempt(
            db, token_id=pending.device_token_id, user_id=pending.user_id, now=ctx.now
        )
        if token_id is not None:
            return _Counted(device_token_id=token_id, reservation=None)
    reservation = throttle.reserve(db, key=throttle.mfa_key(pending.user_id), now=ctx.now)
    return _Counted(device_token_id=None, reservation=reservation)


def _record_failure(
    db: Session, *, pending: Pending, method: SignInMethod, ctx: RequestContext, counted: _Counted
) -> None:
    """Count a failed attempt on the pending login (the throttle counted it already), commit,
    and raise the right error."""
    attempts = db.scalar(
        update(PendingLogin)
        .where(
            PendingLogin.id == pending.id,
            PendingLogin.finished_at.is_(None),
            PendingLogin.failed_attempts < MAX_ATTEMPTS,
        )
        .values(failed_attempts=PendingLogin.failed_attempts + 1)
        .returning(PendingLogin.failed_attempts)
    )
    if attempts is None:  # voided or finished meanwhile by a concurrent request
        _note_backoff(db, pending=pending, method=method, ctx=ctx, counted=counted)
        db.commit()
        raise MfaTokenInvalid("This sign-in has expired or was already used: sign in again")
    events.record(
        db, user_id=pending.user_id, type=events.SECOND_FACTOR_FAILED, method=method, ctx=ctx
    )
    if attempts >= MAX_ATTEMPTS:
        db.execute(
            update(PendingLogin).where(PendingLogin.id == pending.id).values(finished_at=ctx.now)
        )
        events.record(
            db, user_id=pending.user_id, type=events.PENDING_LOGIN_VOIDED, method=method, ctx=ctx
        )
        _note_backoff(db, pending=pending, method=method, ctx=ctx, counted=counted)
        db.commit()
        raise TooManyAttempts("Too many failed attempts: sign in again")
    _note_backoff(db, pending=pending, method=method, ctx=ctx, counted=counted)
    db.commit()
    remaining = MAX_ATTEMPTS - attempts
    raise InvalidCode(
        f"That did not work. {remaining} attempt{'s' if remaining != 1 else ''} left.",
        extra={"attempts_remaining": remaining},
    )


def _note_backoff(
    db: Session, *, pending: Pending, method: SignInMethod, ctx: RequestContext, counted: _Counted
) -> None:
    """One ``throttled`` event per backoff window: only the failure that opened it records
    one, so refused attempts (which write nothing) cannot flood the owner's log."""
    if counted.reservation is not None and counted.reservation.starts_backoff:
        events.record(db, user_id=pending.user_id, type=events.THROTTLED, method=method, ctx=ctx)


@dataclass(frozen=True, slots=True)
class Pending:
    """An active pending login as read for its second factor (one Core row, no ORM object).

    ``row`` also carries what the factor's ``join`` added to the read (the TOTP device).
    """

    id: str
    user_id: str
    device_token_id: str | None
    sso_provider: str | None
    row: Row[Any]


_PENDING = table(PendingLogin)
Join = Callable[[Select[Any]], Select[Any]]


# The hot path's statements are built once, with bound parameters: building a statement
# and its cache key on every request costs more CPU than PostgreSQL takes to run it.
@lru_cache(maxsize=16)
def _read_query(join: Join, *, by_token: bool) -> Select[Any]:
    named_by = _PENDING.c.token_hash if by_token else _PENDING.c.id
    query = select(
        _PENDING.c.id,
        _PENDING.c.user_id,
        _PENDING.c.device_token_id,
        _PENDING.c.sso_provider,
        _PENDING.c.expires_at,
        _PENDING.c.finished_at,
        _PENDING.c.failed_attempts,
    ).where(named_by == bindparam("named"))
    return join(query)


_FINISH = (
    update(_PENDING)
    .where(
        _PENDING.c.id == bindparam("pending_id"),
        _PENDING.c.finished_at.is_(None),
        _PENDING.c.expires_at > bindparam("now", type_=UTCDateTime),
        _PENDING.c.failed_attempts < MAX_ATTEMPTS,
    )
    .values(finished_at=bindparam("now", type_=UTCDateTime))
)


def _read(
    db: Session, *, mfa_token: str | None, pending_login_id: str | None, now: datetime, join: Join
) -> Pending:
    """The active pending login and whatever ``join`` adds, in one SELECT; raises
    :class:`MfaTokenInvalid`."""
    if mfa_token is not None:
        query, named = _read_query(join, by_token=True), tokens.hash_token(mfa_token)
    elif pending_login_id is not None:
        query, named = _read_query(join, by_token=False), pending_login_id
    else:
        raise TypeError("mfa_token or pending_login_id is required")
    row = db.connection().execute(query, {"named": named}).first()
    return active_row(row, now)


def active_row(row: Row[Any] | None, now: datetime) -> Pending:
    """The pending login ``row`` read, if still active; raises :class:`MfaTokenInvalid`."""
    if (
        row is None
        or row.finished_at is not None
        or row.expires_at <= now
        or row.failed_attempts >= MAX_ATTEMPTS
    ):
        raise MfaTokenInvalid("This sign-in has expired or was already used: sign in again")
    return Pending(
        id=row.id,
        user_id=row.user_id,
        device_token_id=row.device_token_id,
        sso_provider=row.sso_provider,
        row=row,
    )


@lru_cache(maxsize=16)
def read_and_admit_query(join: Join, *, by_token: bool) -> Select[Any]:
    """PostgreSQL: :func:`_read_query` and :func:`_admit_success` in one statement.

    The admission is made only for an active pending login (the ``admitting`` CTE repeats
    :func:`_read`'s conditions), on its device token while that is valid, else on the
    account's throttle: the same rule, the same conditional writes, one round trip fewer.
    """
    named_by = _PENDING.c.token_hash if by_token else _PENDING.c.id
    now = bindparam("now", type_=UTCDateTime)
    active = (
        select(_PENDING.c.user_id, _PENDING.c.device_token_id)
        .where(
            named_by == bindparam("named"),
            _PENDING.c.finished_at.is_(None),
            _PENDING.c.expires_at > now,
            _PENDING.c.failed_attempts < MAX_ATTEMPTS,
        )
        .cte("admitting")
    )
    on_token = device_tokens.admit_from(active)
    on_account = throttle.admit_mfa_from(
        select(active.c.user_id).where(~exists(select(on_token.c.id)))
    )
    admitted = or_(exists(select(on_token.c.id)), exists(select(on_account.c.key)))
    return _read_query(join, by_token=by_token).add_columns(admitted.label("admitted"))


def read_and_admit(
    db: Session,
    *,
    mfa_token: str | None,
    pending_login_id: str | None,
    ctx: RequestContext,
    join: Join,
) -> tuple[Pending, bool]:
    """:func:`_read`, then :func:`_admit_success` for it; one round trip on PostgreSQL."""
    conn = db.connection()
    if conn.dialect.name != "postgresql":
        pending = _read(
            db, mfa_token=mfa_token, pending_login_id=pending_login_id, now=ctx.now, join=join
        )
        return pending, _admit_success(db, pending=pending, ctx=ctx)
    if mfa_token is not None:
        named, by_token = tokens.hash_token(mfa_token), True
    elif pending_login_id is not None:
        named, by_token = pending_login_id, False
    else:
        raise TypeError("mfa_token or pending_login_id is required")
    query = read_and_admit_query(join, by_token=by_token)
    row = conn.execute(query, {"named": named, "now": ctx.now}).first()
    return active_row(row, ctx.now), bool(row is not None and row.admitted)


def _no_join(query: Select[Any]) -> Select[Any]:
    return query


def read_active(
    db: Session, *, mfa_token: str | None, pending_login_id: str | None, now: datetime
) -> Pending:
    """:func:`resolve` as one Core row (``id``, ``user_id``, ``device_token_id``), no ORM
    object; raises :class:`MfaTokenInvalid`."""
    return _read(db, mfa_token=mfa_token, pending_login_id=pending_login_id, now=now, join=_no_join)


@lru_cache(maxsize=4)
def finish_after(spent: CTE) -> CTE:
    """:func:`_finish_row` as a CTE (``pending_id``, ``now``) that acts only when ``spent``
    (the CTE spending the factor) returned a row: it returns the pending login's id when
    this statement finished it."""
    return _FINISH.where(exists(select(spent.c[0]))).returning(_PENDING.c.id).cte("finished_login")


def _finish_row(db: Session, *, pending_id: str, now: datetime) -> bool:
    """Mark the pending login used; False when another request got there first."""
    result = db.connection().execute(_FINISH, {"pending_id": pending_id, "now": now})
    return affected_rows(result) == 1


def _admit_success(db: Session, *, pending: Pending, ctx: RequestContext) -> bool:
    """Admit an attempt expected to be right and reset its count, in one statement per
    counter (rolled back if it is not right); False when the counter refuses (backoff).

    The same budget rule as :func:`_count_attempt` (the device token while it is valid,
    else the account's throttle), and the same row, so a right answer is serialized with
    concurrent attempts' reservations: it gets in only if they have not used up the budget.
    """
    if pending.device_token_id is not None and device_tokens.admit(
        db, token_id=pending.device_token_id, user_id=pending.user_id, now=ctx.now
    ):
        return True
    return throttle.admit(db, key=throttle.mfa_key(pending.user_id), now=ctx.now)


def verify_second_factor(
    db: Session,
    *,
    mfa_token: str | None = None,
    pending_login_id: str | None = None,
    method: SignInMethod,
    ctx: RequestContext,
    check: Callable[[Pending], bool],
    join: Join = _no_join,
) -> Pending:
    """Run ``check`` (which spends the factor inside this transaction) and finish the login.

    The pending login is named by ``mfa_token`` or, for the CLI hand-off, ``pending_login_id``;
    ``join`` adds what ``check`` needs to the SELECT that reads it.
    Raises :class:`MfaTokenInvalid`, :class:`RateLimited`, :class:`InvalidCode` or
    :class:`TooManyAttempts`. On success the caller adds what the login grants and commits.

    A right answer takes one transaction: the attempt is admitted by the statement that
    checks its budget, then the factor and the pending login are spent by conditional
    UPDATEs, all or nothing. Anything else (a backoff, a wrong answer, a race lost) is
    rolled back and goes the counted way (:func:`verify_counted`), which reserves the
    attempt before checking again and answers with the right error.
    """
    pending, admitted = read_and_admit(
        db, mfa_token=mfa_token, pending_login_id=pending_login_id, ctx=ctx, join=join
    )
    # Admitted before the factor is looked at: while the account backs off, a right
    # answer is refused exactly as fast as a wrong one (no timing tells them apart).
    if admitted and check(pending) and _finish_row(db, pending_id=pending.id, now=ctx.now):
        return pending
    db.rollback()
    return verify_counted(
        db,
        mfa_token=mfa_token,
        pending_login_id=pending_login_id,
        method=method,
        ctx=ctx,
        check=check,
        join=join,
    )


def verify_counted(
    db: Session,
    *,
    mfa_token: str | None,
    pending_login_id: str | None,
    method: SignInMethod,
    ctx: RequestContext,
    check: Callable[[Pending], bool],
    join: Join,
) -> Pending:
    """The attempt is counted (device token or account) before ``check`` runs."""
    pending = _read(
        db, mfa_token=mfa_token, pending_login_id=pending_login_id, now=ctx.now, join=join
    )
    counted = _count_attempt(db, pending=pending, ctx=ctx)
    if check(pending):
        if _finish_row(db, pending_id=pending.id, now=ctx.now):
            if counted.reservation is not None:
                throttle.reset(db, key=counted.reservation.key)
            elif counted.device_token_id is not None:
                device_tokens.reset(db, token_id=counted.device_token_id)
            return pending
        # Keep the factor unspent: this login was finished elsewhere. The attempt stays
        # counted until that login's success resets the count.
        db.rollback()
        raise MfaTokenInvalid("This sign-in has expired or was already used: sign in again")
    db.rollback()
    _record_failure(db, pending=pending, method=method, ctx=ctx, counted=counted)
    raise AssertionError("unreachable")  # pragma: no cover


def device_token_of(db: Session, *, pending_login_id: str) -> str | None:
    """The device token a pending login was started with (the CLI exchange rotates it)."""
    return db.scalar(
        select(PendingLogin.device_token_id).where(PendingLogin.id == pending_login_id)
    )
