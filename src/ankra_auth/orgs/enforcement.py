"""Whether an organisation's 2FA requirement currently restricts a user."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ankra_auth import two_factor_status as status
from ankra_auth.orgs.models import Membership, Org


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


def enrollment_required(db: Session, user_id: str) -> bool:
    """True while an enforcing organisation has a member without 2FA."""
    return bool(enforcing_orgs(db, user_id)) and not status.two_factor_enabled(db, user_id)
