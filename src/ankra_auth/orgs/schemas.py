from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

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
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Acme"}]})

    name: OrgName


class OrgUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"require_two_factor": True}]})

    require_two_factor: bool


class OrgOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "7c4e2a1b0d9f4e8a9b6c3d2e1f0a5b4c",
                    "name": "Acme",
                    "require_two_factor": True,
                    "role": "owner",
                }
            ]
        }
    )

    id: str
    name: str
    require_two_factor: bool
    role: Role


class MemberAdd(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "grace@example.com", "role": "member"}]}
    )

    # Not validated as an email: an address nobody registered is simply not found.
    email: EmailLookup
    role: Role = "member"


class MemberOut(BaseModel):
    """A member (``active``) or an invitation (``invited``) of an organisation."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": "a1b2c3d4e5f64a7b8c9d0e1f2a3b4c5d",
                    "email": "grace@example.com",
                    "role": "member",
                    "status": "active",
                    "two_factor_enabled": True,
                    "email_verified": True,
                }
            ]
        }
    )

    user_id: str
    email: str
    role: Role
    status: Literal["active", "invited"]
    two_factor_enabled: bool | None = Field(
        description="Whether an active member has 2FA on; null for invitations"
    )
    email_verified: bool = Field(
        description="Whether the account proved its address; an invitation is accepted "
        "only by an account that did"
    )


class InvitationOrg(BaseModel):
    id: str
    name: str
    require_two_factor: bool


class InvitationOut(BaseModel):
    """An open invitation, as the invited account sees it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "a1b2c3d4e5f64a7b8c9d0e1f2a3b4c5d",
                    "org": {
                        "id": "7c4e2a1b0d9f4e8a9b6c3d2e1f0a5b4c",
                        "name": "Acme",
                        "require_two_factor": True,
                    },
                    "role": "member",
                    "invited_by": "ada@example.com",
                    "created_at": "2026-01-14T09:30:00Z",
                    "expires_at": "2026-01-21T09:30:00Z",
                }
            ]
        }
    )

    id: str
    org: InvitationOrg
    role: Role
    invited_by: str | None = Field(
        description="The inviting owner's email; null once that account is gone"
    )
    created_at: datetime
    expires_at: datetime
