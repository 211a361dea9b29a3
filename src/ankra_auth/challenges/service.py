"""Pending logins (``mfa_token``): started by a first factor, read and locked by the
second-factor step (``challenges.second_step``) that completes them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Row,
    Select,
    Update,
    and_,
    bindparam,
    case,
    exists,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from ankra_auth import two_factor_status as status
from ankra_auth.accounts import throttle
from ankra_auth.challenges.models import PendingLogin
from ankra_auth.db import UTCDateTime, table
from ankra_auth.device_tokens import service as device_tokens
from ankra_auth.errors import MfaTokenInvalid
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
class Pending:
    """An active pending login as read for its second factor (one Core row, no ORM object).

    ``row`` also carries what the factor's ``join`` added to the read (the TOTP device).
    """

    id: str
    user_id: str
    device_token_id: str | None
    sso_provider: str | None
    row: Row[Any]


@dataclass(frozen=True, slots=True)
class Named:
    """How an attempt names its pending login: the hash of its ``mfa_token`` (the sign-in
    API), or its id (a CLI hand-off, which never holds the token)."""

    by_token: bool
    value: str

    @classmethod
    def token(cls, mfa_token: str) -> Named:
        return cls(by_token=True, value=tokens.hash_token(mfa_token))

    @classmethod
    def id(cls, pending_login_id: str) -> Named:
        return cls(by_token=False, value=pending_login_id)


_PENDING = table(PendingLogin)
Join = Callable[[Select[Any]], Select[Any]]
_NOW = bindparam("now", type_=UTCDateTime)
_COLUMNS = ("id", "user_id", "device_token_id", "sso_provider", "expires_at", "finished_at")


def _named(by_token: bool) -> ColumnElement[bool]:
    return (_PENDING.c.token_hash if by_token else _PENDING.c.id) == bindparam("named")


def _still_active() -> list[ColumnElement[bool]]:
    return [
        _PENDING.c.finished_at.is_(None),
        _PENDING.c.expires_at > _NOW,
        _PENDING.c.failed_attempts < MAX_ATTEMPTS,
    ]


# The hot path's statements are built once, with bound parameters: building a statement
# and its cache key on every request costs more CPU than PostgreSQL takes to run it.
@lru_cache(maxsize=16)
def read_query(join: Join, *, by_token: bool) -> Select[Any]:
    """The pending login and what ``join`` adds (SQLite: once :func:`lock` holds it)."""
    columns = [_PENDING.c[name] for name in _COLUMNS]
    return join(select(*columns, _PENDING.c.failed_attempts).where(_named(by_token)))


@lru_cache(maxsize=2)
def lock(*, by_token: bool) -> Update:
    """SQLite: take the database's write lock on the active pending login before anything
    else (a no-op write): its attempts are then checked one after another."""
    return (
        update(_PENDING)
        .where(_named(by_token), *_still_active())
        .values(failed_attempts=_PENDING.c.failed_attempts)
        .returning(_PENDING.c.id)
    )


@lru_cache(maxsize=16)
def read_and_admit_query(join: Join, *, by_token: bool) -> Select[Any]:
    """PostgreSQL: lock the active pending login, reserve the attempt, and read both and
    what ``join`` adds, in one statement.

    The attempt counts on the login's device token while that is valid and not void,
    else on the account (``throttle.reserving``, the one admission). The read answers
    ``admitted`` and ``counter_key``; no row at all when the login is not active.
    """
    locked = (
        select(*(_PENDING.c[name] for name in _COLUMNS), _PENDING.c.failed_attempts)
        .where(_named(by_token), *_still_active())
        .with_for_update()
        .cte("pending")
    )
    token_key = literal(throttle.TOKEN_PREFIX) + device_tokens.TABLE.c.id
    void = exists(
        select(throttle.TABLE.c.key).where(
            throttle.TABLE.c.key == token_key, throttle.TABLE.c.blocked_until > _NOW
        )
    )
    on_token = (
        select(token_key.label("key"))
        .join(
            locked,
            and_(
                device_tokens.TABLE.c.id == locked.c.device_token_id,
                device_tokens.TABLE.c.user_id == locked.c.user_id,
            ),
        )
        .where(device_tokens.TABLE.c.expires_at > _NOW, ~void)
    )
    on_account = select((literal(throttle.MFA_PREFIX) + locked.c.user_id).label("key"))
    counter = union_all(on_token, on_account).cte("counter")
    # The first key of the two: the token's when it counts, else the account's.
    first_key = select(counter.c.key).limit(1).scalar_subquery()
    keyed = select(first_key.label("key")).where(exists(select(locked.c.id)))
    admitted = throttle.reserving(throttle.new_rows("postgresql", keyed)).cte("admitted")
    read = select(
        *(locked.c[name] for name in _COLUMNS),
        locked.c.failed_attempts,
        exists(select(admitted.c.key)).label("admitted"),
        first_key.label("counter_key"),
    ).select_from(locked)
    return join(read)


def no_join(query: Select[Any]) -> Select[Any]:
    """A factor that needs nothing read beside the pending login."""
    return query


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


_FINISH = (
    update(_PENDING)
    .where(_PENDING.c.id == bindparam("pending_id"), *_still_active())
    .values(finished_at=_NOW)
    .returning(_PENDING.c.id)
)
# Mark the pending login used; returns its id when this statement finished it.
FINISH: Update = _FINISH


def finish_after(spent: CTE) -> CTE:
    """:data:`FINISH` as a CTE that acts only when ``spent`` (the CTE spending the
    factor) returned a row."""
    return _FINISH.where(exists(select(spent.c[0]))).cte("finished_login")


# A failed attempt on the pending login; the fifth voids it (finished). Returns the count.
FAIL: Update = (
    update(_PENDING)
    .where(_PENDING.c.id == bindparam("pending_id"), _PENDING.c.finished_at.is_(None))
    .values(
        failed_attempts=_PENDING.c.failed_attempts + 1,
        finished_at=case(
            (_PENDING.c.failed_attempts + 1 >= MAX_ATTEMPTS, _NOW),
            else_=_PENDING.c.finished_at,
        ),
    )
    .returning(_PENDING.c.failed_attempts)
)


def device_token_of(db: Session, *, pending_login_id: str) -> str | None:
    """The device token a pending login was started with (the CLI exchange rotates it)."""
    return db.scalar(
        select(PendingLogin.device_token_id).where(PendingLogin.id == pending_login_id)
    )
