from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema

from ankra_auth.accounts.emails import EmailLookup
from ankra_auth.orgs.log import OrgEventType
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


GRACE_DAYS_MAX = 90
GraceDays = Annotated[int, Field(ge=0, le=GRACE_DAYS_MAX, strict=True)]
Method = Literal["passkey", "totp"]


class OrgUpdate(BaseModel):
    """Any of the policy's fields; what is left out stays as it is."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"require_two_factor": True},
                {"require_passkey": True, "grace_days": 14},
                {"require_two_factor": False},
            ]
        }
    )

    require_two_factor: bool | SkipJsonSchema[None] = Field(
        default=None, description="`false` also turns `require_passkey` off"
    )
    require_passkey: bool | SkipJsonSchema[None] = Field(
        default=None, description="`true` also turns `require_two_factor` on"
    )
    grace_days: GraceDays | SkipJsonSchema[None] = Field(
        default=None,
        description="Days a member who becomes subject to the requirement has to meet it",
    )

    @model_validator(mode="after")
    def _coherent(self) -> OrgUpdate:
        if self.require_two_factor is None and self.require_passkey is None:
            if self.grace_days is None:
                raise ValueError("give require_two_factor, require_passkey or grace_days")
        if self.require_two_factor is False and self.require_passkey is True:
            raise ValueError("require_passkey needs require_two_factor")
        return self


class OrgOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "7c4e2a1b0d9f4e8a9b6c3d2e1f0a5b4c",
                    "name": "Acme",
                    "require_two_factor": True,
                    "require_passkey": False,
                    "grace_days": 14,
                    "role": "owner",
                }
            ]
        }
    )

    id: str
    name: str
    require_two_factor: bool
    require_passkey: bool = Field(description="Members must have a passkey and sign in with it")
    grace_days: int = Field(
        description="Days a member who becomes subject to the requirement has to meet it"
    )
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
                    "methods": ["passkey", "totp"],
                    "due_at": None,
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
    methods: list[Method] | None = Field(
        description="The kinds of factor an active member has (recovery codes are not "
        "listed); null for invitations"
    )
    due_at: datetime | None = Field(
        description="When an active member's grace period to meet the requirement ends; "
        "null when none applies"
    )


class InvitationOrg(BaseModel):
    id: str
    name: str
    require_two_factor: bool
    require_passkey: bool
    grace_days: int


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
                        "require_passkey": False,
                        "grace_days": 0,
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


class OrgEventUser(BaseModel):
    id: str
    email: str


class OrgEventOut(BaseModel):
    """One line of an organisation's log: no sign-ins, IP addresses or user agents."""

    id: str
    type: OrgEventType
    user: OrgEventUser = Field(description="The member (or invitee) the event is about")
    created_at: datetime
    detail: dict[str, Any] | None = Field(
        description="`org_policy_changed`: `old` and `new` policy; `member_invited`: `role` and "
        "`by`; `invitation_withdrawn`, `member_removed`: `by`; `org_created`: `name`"
    )


class OrgEventPageOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {
                            "id": "b2c3d4e5f6a74b8c9d0e1f2a3b4c5d6e",
                            "type": "passkey_added",
                            "user": {
                                "id": "a1b2c3d4e5f64a7b8c9d0e1f2a3b4c5d",
                                "email": "grace@example.com",
                            },
                            "created_at": "2026-01-14T09:30:00Z",
                            "detail": None,
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    events: list[OrgEventOut]
    next_cursor: str | None
