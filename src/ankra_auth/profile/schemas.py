from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ankra_auth.events.types import EventType, SignInMethod


class OrgRef(BaseModel):
    id: str
    name: str


class ProfileAuthOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "two_factor_enabled": True,
                    "totp_enabled": True,
                    "passkey_count": 1,
                    "recovery_codes_remaining": 10,
                    "enforced_by": [{"id": "7c4e2a1b0d9f4e8a9b6c3d2e1f0a5b4c", "name": "Acme"}],
                    "enrollment_required": False,
                }
            ]
        }
    )

    two_factor_enabled: bool
    totp_enabled: bool
    passkey_count: int
    recovery_codes_remaining: int
    enforced_by: list[OrgRef]
    enrollment_required: bool


class EventOut(BaseModel):
    id: str
    type: EventType
    method: SignInMethod | None
    created_at: datetime
    ip: str | None
    user_agent: str | None
    device: str | None = Field(
        description='The user agent as a person would name the device, e.g. "Firefox on Linux" '
        "(as in the session list); null without a user agent"
    )
    detail: str | None


class EventPageOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {
                            "id": "a1b2c3d4e5f64a7b8c9d0e1f2a3b4c5d",
                            "type": "sign_in",
                            "method": "totp",
                            "created_at": "2026-01-15T08:12:44Z",
                            "ip": "203.0.113.7",
                            "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                            "device": "Firefox on Linux",
                            "detail": None,
                        },
                        {
                            "id": "3f2b8c1d9e4a4f6b8a7c5d2e1f0a9b8c",
                            "type": "totp_enabled",
                            "method": "totp",
                            "created_at": "2026-01-14T09:30:00Z",
                            "ip": "203.0.113.7",
                            "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                            "device": "Firefox on Linux",
                            "detail": None,
                        },
                    ],
                    "next_cursor": "ZTQy",
                }
            ]
        }
    )

    events: list[EventOut]
    next_cursor: str | None
