from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ProviderOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "corp", "name": "Acme SSO"}]})

    id: str
    name: str


class LinkedIdentityOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "provider": {"id": "corp", "name": "Acme SSO"},
                    "email": "ada@acme.example",
                    "linked_at": "2026-01-14T09:30:00Z",
                    "last_used_at": "2026-01-15T08:12:44Z",
                }
            ]
        }
    )

    provider: ProviderOut
    email: str | None
    linked_at: datetime
    last_used_at: datetime | None


class SsoLinkStartOut(BaseModel):
    """Where the browser goes to sign in at the provider for the link."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "authorization_url": "https://idp.example/authorize?client_id=ankra"
                    "&response_type=code&state=...&code_challenge=...&nonce=..."
                }
            ]
        }
    )

    authorization_url: str
