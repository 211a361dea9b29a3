"""Device tokens: sign-in attempts from a known device count on its token, not the account.

After OWASP's "device cookies": a flood of wrong passwords or codes from elsewhere puts
the account (or email) into backoff, but a sign-in that presents a valid token of that
account is counted on the token's own budget instead (``accounts.throttle``, key
``token:<id>``), so the owner's known browsers and terminals still get in. A token whose
budget collects 10 failures is void, and such sign-ins are throttled like any other.
Every authenticated answer carries a fresh token; the one the sign-in was counted on is
retired (rotation), so a copied token stops working at the owner's next sign-in from
that device.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, insert, or_, select
from sqlalchemy.orm import Session

from ankra_auth.db import UTCDateTime, new_id, table
from ankra_auth.device_tokens.models import DeviceToken
from ankra_auth.security import tokens

_TOKENS = table(DeviceToken)
TOKEN_TTL = timedelta(days=365)
# Clients that never send the token back (scripts) must not grow the table without bound.
MAX_PER_ACCOUNT = 20


def _valid(which: ColumnElement[bool]) -> Select[Any]:
    return select(_TOKENS.c.id).where(
        which,
        _TOKENS.c.user_id == bindparam("owner"),
        _TOKENS.c.expires_at > bindparam("now", type_=UTCDateTime),
    )


# A valid token of ``owner``: named by its value's hash (a password step), or by its id (the
# one a pending login was started with). Returns its id; attempts then count on its key.
VALID_BY_HASH = _valid(_TOKENS.c.token_hash == bindparam("token_hash"))
VALID_BY_ID = _valid(_TOKENS.c.id == bindparam("token_id"))


def valid_id(db: Session, *, token: str | None, user_id: str, now: datetime) -> str | None:
    """The id of ``token`` when it is a valid token of ``user_id`` (void or not: the
    admission passes over a void one), else None."""
    if token is None:
        return None
    return valid_id_of_hash(db, token_hash=tokens.hash_token(token), user_id=user_id, now=now)


def valid_id_of_hash(
    db: Session, *, token_hash: str | None, user_id: str, now: datetime
) -> str | None:
    """:func:`valid_id` for a token known by its hash (kept on an SSO flow or a hand-off)."""
    if token_hash is None:
        return None
    found = db.connection().execute(
        VALID_BY_HASH, {"token_hash": token_hash, "owner": user_id, "now": now}
    )
    token_id: str | None = found.scalar()
    return token_id


# One statement, so concurrent sign-ins of one account lock rows in one order.
_CLEAN_UP = delete(_TOKENS).where(
    _TOKENS.c.user_id == bindparam("owner"),
    or_(
        _TOKENS.c.id == bindparam("retire_id"),
        _TOKENS.c.expires_at <= bindparam("now", type_=UTCDateTime),
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

    Also drops the account's expired tokens and all but the newest ``MAX_PER_ACCOUNT``.
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
    }
