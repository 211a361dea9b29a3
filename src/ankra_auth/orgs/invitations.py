"""Invitations: the only way into an organisation, and only with the invitee's consent.

An owner invites a registered account by email; the invitation lives 7 days and
only that account can accept or decline it. Until it accepts, the account is no
member: the organisation's 2FA requirement does not reach it, and its 2FA status
is not shown to the owners. Accepting, declining and withdrawing are each one
conditional DELETE of the open invitation, whose row count decides who won.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ankra_auth import two_factor_status as status
from ankra_auth.accounts import service as accounts
from ankra_auth.accounts import windows
from ankra_auth.accounts.backoff import retry_after_seconds
from ankra_auth.accounts.models import User
from ankra_auth.context import RequestContext
from ankra_auth.db import affected_rows
from ankra_auth.errors import AlreadyMember, EmailUnverified, NotFound, RateLimited
from ankra_auth.events import service as events
from ankra_auth.orgs import grace
from ankra_auth.orgs import log as org_log
from ankra_auth.orgs.access import lock_org, quoted, require_owner, role_of, well_formed
from ankra_auth.orgs.models import Invitation, Membership, Org

LIFETIME = timedelta(days=7)
# Each invitation writes into the invitee's security log: limited per inviter and invitee.
INVITES_PER_HOUR = 50
INVITE_WINDOW = timedelta(hours=1)
OPEN_PER_INVITEE = 20
NO_SUCH_INVITATION = "No such invitation: it may have expired or been withdrawn"
_NO_ACCOUNT = "No account uses that email. Ask them to sign up first, then invite them again."


@dataclass(frozen=True, slots=True)
class Invited:
    """An invitation as the organisation's owners see it."""

    user_id: str
    email: str
    role: str
    email_verified: bool


@dataclass(frozen=True, slots=True)
class OpenInvitation:
    """An invitation as the invitee sees it."""

    id: str
    org: Org
    role: str
    invited_by: str | None  # the inviter's email; None once that account is gone
    created_at: datetime
    expires_at: datetime


def _open(now: datetime) -> ColumnElement[bool]:
    return Invitation.expires_at > now


def find_invitee(db: Session, email: str) -> User | None:
    """The account an invitation by this email goes to: the one place invitations read emails."""
    return accounts.find_user_by_email(db, email)


def invite(
    db: Session, *, org_id: str, actor_id: str, email: str, role: str, ctx: RequestContext
) -> Invited:
    """Invite a registered account; its security log says so.

    Raises :class:`NotFound` (no such organisation for the actor, or no account
    with that email), :class:`Forbidden` (not an owner) and :class:`AlreadyMember`
    (an active member, or an open invitation).
    """
    windows.take(
        db, key=f"invites:{actor_id}", budget=INVITES_PER_HOUR, window=INVITE_WINDOW, now=ctx.now
    )
    org = lock_org(db, org_id)
    require_owner(db, org_id=org_id, user_id=actor_id)
    user = find_invitee(db, email)
    if user is None:
        raise NotFound(_NO_ACCOUNT)
    status.lock_user(db, user.id)  # concurrent invitations to one account count one by one
    _refuse_past_open_limit(db, user_id=user.id, now=ctx.now)
    inviter = db.scalar(select(User.email).where(User.id == actor_id))
    if role_of(db, org_id=org_id, user_id=user.id) is not None:
        raise AlreadyMember(f"{user.email} is already a member")
    # An expired invitation is no invitation: it makes room for the new one.
    db.execute(
        delete(Invitation).where(
            Invitation.org_id == org_id,
            Invitation.user_id == user.id,
            Invitation.expires_at <= ctx.now,
        )
    )
    db.add(
        Invitation(
            org_id=org_id,
            user_id=user.id,
            role=role,
            invited_by=actor_id,
            created_at=ctx.now,
            expires_at=ctx.now + LIFETIME,
        )
    )
    events.record(
        db,
        user_id=user.id,
        type=events.ORG_INVITED,
        ctx=ctx,
        detail=invited_detail(org.name, inviter),
    )
    org_log.record(
        db,
        org_id=org_id,
        user_id=user.id,
        type=org_log.MEMBER_INVITED,
        now=ctx.now,
        data={"role": role, "by": inviter},
    )
    try:
        db.commit()
    except IntegrityError as exc:  # an open invitation exists, or a concurrent one won
        db.rollback()
        raise AlreadyMember(f"{user.email} is already invited") from exc
    return Invited(user.id, user.email, role, user.email_verified_at is not None)


def invited_detail(org_name: str, inviter: str | None) -> str:
    """How the invitee's security log names an invitation: the organisation's name quoted
    (it is anyone's text) and the owner who sent it."""
    return f"{quoted(org_name)} (invited by {inviter or 'a former owner'})"


def _refuse_past_open_limit(db: Session, *, user_id: str, now: datetime) -> None:
    expiries = list(
        db.scalars(
            select(Invitation.expires_at)
            .where(Invitation.user_id == user_id, _open(now))
            .order_by(Invitation.expires_at)
        )
    )
    if len(expiries) >= OPEN_PER_INVITEE:
        db.rollback()
        raise RateLimited(retry_after_seconds(expiries[0], now))


def invited_to(db: Session, *, org_id: str, now: datetime) -> list[Invited]:
    """The open invitations of an organisation, by email (for its owners)."""
    rows = db.execute(
        select(User.id, User.email, Invitation.role, User.email_verified_at)
        .join(Invitation, Invitation.user_id == User.id)
        .where(Invitation.org_id == org_id, _open(now))
        .order_by(User.email)
    )
    return [
        Invited(user_id, email, role, verified_at is not None)
        for user_id, email, role, verified_at in rows
    ]


def open_for(db: Session, *, user_id: str, now: datetime) -> list[OpenInvitation]:
    """The caller's open invitations, newest first."""
    inviter = User.__table__.alias("inviter")
    rows = db.execute(
        select(Invitation, Org, inviter.c.email)
        .join(Org, Org.id == Invitation.org_id)
        .outerjoin(inviter, inviter.c.id == Invitation.invited_by)
        .where(Invitation.user_id == user_id, _open(now))
        .order_by(Invitation.created_at.desc(), Invitation.id)
    )
    return [
        OpenInvitation(inv.id, org, inv.role, email, inv.created_at, inv.expires_at)
        for inv, org, email in rows
    ]


def _take(db: Session, *, invitation_id: str, user_id: str, now: datetime) -> bool:
    """Delete the caller's open invitation; True for the one request that did."""
    taken = db.execute(
        delete(Invitation).where(
            Invitation.id == invitation_id, Invitation.user_id == user_id, _open(now)
        )
    )
    return affected_rows(taken) == 1


def _find(db: Session, *, invitation_id: str, user_id: str, now: datetime) -> Invitation:
    if not well_formed(invitation_id):
        raise NotFound(NO_SUCH_INVITATION)
    invitation = db.scalar(
        select(Invitation).where(
            Invitation.id == invitation_id, Invitation.user_id == user_id, _open(now)
        )
    )
    if invitation is None:  # unknown, someone else's, expired, withdrawn: all the same
        raise NotFound(NO_SUCH_INVITATION)
    return invitation


def accept(db: Session, *, invitation_id: str, user: User, ctx: RequestContext) -> tuple[Org, str]:
    """Become an active member with the invited role. Raises :class:`EmailUnverified`
    (an address nobody proved is trusted for nothing: whoever signed up with someone
    else's address must not receive what was meant for them) or :class:`NotFound`."""
    if user.email_verified_at is None:
        raise EmailUnverified(
            "Verify your email address to accept invitations: use the link we sent you, "
            "or send it again from your profile"
        )
    user_id = user.id
    invitation = _find(db, invitation_id=invitation_id, user_id=user_id, now=ctx.now)
    org_id, role = invitation.org_id, invitation.role
    org = lock_org(db, org_id)
    if not _take(db, invitation_id=invitation_id, user_id=user_id, now=ctx.now):
        db.rollback()
        raise NotFound(NO_SUCH_INVITATION)
    membership = Membership(org_id=org_id, user_id=user_id, role=role, created_at=ctx.now)
    grace.on_join(db, org=org, membership=membership, now=ctx.now)
    db.add(membership)
    events.record(
        db, user_id=user_id, type=events.ORG_INVITATION_ACCEPTED, ctx=ctx, detail=quoted(org.name)
    )
    org_log.record(
        db, org_id=org_id, user_id=user_id, type=org_log.INVITATION_ACCEPTED, now=ctx.now
    )
    try:
        db.commit()
    except IntegrityError as exc:  # cannot happen: nobody is invited who is a member
        db.rollback()
        raise NotFound(NO_SUCH_INVITATION) from exc
    return org, role


def decline(db: Session, *, invitation_id: str, user_id: str, ctx: RequestContext) -> None:
    """Say no: the invitation is gone, and the owners may invite again. Raises :class:`NotFound`."""
    invitation = _find(db, invitation_id=invitation_id, user_id=user_id, now=ctx.now)
    # The organisation first, as accepting and withdrawing lock it: the log's line below
    # references it, and taking the invitation before it would deadlock with an accept.
    org_name = lock_org(db, invitation.org_id).name
    if not _take(db, invitation_id=invitation_id, user_id=user_id, now=ctx.now):
        db.rollback()
        raise NotFound(NO_SUCH_INVITATION)
    events.record(
        db,
        user_id=user_id,
        type=events.ORG_INVITATION_DECLINED,
        ctx=ctx,
        detail=quoted(org_name),
    )
    org_log.record(
        db,
        org_id=invitation.org_id,
        user_id=user_id,
        type=org_log.INVITATION_DECLINED,
        now=ctx.now,
    )
    db.commit()


def withdraw(
    db: Session, *, org: Org, user_id: str, ctx: RequestContext, actor_id: str | None = None
) -> bool:
    """Withdraw the open invitation of ``user_id``, in the caller's transaction (not committed).

    True when there was one; the invitee's security log says so.
    """
    withdrawn = db.execute(
        delete(Invitation).where(
            Invitation.org_id == org.id, Invitation.user_id == user_id, _open(ctx.now)
        )
    )
    if affected_rows(withdrawn) != 1:
        return False
    events.record(
        db, user_id=user_id, type=events.ORG_INVITATION_WITHDRAWN, ctx=ctx, detail=quoted(org.name)
    )
    by = None if actor_id is None else db.scalar(select(User.email).where(User.id == actor_id))
    org_log.record(
        db,
        org_id=org.id,
        user_id=user_id,
        type=org_log.INVITATION_WITHDRAWN,
        now=ctx.now,
        data={"by": by},
    )
    return True
