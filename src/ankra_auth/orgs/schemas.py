from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from ankra_auth.accounts.emails import EmailLookup
from ankra_auth.text import NoControl, NoInvisible

Role = Literal["owner", "member"]
OrgName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    NoControl,
    NoInvisible,
]


class OrgCreate(BaseModel):
    name: OrgName


class OrgUpdate(BaseModel):
    require_two_factor: bool


class OrgOut(BaseModel):
    id: str
    name: str
    require_two_factor: bool
    role: Role


class MemberAdd(BaseModel):
    # Not validated as an email: an address nobody registered is simply not found.
    email: EmailLookup
    role: Role = "member"


class MemberOut(BaseModel):
    """A member (``active``) or an invitation (``invited``) of an organisation."""

    user_id: str
    email: str
    role: Role
    status: Literal["active", "invited"]
    two_factor_enabled: bool | None = Field(
        description="Whether an active member has 2FA on; null for invitations"
    )


class InvitationOrg(BaseModel):
    id: str
    name: str
    require_two_factor: bool


class InvitationOut(BaseModel):
    """An open invitation, as the invited account sees it."""

    id: str
    org: InvitationOrg
    role: Role
    invited_by: str | None = Field(
        description="The inviting owner's email; null once that account is gone"
    )
    created_at: datetime
    expires_at: datetime
