"""Device tokens: sign-in attempts from a known device count on its token, not the account.

After OWASP's "device cookies": a flood of wrong passwords or codes from elsewhere puts
the account (or email) into backoff, but a sign-in that presents a valid token of that
account is counted on the token instead, so the owner's known browsers and terminals
still get in. A token that collects ``MAX_FAILURES`` is void, and such sign-ins are
throttled like any other. Every authenticated answer carries a fresh token; the one
the sign-in was counted on is retired (rotation), so a copied token stops working at
the owner's next sign-in from that device.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import CTE, bindparam, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from ankra_auth.db import UTCDateTime, affected_rows, new_id, table
from ankra_auth.device_tokens.models import DeviceToken
from ankra_auth.security import tokens

_TOKENS = table(DeviceToken)
TOKEN_TTL = timedelta(days=365)
MAX_FAILURES = 10
# Clients that never send the token back (scripts) must not grow the table without bound.
MAX_PER_ACCOUNT = 20


def count_attempt(
    db: Session,
    *,
    user_id: str,
    now: datetime,
    token: str | None = None,
    token_id: str | None = None,
) -> str | None:
    """Count one attempt on the valid token (by value, or by id for a pending login); commits.

    The check and the count are one conditional UPDATE, so of concurrent attempts at
    most ``MAX_FAILURES`` are ever counted on one token. Returns the token's id, or None
    when it is unknown, expired, void or of another account: the caller then counts the
    attempt on the account's own throttle.
    """
    if token is not None:
        which = DeviceToken.token_hash == tokens.hash_token(token)
    elif token_id is not None:
        which = DeviceToken.id == token_id
    else:
        return None
    counted = db.scalar(
        update(DeviceToken)
        .where(
            which,
            DeviceToken.user_id == user_id,
            DeviceToken.expires_at > now,
            DeviceToken.failures < MAX_FAILURES,
        )
        .values(failures=DeviceToken.failures + 1)
        .returning(DeviceToken.id)
    )
    db.commit()
    return counted


def admit(db: Session, *, token_id: str, user_id: str, now: datetime) -> bool:
    """A right answer counted on the valid token ``token_id``: its count starts again.

    The same condition as :func:`count_attempt` in one UPDATE (not committed); False when
    the token is unknown, expired, void or another account's (the account counts instead).
    """
    admitted = db.connection().execute(_ADMIT, {"token_id": token_id, "owner": user_id, "now": now})
    return affected_rows(admitted) == 1


def admit_from(pending: CTE) -> CTE:
    """:func:`admit` for the token ``pending`` names (its ``device_token_id`` and
    ``user_id`` columns), as a CTE for a statement that reads and admits in one round trip
    (PostgreSQL); it returns the token's id when admitted."""
    return (
        update(_TOKENS)
        .where(
            _TOKENS.c.id == pending.c.device_token_id,
            _TOKENS.c.user_id == pending.c.user_id,
            _TOKENS.c.expires_at > bindparam("now", type_=UTCDateTime),
            _TOKENS.c.failures < MAX_FAILURES,
        )
        .values(failures=0)
        .returning(_TOKENS.c.id)
        .cte("admitted_token")
    )


def release(db: Session, *, token_id: str) -> None:
    """Take back one counted attempt that turned out right (a password before its factor)."""
    db.execute(
        update(DeviceToken)
        .where(DeviceToken.id == token_id, DeviceToken.failures > 0)
        .values(failures=DeviceToken.failures - 1)
    )


def reset(db: Session, *, token_id: str) -> None:
    """A completed second factor: the token's count starts again."""
    db.execute(update(DeviceToken).where(DeviceToken.id == token_id).values(failures=0))


_ADMIT = (
    update(_TOKENS)
    .where(
        _TOKENS.c.id == bindparam("token_id"),
        _TOKENS.c.user_id == bindparam("owner"),
        _TOKENS.c.expires_at > bindparam("now", type_=UTCDateTime),
        _TOKENS.c.failures < MAX_FAILURES,
    )
    .values(failures=0)
)
# One statement, so concurrent sign-ins of one account lock rows in one order.
_CLEAN_UP = delete(_TOKENS).where(
    _TOKENS.c.user_id == bindparam("owner"),
    or_(
        _TOKENS.c.id == bindparam("retire_id"),
        _TOKENS.c.expires_at <= bindparam("now", type_=UTCDateTime),
        _TOKENS.c.failures >= MAX_FAILURES,
        _TOKENS.c.id.not_in(
            select(_TOKENS.c.id)
            .where(_TOKENS.c.user_id == bindparam("owner"))
            .order_by(_TOKENS.c.created_at.desc(), _TOKENS.c.id.desc())
            .limit(MAX_PER_ACCOUNT - 1)
            .scalar_subquery()
        ),
    ),
)
_INSERT = insert(_TOKENS)
# For the sign-in's combined write (signin.rows): the same clean-up, on the same table.
TABLE = _TOKENS
CLEAN_UP = _CLEAN_UP


def issue(db: Session, *, user_id: str, now: datetime, retire_id: str | None = None) -> str:
    """A new token for ``user_id`` (inserted, not committed); ``retire_id`` is the one it replaces.

    Also drops the account's void and expired tokens and all but the newest
    ``MAX_PER_ACCOUNT``.
    """
    conn = db.connection()
    conn.execute(_CLEAN_UP, {"owner": user_id, "retire_id": retire_id, "now": now})
    token, values = new_values(user_id=user_id, now=now)
    conn.execute(_INSERT, values)
    return token


def new_values(*, user_id: str, now: datetime) -> tuple[str, dict[str, object]]:
    """A fresh token and the row that stores it (its hash)."""
    token = tokens.new_token()
    return token, {
        "id": new_id(),
        "user_id": user_id,
        "token_hash": tokens.hash_token(token),
        "created_at": now,
        "expires_at": now + TOKEN_TTL,
        "failures": 0,
    }
