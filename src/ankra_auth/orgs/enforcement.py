"""Whether an organisation's 2FA requirement currently restricts a user.

Only active members count: a ``Membership`` row exists only once its user accepted an
invitation (or created the organisation), so an invitation never restricts anybody.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, true
from sqlalchemy.orm import Session

from ankra_auth import two_factor_status as status
from ankra_auth.db import table
from ankra_auth.orgs.models import Membership, Org
from ankra_auth.passkeys.models import Passkey
from ankra_auth.totp.models import TotpDevice


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


_ORGS, _MEMBERSHIPS = table(Org), table(Membership)
# Built once, run as Core on the session's connection: this runs on every authenticated
# request and sign-in, and the ORM's statement handling cost more than the query.
_ANY_ENFORCING = (
    select(_MEMBERSHIPS.c.org_id)
    .join(_ORGS, _ORGS.c.id == _MEMBERSHIPS.c.org_id)
    .where(_MEMBERSHIPS.c.user_id == bindparam("user_id"), _ORGS.c.require_two_factor == true())
    .limit(1)
)


def enrollment_required(db: Session, user_id: str) -> bool:
    """True while an enforcing organisation has a member without 2FA."""
    if db.autoflush:  # what an ORM query would see: memberships added in this session
        db.flush()
    enforced = db.connection().execute(_ANY_ENFORCING, {"user_id": user_id}).first() is not None
    return enforced and not status.two_factor_enabled(db, user_id)


def with_two_factor(db: Session, user_ids: list[str]) -> set[str]:
    """Which of these users have 2FA on (two queries, however many users)."""
    if not user_ids:
        return set()
    totp = select(TotpDevice.user_id).where(
        TotpDevice.user_id.in_(user_ids), TotpDevice.confirmed_at.is_not(None)
    )
    passkeys = select(Passkey.user_id).where(Passkey.user_id.in_(user_ids)).distinct()
    return set(db.scalars(totp)) | set(db.scalars(passkeys))
