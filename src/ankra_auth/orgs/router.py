"""Organisations over HTTP. A non-member gets 404 for an organisation, as for an unknown id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status

from ankra_auth.api.deps import ContextDep, CurrentPrincipal, DbDep
from ankra_auth.errors import AlreadyMember, Forbidden, LastOwner, OwnerTwoFactorRequired, raises
from ankra_auth.orgs import invitations, service
from ankra_auth.orgs.schemas import MemberAdd, MemberOut, OrgCreate, OrgOut, OrgUpdate
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
@raises(Forbidden, OwnerTwoFactorRequired)
def update_org(
    org_id: OrgId, body: OrgUpdate, principal: CurrentPrincipal, db: DbDep, ctx: ContextDep
) -> OrgOut:
    """Require two-factor authentication of every member, or stop (owners only; an owner
    must have 2FA to require it)."""
    view = service.set_require_two_factor(
        db,
        org_id=org_id,
        user_id=principal.user.id,
        require=body.require_two_factor,
        ctx=ctx,
    )
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
