from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

Role = Literal["owner", "member"]
OrgName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


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
    email: Annotated[str, Field(min_length=1, max_length=320)]
    role: Role = "member"


class MemberOut(BaseModel):
    user_id: str
    email: str
    role: Role
    two_factor_enabled: bool
