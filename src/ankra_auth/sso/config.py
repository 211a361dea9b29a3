"""The providers of ``ANKRA_SSO_PROVIDERS``: each entry checked when the service starts."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

ProviderId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
SCOPES = "openid email profile"


class SsoProvider(BaseModel):
    """One OpenID provider, as the contract writes it."""

    # A misspelt key ("client-id", "allowSignup") must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ProviderId
    name: Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
    issuer: str
    client_id: Annotated[str, Field(min_length=1)]
    client_secret: Annotated[str, Field(min_length=1)]
    allow_signup: bool = True

    @field_validator("issuer")
    @classmethod
    def _issuer_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("issuer must be an https:// URL")
        # Plain http only for a provider on this machine (tests, development).
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise ValueError("issuer must be an https:// URL (http only on localhost)")
        if parts.query or parts.fragment:
            raise ValueError("issuer must not have a query or fragment")
        return value.rstrip("/")

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"


def parse_providers_json(value: object) -> object:
    """The environment gives a string: JSON, or empty for none (compose files often set "")."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        return []
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at character {exc.pos})") from None


def check_unique(providers: list[SsoProvider]) -> list[SsoProvider]:
    seen: set[str] = set()
    for provider in providers:
        if provider.id in seen:
            raise ValueError(f"two providers have the id {provider.id!r}")
        seen.add(provider.id)
    return providers


def find(providers: list[SsoProvider], provider_id: str) -> SsoProvider | None:
    return next((p for p in providers if p.id == provider_id), None)


def redirect_uri(public_url: str, provider_id: str) -> str:
    """What the provider must have registered for Ankra."""
    return f"{public_url.rstrip('/')}/auth/sso/{provider_id}/callback"
