from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ankra_auth.events.types import SignInMethod


class SessionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "7c4e2a1b0d9f4e8a9b6c3d2e1f0a5b4c",
                    "created_at": "2026-01-14T09:30:00Z",
                    "last_seen_at": "2026-01-15T08:12:44Z",
                    "ip": "203.0.113.7",
                    "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                    "method": "totp",
                    "current": True,
                    "device": "Firefox on Linux",
                }
            ]
        }
    )

    id: str
    created_at: datetime
    last_seen_at: datetime
    ip: str | None
    user_agent: str | None
    method: SignInMethod = Field(description="How it signed in")
    current: bool
    device: str = Field(description='The device as a person would name it, e.g. "Firefox on Linux"')
