from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ProviderOut(BaseModel):
    id: str
    name: str


class LinkedIdentityOut(BaseModel):
    provider: ProviderOut
    email: str | None
    linked_at: datetime
    last_used_at: datetime | None
