"""Organisations, their members, and the switch that makes 2FA mandatory for all of them.

Who may do what:

- Only owners change an organisation, invite members (see ``invitations``) and
  list members and invitations.
- Owners remove anyone, themselves included, as long as another owner remains
  (409 ``last_owner``), and withdraw invitations; a member may remove only
  themselves (leave).
- Someone who is not an active member is told the organisation does not exist
  (404 ``not_found``), exactly as for an unknown id, so organisation ids do not leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ankra_auth import two_factor_status as status
from ankra_auth.accounts import windows
from ankra_auth.accounts.models import User
from ankra_auth.context import RequestContext
from ankra_auth.db import affected_rows
from ankra_auth.errors import Forbidden, LastOwner, NotFound, OwnerTwoFactorRequired
from ankra_auth.events import service as events
from ankra_auth.events.types import EventType
from ankra_auth.orgs import invitations
from ankra_auth.orgs.access import (
    OWNER,
    lock_org,
    quoted,
    require_member,
    require_owner,
    well_formed,
)
from ankra_auth.orgs.enforcement import with_two_factor
from ankra_auth.orgs.models import Membership, Org

ACTIVE = "active"
INVITED = "invited"


@dataclass(frozen=True, slots=True)
class OrgView:
    org: Org
    role: str


@dataclass(frozen=True, slots=True)
class MemberView:
    user_id: str
    email: str
    role: str
    status: str  # ACTIVE | INVITED
    two_factor_enabled: bool | None  # shown for active members only
    email_verified: bool


# Each invitation writes into someone's security log: creating organisations (to invite
# from) and inviting are limited per account, so nobody can flood anyone's log.
ORGS_PER_DAY = 10
CREATION_WINDOW = timedelta(days=1)


def create(db: Session, *, user_id: str, name: str, now: datetime) -> OrgView:
    """A new organisation owned by its creator; raises :class:`RateLimited` past
    :data:`ORGS_PER_DAY` organisations a day."""
    windows.take(db, key=f"orgs:{user_id}", budget=ORGS_PER_DAY, window=CREATION_WINDOW, now=now)
    org = Org(name=name, require_two_factor=False, created_at=now, created_by=user_id)
    db.add(org)
    db.flush()
    db.add(Membership(org_id=org.id, user_id=user_id, role=OWNER, created_at=now))
    db.commit()
    return OrgView(org, OWNER)


def list_for_user(db: Session, *, user_id: str) -> list[OrgView]:
    """The organisations the user is an active member of (invitations are listed apart)."""
    rows = db.execute(
        select(Org, Membership.role)
        .join(Membership, Membership.org_id == Org.id)
        .where(Membership.user_id == user_id)
        .order_by(Org.name, Org.id)
    )
    return [OrgView(org, role) for org, role in rows]


def set_require_two_factor(
    db: Session, *, org_id: str, user_id: str, require: bool, ctx: RequestContext
) -> OrgView:
    """Switch the 2FA requirement; every member's security log says so, in the same commit.

    Raises :class:`NotFound`, :class:`Forbidden` (not an owner) or
    :class:`OwnerTwoFactorRequired` (switching it on without 2FA of one's own).
    Setting the value it already has changes nothing and records nothing.
    """
    org = lock_org(db, org_id)
    require_owner(db, org_id=org_id, user_id=user_id)
    if require and not status.two_factor_enabled(db, user_id):
        raise OwnerTwoFactorRequired(
            "Turn on two-factor authentication for yourself before requiring it of others"
        )
    if org.require_two_factor != require:
        org.require_two_factor = require
        kind: EventType = (
            events.ORG_ENFORCEMENT_ENABLED if require else events.ORG_ENFORCEMENT_DISABLED
        )
        members = db.scalars(select(Membership.user_id).where(Membership.org_id == org_id))
        for member_id in members:
            events.record(db, user_id=member_id, type=kind, ctx=ctx, detail=quoted(org.name))
    db.commit()
    return OrgView(org, OWNER)


def list_members(db: Session, *, org_id: str, actor_id: str, now: datetime) -> list[MemberView]:
    """Active members, then open invitations, each by email; 2FA status of members only."""
    require_owner(db, org_id=org_id, user_id=actor_id)
    rows = list(
        db.execute(
            select(User.id, User.email, Membership.role, User.email_verified_at)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.org_id == org_id)
            .order_by(User.email)
        )
    )
    secured = with_two_factor(db, [user_id for user_id, _, _, _ in rows])
    active = [
        MemberView(user_id, email, role, ACTIVE, user_id in secured, verified_at is not None)
        for user_id, email, role, verified_at in rows
    ]
    invited = [
        MemberView(i.user_id, i.email, i.role, INVITED, None, i.email_verified)
        for i in invitations.invited_to(db, org_id=org_id, now=now)
    ]
    return active + invited


def remove_member(
    db: Session, *, org_id: str, actor_id: str, user_id: str, ctx: RequestContext
) -> None:
    """Remove a member or withdraw an invitation (an owner), or leave (any member).

    Never the last owner. Race-safe: the organisation row is locked, the membership
    deleted, and the owners that remain counted inside the same transaction, which
    rolls back at zero. The security log of the one removed says so.
    """
    org = lock_org(db, org_id)
    actor_role = require_member(db, org_id=org_id, user_id=actor_id)
    leaving = user_id == actor_id
    if not leaving and actor_role != OWNER:
        raise Forbidden("Only an owner can remove other members")
    if not well_formed(user_id):
        raise NotFound("That user is neither a member of this organisation nor invited")
    removed = db.execute(
        delete(Membership).where(Membership.org_id == org_id, Membership.user_id == user_id)
    )
    if affected_rows(removed) != 1:
        if invitations.withdraw(db, org=org, user_id=user_id, ctx=ctx):
            db.commit()
            return
        db.rollback()
        raise NotFound("That user is neither a member of this organisation nor invited")
    owners = db.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.org_id == org_id, Membership.role == OWNER)
    )
    if not owners:
        db.rollback()
        raise LastOwner("An organisation needs at least one owner: invite another owner first")
    kind: EventType = events.ORG_LEFT if leaving else events.ORG_MEMBER_REMOVED
    events.record(db, user_id=user_id, type=kind, ctx=ctx, detail=quoted(org.name))
    db.commit()
