from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from ankra_auth.events.types import EventType, SignInMethod


class EnforcedBy(BaseModel):
    """An organisation's requirement of this account, and what it asks of this session."""

    id: str
    name: str
    required: Literal["two_factor", "passkey"] = Field(
        description="What the organisation requires: two-factor authentication, or a passkey "
        "used to sign in"
    )
    due_at: datetime | None = Field(
        description="The end of the grace period, until which nothing is restricted; null "
        "when no grace applies (none given, or the requirement is met)"
    )
    met: bool = Field(description="Whether the account has what is required")
    restriction: Literal["enroll", "use_passkey"] | None = Field(
        description="What restricts this session now: `enroll` (add what is required), "
        "`use_passkey` (the account has a passkey but this session did not sign in with "
        "one: sign in with it, or add one on this device); null when nothing does"
    )


class ProfileAuthOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "two_factor_enabled": True,
                    "totp_enabled": True,
                    "passkey_count": 1,
                    "recovery_codes_remaining": 10,
                    "enforced_by": [
                        {
                            "id": "7c4e2a1b0d9f4e8a9b6c3d2e1f0a5b4c",
                            "name": "Acme",
                            "required": "passkey",
                            "due_at": "2027-01-14T09:30:00Z",
                            "met": False,
                            "restriction": None,
                        }
                    ],
                    "enrollment_required": False,
                    "email_verified": True,
                }
            ]
        }
    )

    two_factor_enabled: bool
    totp_enabled: bool
    passkey_count: int
    recovery_codes_remaining: int
    enforced_by: list[EnforcedBy]
    enrollment_required: bool = Field(
        description="Whether an organisation restricts this session (some `enforced_by` item "
        "has a `restriction`)"
    )
    email_verified: bool = Field(
        description="Whether the account's address is verified (as on `GET /api/v1/me`): "
        "security mails go to verified addresses only"
    )


def _absent(value: object) -> bool:
    return value is None


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # absent, never null: the key is left out


class EventDetail(BaseModel):
    """What an event says beyond its type: named facts, each present only when it applies."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{"note": "corp", "mail": "queued"}, {"mail": "queued"}]},
    )

    note: str | SkipJsonSchema[None] = Field(
        default=None,
        exclude_if=_absent,
        json_schema_extra=_no_default,
        description="The event's words: a provider's id, a passkey's or an organisation's "
        "name, the device signed out (what older versions sent as the whole `detail`)",
    )
    mail: Literal["queued"] | SkipJsonSchema[None] = Field(
        default=None,
        exclude_if=_absent,
        json_schema_extra=_no_default,
        description='"queued": the account\'s owner is told by email (a mail was queued in '
        "the same transaction as the event)",
    )


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
    detail: EventDetail | None = Field(
        description="Named facts about the event (`note`, `mail`, ...); null when it has none"
    )


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
                            "detail": {"mail": "queued"},
                        },
                        {
                            "id": "3f2b8c1d9e4a4f6b8a7c5d2e1f0a9b8c",
                            "type": "totp_enabled",
                            "method": "totp",
                            "created_at": "2026-01-14T09:30:00Z",
                            "ip": "203.0.113.7",
                            "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                            "device": "Firefox on Linux",
                            "detail": {"mail": "queued"},
                        },
                    ],
                    "next_cursor": "ZTQy",
                }
            ]
        }
    )

    events: list[EventOut]
    next_cursor: str | None
