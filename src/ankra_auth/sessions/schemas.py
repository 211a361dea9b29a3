from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SessionOut(BaseModel):
    id: str
    created_at: datetime
    last_seen_at: datetime
    ip: str | None
    user_agent: str | None
    method: str = Field(
        description="How it signed in: password, totp, passkey, recovery_code, sso, cli or link"
    )
    current: bool
    device: str = Field(description='The device as a person would name it, e.g. "Firefox on Linux"')
