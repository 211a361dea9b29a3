from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class OrgRef(BaseModel):
    id: str
    name: str


class ProfileAuthOut(BaseModel):
    two_factor_enabled: bool
    totp_enabled: bool
    passkey_count: int
    recovery_codes_remaining: int
    enforced_by: list[OrgRef]
    enrollment_required: bool


class EventOut(BaseModel):
    id: str
    type: str
    method: str | None
    created_at: datetime
    ip: str | None
    user_agent: str | None
    device: str | None = Field(
        description='The user agent as a person would name the device, e.g. "Firefox on Linux" '
        "(as in the session list); null without a user agent"
    )
    detail: str | None


class EventPageOut(BaseModel):
    events: list[EventOut]
    next_cursor: str | None
