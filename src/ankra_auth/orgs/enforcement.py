"""Whether an organisation's requirement currently restricts a user's session.

Only active members count: a ``Membership`` row exists only once its user accepted an
invitation (or created the organisation), so an invitation never restricts anybody.

What an organisation requires (``require_two_factor``, and with ``require_passkey`` a
passkey, used to sign in) restricts a session unless the member is within the grace
period (``memberships.due_at`` in the future). The rule is one SQL expression,
:data:`_RESTRICTS`, used both by the hot-path check (one query, on every sign-in and
authenticated request) and by :func:`requirements` (what the profile shows), so the two
can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import (
    BindParameter,
    Boolean,
    String,
    and_,
    bindparam,
    exists,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from ankra_auth.accounts.models import AuthSession
from ankra_auth.db import UTCDateTime, table
from ankra_auth.orgs.models import Membership, Org
from ankra_auth.passkeys.models import Passkey
from ankra_auth.totp.models import TotpDevice

Required = Literal["two_factor", "passkey"]
# "enroll": the account lacks what is required; "use_passkey": it has a passkey, but this
# session did not sign in with one (nor add one).
Restriction = Literal["enroll", "use_passkey"]
TWO_FACTOR: Required = "two_factor"
PASSKEY: Required = "passkey"

_ORGS, _MEMBERSHIPS = table(Org), table(Membership)
_PASSKEYS, _TOTP = table(Passkey), table(TotpDevice)
_USER: BindParameter[str] = bindparam("user_id", type_=String)
_NOW = bindparam("now", type_=UTCDateTime)
_PASSKEY_SESSION = bindparam("passkey_session", type_=Boolean)

_HAS_PASSKEY = exists(select(_PASSKEYS.c.id).where(_PASSKEYS.c.user_id == _USER))
_HAS_TOTP = exists(
    select(_TOTP.c.user_id).where(_TOTP.c.user_id == _USER, _TOTP.c.confirmed_at.is_not(None))
)
_HAS_TWO_FACTOR = or_(_HAS_PASSKEY, _HAS_TOTP)
# The account has what the organisation requires.
_MET = or_(
    and_(_ORGS.c.require_passkey == true(), _HAS_PASSKEY),
    and_(not_(_ORGS.c.require_passkey == true()), _HAS_TWO_FACTOR),
)
_IN_GRACE = and_(_MEMBERSHIPS.c.due_at.is_not(None), _MEMBERSHIPS.c.due_at > _NOW)
# Outside the grace period: the requirement unmet, or passkeys required of a session that
# did not prove one.
_RESTRICTS = and_(
    not_(_IN_GRACE),
    or_(
        not_(_MET),
        and_(_ORGS.c.require_passkey == true(), not_(_PASSKEY_SESSION)),
    ),
)
_ENFORCING = and_(
    _MEMBERSHIPS.c.user_id == _USER,
    _ORGS.c.require_two_factor == true(),
)
_JOINED = _MEMBERSHIPS.join(_ORGS, _ORGS.c.id == _MEMBERSHIPS.c.org_id)

# Built once, run as Core on the session's connection: this runs on every authenticated
# request and sign-in, and the ORM's statement handling cost more than the query. One
# query: a user in no enforcing organisation (the common case) reads one index entry;
# the factor EXISTS run only for enforcing memberships.
RESTRICTING = (
    select(_MEMBERSHIPS.c.org_id).select_from(_JOINED).where(_ENFORCING, _RESTRICTS).limit(1)
)
# The same as a column: read with a sign-in's grant, in its one statement on PostgreSQL.
RESTRICTS_SESSION = exists(RESTRICTING)

_REQUIREMENTS = (
    select(
        _ORGS.c.id,
        _ORGS.c.name,
        _ORGS.c.require_passkey,
        _MEMBERSHIPS.c.due_at,
        _MET.label("met"),
        _RESTRICTS.label("restricts"),
    )
    .select_from(_JOINED)
    .where(_ENFORCING)
    .order_by(_ORGS.c.name, _ORGS.c.id)
)


def params(*, user_id: str, passkey_session: bool, now: datetime) -> dict[str, object]:
    """What :data:`RESTRICTING` binds (for a flow's ``Run``)."""
    return {"user_id": user_id, "passkey_session": passkey_session, "now": now}


@dataclass(frozen=True, slots=True)
class Requirement:
    """One organisation's requirement as it applies to a member and one of their sessions."""

    org_id: str
    name: str
    required: Required
    # When the grace period ends (None: no grace applies, or it was met).
    due_at: datetime | None
    met: bool  # the account has what is required
    restriction: Restriction | None  # what restricts this session now


def restricted(db: Session, *, user_id: str, passkey_session: bool, now: datetime) -> bool:
    """True while an organisation's requirement restricts this session (the hot path)."""
    if db.autoflush:  # what an ORM query would see: memberships added in this session
        db.flush()
    found = db.connection().execute(
        RESTRICTING, params(user_id=user_id, passkey_session=passkey_session, now=now)
    )
    return found.first() is not None


def session_restricted(db: Session, session: AuthSession, now: datetime) -> bool:
    """:func:`restricted` for a stored session."""
    return restricted(db, user_id=session.user_id, passkey_session=proved_passkey(session), now=now)


def proved_passkey(session: AuthSession) -> bool:
    return session.passkey_at is not None


def requirements(
    db: Session, *, user_id: str, passkey_session: bool, now: datetime
) -> list[Requirement]:
    """The user's enforcing organisations, by name, each with what it asks of this session."""
    rows = db.connection().execute(
        _REQUIREMENTS, params(user_id=user_id, passkey_session=passkey_session, now=now)
    )
    found = []
    for org_id, name, require_passkey, due_at, met, restricts in rows:
        restriction: Restriction | None = None
        if restricts:
            restriction = "use_passkey" if met else "enroll"
        found.append(
            Requirement(
                org_id=org_id,
                name=name,
                required=PASSKEY if require_passkey else TWO_FACTOR,
                due_at=None if met else due_at,
                met=bool(met),
                restriction=restriction,
            )
        )
    return found


def enforcing_orgs(db: Session, user_id: str) -> list[Org]:
    """The user's organisations that require 2FA, by name."""
    return list(
        db.scalars(
            select(Org)
            .join(Membership, Membership.org_id == Org.id)
            .where(Membership.user_id == user_id, Org.require_two_factor.is_(True))
            .order_by(Org.name)
        )
    )


def with_two_factor(db: Session, user_ids: list[str]) -> set[str]:
    """Which of these users have 2FA on (two queries, however many users)."""
    methods = methods_of(db, user_ids)
    return {user_id for user_id, kinds in methods.items() if kinds}


def methods_of(db: Session, user_ids: list[str]) -> dict[str, list[str]]:
    """The kinds of factor each user has, ``passkey`` then ``totp`` (two queries, however many
    users). Recovery codes are a fallback, not a kind: never listed."""
    if not user_ids:
        return {}
    totp = set(
        db.scalars(
            select(TotpDevice.user_id).where(
                TotpDevice.user_id.in_(user_ids), TotpDevice.confirmed_at.is_not(None)
            )
        )
    )
    passkeys = set(
        db.scalars(select(Passkey.user_id).where(Passkey.user_id.in_(user_ids)).distinct())
    )
    return {
        user_id: [kind for kind, has in (("passkey", passkeys), ("totp", totp)) if user_id in has]
        for user_id in user_ids
    }
