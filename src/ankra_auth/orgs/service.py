"""Organisations, their members, and the switch that makes 2FA mandatory for all of them.

Who may do what:

- Only owners change an organisation, add members and list them.
- Owners remove anyone, themselves included, as long as another owner remains
  (409 ``last_owner``); a member may remove only themselves (leave).
- Someone who is not a member is told the organisation does not exist (404
  ``not_found``), exactly as for an unknown id, so organisation ids do not leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ankra_auth import two_factor_status as status
from ankra_auth.accounts import service as accounts
from ankra_auth.accounts.models import User
from ankra_auth.context import RequestContext
from ankra_auth.db import affected_rows
from ankra_auth.errors import AlreadyMember, Forbidden, LastOwner, NotFound, OwnerTwoFactorRequired
from ankra_auth.events import service as events
from ankra_auth.orgs.enforcement import with_two_factor
from ankra_auth.orgs.models import Membership, Org

OWNER = "owner"
MEMBER = "member"

_NO_SUCH_ORG = "No such organisation"


@dataclass(frozen=True, slots=True)
class OrgView:
    org: Org
    role: str


@dataclass(frozen=True, slots=True)
class MemberView:
    user_id: str
    email: str
    role: str
    two_factor_enabled: bool


def create(db: Session, *, user_id: str, name: str, now: datetime) -> OrgView:
    """A new organisation owned by its creator."""
    org = Org(name=name, require_two_factor=False, created_at=now)
    db.add(org)
    db.flush()
    db.add(Membership(org_id=org.id, user_id=user_id, role=OWNER, created_at=now))
    db.commit()
    return OrgView(org, OWNER)


def list_for_user(db: Session, *, user_id: str) -> list[OrgView]:
    rows = db.execute(
        select(Org, Membership.role)
        .join(Membership, Membership.org_id == Org.id)
        .where(Membership.user_id == user_id)
        .order_by(Org.name, Org.id)
    )
    return [OrgView(org, role) for org, role in rows]


def _lock_org(db: Session, org_id: str) -> Org:
    """Lock the organisation row: changes to one organisation's members run one at a time."""
    org = db.scalar(
        select(Org)
        .where(Org.id == org_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if org is None:
        raise NotFound(_NO_SUCH_ORG)
    return org


def _role(db: Session, *, org_id: str, user_id: str) -> str | None:
    return db.scalar(
        select(Membership.role).where(Membership.org_id == org_id, Membership.user_id == user_id)
    )


def _require_member(db: Session, *, org_id: str, user_id: str) -> str:
    role = _role(db, org_id=org_id, user_id=user_id)
    if role is None:
        raise NotFound(_NO_SUCH_ORG)
    return role


def _require_owner(db: Session, *, org_id: str, user_id: str) -> None:
    if _require_member(db, org_id=org_id, user_id=user_id) != OWNER:
        raise Forbidden("Only an owner of this organisation can do this")


def set_require_two_factor(
    db: Session, *, org_id: str, user_id: str, require: bool, ctx: RequestContext
) -> OrgView:
    """Switch the 2FA requirement; every member's security log says so, in the same commit.

    Raises :class:`NotFound`, :class:`Forbidden` (not an owner) or
    :class:`OwnerTwoFactorRequired` (switching it on without 2FA of one's own).
    Setting the value it already has changes nothing and records nothing.
    """
    org = _lock_org(db, org_id)
    _require_owner(db, org_id=org_id, user_id=user_id)
    if require and not status.two_factor_enabled(db, user_id):
        raise OwnerTwoFactorRequired(
            "Turn on two-factor authentication for yourself before requiring it of others"
        )
    if org.require_two_factor != require:
        org.require_two_factor = require
        kind = events.ORG_ENFORCEMENT_ENABLED if require else events.ORG_ENFORCEMENT_DISABLED
        members = db.scalars(select(Membership.user_id).where(Membership.org_id == org_id))
        for member_id in members:
            events.record(db, user_id=member_id, type=kind, ctx=ctx, detail=org.name)
    db.commit()
    return OrgView(org, OWNER)


def add_member(
    db: Session, *, org_id: str, actor_id: str, email: str, role: str, now: datetime
) -> MemberView:
    """Add a registered user. Raises :class:`NotFound`, :class:`Forbidden`, :class:`AlreadyMember`."""
    _require_owner(db, org_id=org_id, user_id=actor_id)
    user = accounts.find_user_by_email(db, email)
    if user is None:
        raise NotFound("No account is registered with that email")
    if _role(db, org_id=org_id, user_id=user.id) is not None:
        raise AlreadyMember(f"{user.email} is already a member")
    db.add(Membership(org_id=org_id, user_id=user.id, role=role, created_at=now))
    try:
        db.commit()
    except IntegrityError as exc:  # added by a concurrent request
        db.rollback()
        raise AlreadyMember(f"{user.email} is already a member") from exc
    return MemberView(user.id, user.email, role, status.two_factor_enabled(db, user.id))


def list_members(db: Session, *, org_id: str, actor_id: str) -> list[MemberView]:
    _require_owner(db, org_id=org_id, user_id=actor_id)
    rows = list(
        db.execute(
            select(User.id, User.email, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.org_id == org_id)
            .order_by(User.email)
        )
    )
    secured = with_two_factor(db, [user_id for user_id, _, _ in rows])
    return [MemberView(user_id, email, role, user_id in secured) for user_id, email, role in rows]


def remove_member(db: Session, *, org_id: str, actor_id: str, user_id: str) -> None:
    """Remove a member (an owner) or leave (anyone); never the last owner.

    Race-safe: the organisation row is locked, the membership deleted, and the
    owners that remain counted inside the same transaction, which rolls back at zero.
    """
    _lock_org(db, org_id)
    actor_role = _require_member(db, org_id=org_id, user_id=actor_id)
    if user_id != actor_id and actor_role != OWNER:
        raise Forbidden("Only an owner can remove other members")
    removed = db.execute(
        delete(Membership).where(Membership.org_id == org_id, Membership.user_id == user_id)
    )
    if affected_rows(removed) != 1:
        db.rollback()
        raise NotFound("That user is not a member of this organisation")
    owners = db.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.org_id == org_id, Membership.role == OWNER)
    )
    if not owners:
        db.rollback()
        raise LastOwner("An organisation needs at least one owner: add another owner first")
    db.commit()
