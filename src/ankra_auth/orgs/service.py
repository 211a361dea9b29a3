"""Organisations, their members, and the policy that makes 2FA (or passkeys) mandatory for
all of them, with a grace period (``grace``).

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
from ankra_auth.errors import (
    Forbidden,
    LastOwner,
    NotFound,
    OwnerPasskeyRequired,
    OwnerTwoFactorRequired,
)
from ankra_auth.events import service as events
from ankra_auth.events.types import EventType
from ankra_auth.orgs import grace, invitations
from ankra_auth.orgs import log as org_log
from ankra_auth.orgs.access import (
    OWNER,
    lock_org,
    quoted,
    require_member,
    require_owner,
    well_formed,
)
from ankra_auth.orgs.enforcement import methods_of
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
    methods: list[str] | None = None  # kinds of factor: active members only
    due_at: datetime | None = None  # the end of an active member's grace period


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """A ``PATCH``: the fields given, None for those left as they are."""

    require_two_factor: bool | None = None
    require_passkey: bool | None = None
    grace_days: int | None = None

    def applied_to(self, old: grace.Policy) -> grace.Policy:
        two_factor = (
            old.require_two_factor if self.require_two_factor is None else self.require_two_factor
        )
        passkey = old.require_passkey if self.require_passkey is None else self.require_passkey
        if self.require_passkey:  # passkeys are two-factor
            two_factor = True
        if self.require_two_factor is False:  # nothing required: no passkey either
            passkey = False
        days = old.grace_days if self.grace_days is None else self.grace_days
        return grace.Policy(two_factor, passkey, days)


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
    org_log.record(
        db, org_id=org.id, user_id=user_id, type=org_log.ORG_CREATED, now=now, data={"name": name}
    )
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


def set_policy(
    db: Session, *, org_id: str, user_id: str, change: PolicyChange, ctx: RequestContext
) -> OrgView:
    """Change what the organisation requires; the organisation's log records the old and new
    policy, every member's security log a requirement switched on or off, and every
    member's grace period follows (``grace``), all in one commit.

    Raises :class:`NotFound`, :class:`Forbidden` (not an owner),
    :class:`OwnerTwoFactorRequired` (requiring 2FA without 2FA of one's own) or
    :class:`OwnerPasskeyRequired` (requiring passkeys without a passkey of one's own).
    Setting the values it already has changes nothing and records nothing.
    """
    org = lock_org(db, org_id)
    require_owner(db, org_id=org_id, user_id=user_id)
    old = grace.Policy.of(org)
    new = change.applied_to(old)
    if change.require_passkey and status.passkey_count(db, user_id) == 0:
        raise OwnerPasskeyRequired("Add a passkey for yourself before requiring passkeys of others")
    if change.require_two_factor and not status.two_factor_enabled(db, user_id):
        raise OwnerTwoFactorRequired(
            "Turn on two-factor authentication for yourself before requiring it of others"
        )
    if new != old:
        org.require_two_factor = new.require_two_factor
        org.require_passkey = new.require_passkey
        org.grace_days = new.grace_days
        grace.on_policy_change(db, org=org, old=old, now=ctx.now)
        org_log.record(
            db,
            org_id=org_id,
            user_id=user_id,
            type=org_log.POLICY_CHANGED,
            now=ctx.now,
            data={"old": old.as_dict(), "new": new.as_dict()},
        )
        _tell_members(db, org=org, old=old, new=new, ctx=ctx)
    db.commit()
    return OrgView(org, OWNER)


def _tell_members(
    db: Session, *, org: Org, old: grace.Policy, new: grace.Policy, ctx: RequestContext
) -> None:
    """Each member's security log says when a requirement was switched on or off."""
    if old.require_two_factor == new.require_two_factor:
        return
    kind: EventType = (
        events.ORG_ENFORCEMENT_ENABLED
        if new.require_two_factor
        else events.ORG_ENFORCEMENT_DISABLED
    )
    members = db.scalars(select(Membership.user_id).where(Membership.org_id == org.id))
    for member_id in members:
        events.record(db, user_id=member_id, type=kind, ctx=ctx, detail=quoted(org.name))


def events_page(
    db: Session, *, org_id: str, actor_id: str, limit: int, cursor: str | None
) -> org_log.Page:
    """The organisation's log, newest first (owners only). Raises :class:`NotFound`,
    :class:`Forbidden` or :class:`InvalidCursor`."""
    require_owner(db, org_id=org_id, user_id=actor_id)
    return org_log.page(db, org_id=org_id, limit=limit, cursor=cursor)


def list_members(db: Session, *, org_id: str, actor_id: str, now: datetime) -> list[MemberView]:
    """Active members, then open invitations, each by email; 2FA status, kinds of factor and
    grace periods of members only."""
    require_owner(db, org_id=org_id, user_id=actor_id)
    rows = list(
        db.execute(
            select(User.id, User.email, Membership.role, User.email_verified_at, Membership.due_at)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.org_id == org_id)
            .order_by(User.email)
        )
    )
    methods = methods_of(db, [row[0] for row in rows])
    active = [
        MemberView(
            user_id,
            email,
            role,
            ACTIVE,
            bool(methods[user_id]),
            verified_at is not None,
            methods[user_id],
            due_at,
        )
        for user_id, email, role, verified_at, due_at in rows
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
        if invitations.withdraw(db, org=org, user_id=user_id, ctx=ctx, actor_id=actor_id):
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
    if leaving:
        org_log.record(db, org_id=org_id, user_id=user_id, type=org_log.MEMBER_LEFT, now=ctx.now)
    else:
        org_log.record(
            db,
            org_id=org_id,
            user_id=user_id,
            type=org_log.MEMBER_REMOVED,
            now=ctx.now,
            data={"by": _email(db, actor_id)},
        )
    db.commit()


def _email(db: Session, user_id: str) -> str | None:
    return db.scalar(select(User.email).where(User.id == user_id))
