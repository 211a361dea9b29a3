"""Organisations over HTTP. A non-member gets 404 for an organisation, as for an unknown id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from ankra_auth.api.deps import ContextDep, CurrentPrincipal, DbDep
from ankra_auth.errors import (
    AlreadyMember,
    Forbidden,
    InvalidCursor,
    LastOwner,
    OwnerPasskeyRequired,
    OwnerTwoFactorRequired,
    raises,
)
from ankra_auth.events.service import MAX_PAGE
from ankra_auth.orgs import invitations, service
from ankra_auth.orgs.schemas import (
    MemberAdd,
    MemberOut,
    OrgCreate,
    OrgEventOut,
    OrgEventPageOut,
    OrgEventUser,
    OrgOut,
    OrgUpdate,
)
from ankra_auth.text import resource_id

router = APIRouter(prefix="/api/v1/orgs", tags=["organisations"])

# The contract names the path parameter ``id``; ``org_id`` keeps the builtin unshadowed.
OrgId = Annotated[str, resource_id("id", missing="No such organisation")]
UserId = Annotated[
    str, resource_id("user_id", missing="That user is not a member of this organisation")
]


def org_out(view: service.OrgView) -> OrgOut:
    org = view.org
    return OrgOut(
        id=org.id,
        name=org.name,
        require_two_factor=org.require_two_factor,
        require_passkey=org.require_passkey,
        grace_days=org.grace_days,
        role=view.role,
    )


def _member_out(view: service.MemberView) -> MemberOut:
    return MemberOut(
        user_id=view.user_id,
        email=view.email,
        role=view.role,
        status=view.status,
        two_factor_enabled=view.two_factor_enabled,
        email_verified=view.email_verified,
        methods=view.methods,
        due_at=view.due_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED, name="create_org")
def create_org(body: OrgCreate, principal: CurrentPrincipal, db: DbDep, ctx: ContextDep) -> OrgOut:
    """Create an organisation; its creator is its `owner`."""
    return org_out(service.create(db, user_id=principal.user.id, name=body.name, now=ctx.now))


@router.get("", name="list_orgs")
def list_orgs(principal: CurrentPrincipal, db: DbDep) -> list[OrgOut]:
    """The organisations the caller is an active member of."""
    return [org_out(v) for v in service.list_for_user(db, user_id=principal.user.id)]


@router.patch("/{id}", name="update_org")
@raises(Forbidden, OwnerTwoFactorRequired, OwnerPasskeyRequired)
def update_org(
    org_id: OrgId, body: OrgUpdate, principal: CurrentPrincipal, db: DbDep, ctx: ContextDep
) -> OrgOut:
    """Change what every member must have (owners only): two-factor authentication, or a
    passkey used to sign in, and the grace period (days) for members who do not have it
    yet. An owner must have 2FA to require it, and a passkey to require passkeys."""
    change = service.PolicyChange(
        require_two_factor=body.require_two_factor,
        require_passkey=body.require_passkey,
        grace_days=body.grace_days,
    )
    view = service.set_policy(db, org_id=org_id, user_id=principal.user.id, change=change, ctx=ctx)
    return org_out(view)


@router.post("/{id}/members", status_code=status.HTTP_201_CREATED, name="add_org_member")
@raises(Forbidden, AlreadyMember)
def add_org_member(
    org_id: OrgId, body: MemberAdd, principal: CurrentPrincipal, db: DbDep, ctx: ContextDep
) -> MemberOut:
    """Invite a registered account: it becomes a member only when it accepts."""
    invited = invitations.invite(
        db,
        org_id=org_id,
        actor_id=principal.user.id,
        email=body.email,
        role=body.role,
        ctx=ctx,
    )
    view = service.MemberView(
        invited.user_id,
        invited.email,
        invited.role,
        service.INVITED,
        None,
        invited.email_verified,
    )
    return _member_out(view)


@router.get("/{id}/members", name="list_org_members")
@raises(Forbidden)
def list_org_members(
    org_id: OrgId, principal: CurrentPrincipal, db: DbDep, ctx: ContextDep
) -> list[MemberOut]:
    """Members and open invitations (owners only)."""
    members = service.list_members(db, org_id=org_id, actor_id=principal.user.id, now=ctx.now)
    return [_member_out(m) for m in members]


@router.delete(
    "/{id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    name="remove_org_member",
)
@raises(Forbidden, LastOwner)
def remove_org_member(
    org_id: OrgId, user_id: UserId, principal: CurrentPrincipal, db: DbDep, ctx: ContextDep
) -> None:
    """Owners remove anyone but the last owner and withdraw invitations; anyone may leave."""
    service.remove_member(db, org_id=org_id, actor_id=principal.user.id, user_id=user_id, ctx=ctx)


@router.get("/{id}/events", name="list_org_events")
@raises(Forbidden, InvalidCursor)
def list_org_events(
    org_id: OrgId,
    principal: CurrentPrincipal,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> OrgEventPageOut:
    """The organisation's log, newest first (owners only): its own changes, and each
    member's 2FA changes made while a member; no sign-ins, IP addresses or user agents."""
    page = service.events_page(
        db, org_id=org_id, actor_id=principal.user.id, limit=limit, cursor=cursor
    )
    return OrgEventPageOut(
        events=[
            OrgEventOut(
                id=e.id,
                type=e.type,
                user=OrgEventUser(id=e.user_id, email=e.email),
                created_at=e.created_at,
                detail=e.detail,
            )
            for e in page.events
        ],
        next_cursor=page.next_cursor,
    )
