from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from ankra_auth.accounts.emails import EmailLookup
from ankra_auth.text import NoControl

Role = Literal["owner", "member"]
OrgName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoControl
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
    user_id: str
    email: str
    role: Role
    two_factor_enabled: bool
