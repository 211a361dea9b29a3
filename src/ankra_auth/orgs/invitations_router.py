"""The invited account's side of invitations: list, accept, decline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status

from ankra_auth.api.deps import ContextDep, CurrentPrincipal, DbDep
from ankra_auth.errors import EmailUnverified, NotFound, raises
from ankra_auth.orgs import invitations, service
from ankra_auth.orgs.router import org_out
from ankra_auth.orgs.schemas import InvitationOrg, InvitationOut, OrgOut
from ankra_auth.text import resource_id

router = APIRouter(prefix="/api/v1/invitations", tags=["organisations"])

InvitationId = Annotated[str, resource_id("id", missing=invitations.NO_SUCH_INVITATION)]


@router.get("", name="list_invitations")
def list_invitations(
    principal: CurrentPrincipal, db: DbDep, ctx: ContextDep
) -> list[InvitationOut]:
    """The caller's open invitations, newest first."""
    return [
        InvitationOut(
            id=i.id,
            org=InvitationOrg(
                id=i.org.id,
                name=i.org.name,
                require_two_factor=i.org.require_two_factor,
                require_passkey=i.org.require_passkey,
                grace_days=i.org.grace_days,
            ),
            role=i.role,
            invited_by=i.invited_by,
            created_at=i.created_at,
            expires_at=i.expires_at,
        )
        for i in invitations.open_for(db, user_id=principal.user.id, now=ctx.now)
    ]


@router.post("/{id}/accept", name="accept_invitation")
@raises(EmailUnverified, NotFound)
def accept_invitation(
    invitation_id: InvitationId, principal: CurrentPrincipal, db: DbDep, ctx: ContextDep
) -> OrgOut:
    """Become an active member; an organisation that requires 2FA then applies at once.
    Needs a verified address (403 `email_unverified`)."""
    org, role = invitations.accept(db, invitation_id=invitation_id, user=principal.user, ctx=ctx)
    return org_out(service.OrgView(org, role))


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT, name="decline_invitation")
@raises(NotFound)
def decline_invitation(
    invitation_id: InvitationId, principal: CurrentPrincipal, db: DbDep, ctx: ContextDep
) -> None:
    """Decline an invitation: it is gone, and the organisation's owners see it declined."""
    invitations.decline(db, invitation_id=invitation_id, user_id=principal.user.id, ctx=ctx)
