"""The OpenID Connect relying party, by Authlib: discovery, PKCE S256, the authorization URL,
the code exchange and ID-token validation (JWKS signature, refetched on an unknown ``kid``;
issuer, audience, expiry, nonce). Nothing here hand-writes JOSE.

One client per provider per process keeps only the provider's metadata and JWKS; the
state of each flow lives in the database (see flows.py).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import httpx2
from authlib.integrations.base_client import (  # type: ignore[import-untyped]
    BaseApp,
    OAuth2Mixin,
    OAuthError,
    OpenIDMixin,
)
from authlib.integrations.httpx_client import OAuth2Client  # type: ignore[import-untyped]
from email_validator import EmailNotValidError, validate_email
from joserfc.errors import JoseError

from ankra_auth.sso.config import SCOPES, SsoProvider
from ankra_auth.text import CONTROL

HTTP_TIMEOUT_SECONDS = 10.0
# ID tokens are judged against this machine's wall clock, as the provider signs with its own.
CLOCK_LEEWAY_SECONDS = 60


class ProviderUnavailable(Exception):
    """Discovery or the token endpoint could not be reached or answered nonsense."""


class ProviderRefused(Exception):
    """The provider refused the code exchange (an ``error`` answer)."""


class InvalidIdToken(Exception):
    """The ID token failed validation: signature, issuer, audience, expiry or nonce."""


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    auth_time: int | None
    issued_at: int | None = None


class _NoTokenStore:
    """Authlib hands refreshed tokens to its framework; Ankra keeps none of the provider's."""

    def update_token(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class _OidcApp(OAuth2Mixin, OpenIDMixin, BaseApp):  # type: ignore[misc]
    client_cls = OAuth2Client


class OidcClient:
    """Talks to one provider."""

    def __init__(self, provider: SsoProvider) -> None:
        self.provider = provider
        self._app = _OidcApp(
            _NoTokenStore(),
            name=provider.id,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.discovery_url,
            client_kwargs={
                "scope": SCOPES,
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": "client_secret_basic",
                "timeout": HTTP_TIMEOUT_SECONDS,
            },
        )
        self._lock = threading.Lock()

    def _metadata(self) -> dict[str, Any]:
        with self._lock:  # one discovery per process, not one per concurrent request
            try:
                metadata: dict[str, Any] = self._app.load_server_metadata()
            except (httpx2.HTTPError, ValueError) as exc:
                raise ProviderUnavailable(f"discovery failed: {exc}") from exc
        if metadata.get("issuer", "").rstrip("/") != self.provider.issuer:
            # The discovery document must name the issuer we were configured with (OIDC
            # Discovery 4.3), or its tokens would be checked against the wrong issuer.
            self._app.server_metadata.pop("_loaded_at", None)
            raise ProviderUnavailable(f"discovery names issuer {metadata.get('issuer')!r}")
        return metadata

    @property
    def issuer(self) -> str:
        return str(self._metadata()["issuer"])

    def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str, reauth: bool
    ) -> str:
        self._metadata()
        extra: dict[str, Any] = {}
        if reauth:  # a fresh login at the provider, not its remembered session
            extra = {"prompt": "login", "max_age": 0}
        try:
            created = self._app.create_authorization_url(
                redirect_uri=redirect_uri,
                state=state,
                nonce=nonce,
                code_verifier=code_verifier,
                **extra,
            )
        except (httpx2.HTTPError, RuntimeError) as exc:
            raise ProviderUnavailable(str(exc)) from exc
        return str(created["url"])

    def finish(
        self, *, redirect_uri: str, code: str, code_verifier: str, nonce: str
    ) -> VerifiedIdentity:
        """Exchange the code (with the PKCE verifier) and validate the ID token."""
        self._metadata()
        try:
            token = self._app.fetch_access_token(
                redirect_uri=redirect_uri, code=code, code_verifier=code_verifier
            )
        except OAuthError as exc:
            raise ProviderRefused(str(exc)) from exc
        except (httpx2.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(f"token endpoint: {exc}") from exc
        if not isinstance(token, dict) or "id_token" not in token:
            raise InvalidIdToken("the token answer has no ID token")
        try:
            claims = self._app.parse_id_token(token, nonce=nonce, leeway=CLOCK_LEEWAY_SECONDS)
        except (JoseError, ValueError, TypeError) as exc:
            raise InvalidIdToken(f"{type(exc).__name__}: {exc}") from exc
        except httpx2.HTTPError as exc:  # the JWKS refetch on an unknown kid
            raise ProviderUnavailable(f"JWKS: {exc}") from exc
        if not claims.get("nonce"):  # the request always sends one: it must come back
            raise InvalidIdToken("the ID token has no nonce")
        # The provider's claims are untrusted input too: checked before anything is stored.
        return VerifiedIdentity(
            issuer=str(claims["iss"]),
            subject=_subject(claims.get("sub")),
            email=_email(claims.get("email")),
            # Missing or anything but JSON true is unverified.
            email_verified=claims.get("email_verified") is True,
            name=_text(claims.get("name")),
            auth_time=claims["auth_time"] if isinstance(claims.get("auth_time"), int) else None,
            issued_at=claims["iat"] if isinstance(claims.get("iat"), int) else None,
        )


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _subject(value: object) -> str:
    """``sub``: a non-empty string of at most 255 characters, no control characters."""
    if not isinstance(value, str) or not 0 < len(value) <= 255 or CONTROL.search(value):
        raise InvalidIdToken("the ID token's subject is not a plain identifier")
    return value


def _email(value: object) -> str | None:
    """``email``, when sent: an address (no control characters), else the token is refused."""
    text = _text(value)
    if text is None:
        return None
    if CONTROL.search(text):
        raise InvalidIdToken("the ID token's email holds control characters")
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidIdToken(f"the ID token's email is not an address: {exc}") from exc
    return text


class OidcClients:
    """The configured providers' clients, made on first use (a provider down at start-up
    does not stop the service)."""

    def __init__(self, providers: list[SsoProvider]) -> None:
        self._providers = {p.id: p for p in providers}
        self._clients: dict[str, OidcClient] = {}
        self._lock = threading.Lock()

    def get(self, provider_id: str) -> OidcClient | None:
        provider = self._providers.get(provider_id)
        if provider is None:
            return None
        with self._lock:
            client = self._clients.get(provider_id)
            if client is None:
                client = self._clients[provider_id] = OidcClient(provider)
            return client
