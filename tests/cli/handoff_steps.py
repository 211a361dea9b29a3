"""Steps of the CLI hand-off, over any HTTP client (in-process TestClient or httpx)."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ankra_auth.security import pkce

REDIRECT = "http://127.0.0.1:53682/callback?from=ankra"


def new_verifier() -> str:
    return secrets.token_urlsafe(48)


def authorize(
    http: Any,
    mfa_token: str,
    *,
    verifier: str,
    redirect_uri: str | None = REDIRECT,
    state: str | None = "state-123",
) -> Any:
    body: dict[str, Any] = {
        "mfa_token": mfa_token,
        "code_challenge": pkce.s256_challenge(verifier),
        "code_challenge_method": "S256",
    }
    if redirect_uri is not None:
        body["redirect_uri"] = redirect_uri
        body["state"] = state
    return http.post("/api/v1/auth/cli/authorize", json=body)


def handoff_token(browser_url: str) -> str:
    return browser_url.rstrip("/").rsplit("/", 1)[-1]


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def exchange(http: Any, code: str, verifier: str) -> Any:
    return http.post("/api/v1/auth/cli/token", json={"code": code, "code_verifier": verifier})


def poll(http: Any, device_code: str, verifier: str) -> Any:
    return http.post(
        "/api/v1/auth/cli/token", json={"device_code": device_code, "code_verifier": verifier}
    )


DEVICE = "/api/v1/auth/cli/device"


def enter_user_code(http: Any, user_code: str) -> Any:
    """What the /cli/device page sends when the person types the code."""
    return http.post(f"{DEVICE}/code", json={"user_code": user_code})


def device_factor(http: Any, approval_token: str, method: str, code: str) -> Any:
    """A second factor for an opened device hand-off: ``method`` is totp or recovery-code."""
    return http.post(f"{DEVICE}/{method}", json={"approval_token": approval_token, "code": code})
