"""WebAuthn challenges kept in the database: any instance can finish a ceremony, once."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import ColumnElement, Update, bindparam, delete, or_, update
from sqlalchemy.orm import Session

from ankra_auth.db import UTCDateTime, table
from ankra_auth.passkeys.models import WebAuthnChallenge

REGISTRATION = "registration"
AUTHENTICATION = "authentication"
# A passkey alone: no owner until the assertion names one, and kept only as a hash.
PASSKEY_SIGN_IN = "passkey_sign_in"
CHALLENGE_TTL = timedelta(minutes=5)


def _check_one_owner(*, user_id: str | None, pending_login_id: str | None) -> None:
    if (user_id is None) == (pending_login_id is None):
        raise ValueError("a challenge belongs to a user or to a pending login, not both")


def _owner(*, user_id: str | None, pending_login_id: str | None) -> ColumnElement[bool]:
    _check_one_owner(user_id=user_id, pending_login_id=pending_login_id)
    if user_id is not None:
        return WebAuthnChallenge.user_id == user_id
    return WebAuthnChallenge.pending_login_id == pending_login_id


def store(
    db: Session,
    *,
    challenge: bytes,
    purpose: str,
    now: datetime,
    user_id: str | None = None,
    pending_login_id: str | None = None,
) -> None:
    """Remember a new challenge (not committed); the owner's spent ones are cleared on the way."""
    owner = _owner(user_id=user_id, pending_login_id=pending_login_id)
    db.execute(
        delete(WebAuthnChallenge).where(
            owner, or_(WebAuthnChallenge.used_at.is_not(None), WebAuthnChallenge.expires_at <= now)
        )
    )
    db.add(
        WebAuthnChallenge(
            challenge=challenge,
            purpose=purpose,
            user_id=user_id,
            pending_login_id=pending_login_id,
            created_at=now,
            expires_at=now + CHALLENGE_TTL,
        )
    )


def consume(
    db: Session,
    *,
    challenge: bytes,
    purpose: str,
    now: datetime,
    user_id: str | None = None,
    pending_login_id: str | None = None,
) -> bool:
    """Spend the challenge (not committed); False when unknown, someone else's, expired or used."""
    _check_one_owner(user_id=user_id, pending_login_id=pending_login_id)
    if db.autoflush:  # what the ORM statement this replaces would have flushed first
        db.flush()
    result = db.connection().execute(
        _spend(by_user=user_id is not None),
        {
            "spent": challenge,
            "of_purpose": purpose,
            "owner": user_id or pending_login_id,
            "now": now,
        },
    )
    return result.first() is not None  # RETURNING: the row, not the row count, decides


_CHALLENGES = table(WebAuthnChallenge)


# Core, built once (the passkey sign-in spends one per request): no ORM statement handling.
def _spend_owned(owned: ColumnElement[bool]) -> Update:
    now = bindparam("now", type_=UTCDateTime)
    return (
        update(_CHALLENGES)
        .where(
            _CHALLENGES.c.challenge == bindparam("spent"),
            _CHALLENGES.c.purpose == bindparam("of_purpose"),
            owned,
            _CHALLENGES.c.used_at.is_(None),
            _CHALLENGES.c.expires_at > now,
        )
        .values(used_at=now)
        .returning(_CHALLENGES.c.id)
    )


@lru_cache(maxsize=2)
def _spend(*, by_user: bool) -> Update:
    owner = _CHALLENGES.c.user_id if by_user else _CHALLENGES.c.pending_login_id
    return _spend_owned(owner == bindparam("owner"))


def spend_issued_for(pending_login_id: ColumnElement[str]) -> Update:
    """:data:`SPEND_FOR_PENDING_LOGIN` whose owner is a column of the statement it is part
    of (the pending login an admission locks), not a parameter."""
    return _spend_owned(_CHALLENGES.c.pending_login_id == pending_login_id)


# Spend a sign-in's challenge, issued for the pending login ``owner`` (a flow's statement:
# ``spent``, ``of_purpose``, ``owner``, ``now``); returns a row only when it spent it.
SPEND_FOR_PENDING_LOGIN = _spend(by_user=False)


def sign_in_hash(challenge: bytes) -> bytes:
    """How a passkey-alone challenge is kept and found: its SHA-256, never the value."""
    return hashlib.sha256(challenge).digest()


def store_sign_in(db: Session, *, challenge: bytes, now: datetime) -> None:
    """Remember a passkey-alone challenge (not committed): 5 minutes, single use, hashed."""
    db.add(
        WebAuthnChallenge(
            challenge=sign_in_hash(challenge),
            purpose=PASSKEY_SIGN_IN,
            created_at=now,
            expires_at=now + CHALLENGE_TTL,
        )
    )


# Spend a passkey-alone challenge by its hash (``spent``, ``now``); a row only when it did.
# One issued for a second-factor step or a registration has another purpose: not found.
SPEND_SIGN_IN = (
    update(_CHALLENGES)
    .where(
        _CHALLENGES.c.challenge == bindparam("spent"),
        _CHALLENGES.c.purpose == PASSKEY_SIGN_IN,
        _CHALLENGES.c.used_at.is_(None),
        _CHALLENGES.c.expires_at > bindparam("now", type_=UTCDateTime),
    )
    .values(used_at=bindparam("now", type_=UTCDateTime))
    .returning(_CHALLENGES.c.id)
)
