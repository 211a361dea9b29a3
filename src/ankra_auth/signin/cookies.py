"""The web pages' HttpOnly session cookie, set only for requests from an allowed origin."""

from __future__ import annotations

from fastapi import Request, Response

from ankra_auth.config import Settings
from ankra_auth.device_tokens.service import TOKEN_TTL

# The pages' session: a bearer token in an HttpOnly cookie.
SESSION_COOKIE = "ankra_session"
# The pages' device token: sent only to the login call, kept across sign-outs.
DEVICE_COOKIE = "ankra_device"
DEVICE_COOKIE_PATH = "/api/v1/auth/login"


def from_allowed_origin(request: Request, settings: Settings) -> bool:
    return (request.headers.get("origin") or "").rstrip("/") in settings.origins


def set_session_cookie(response: Response, *, token: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_ttl_seconds,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response, *, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=settings.cookie_secure, httponly=True, samesite="lax"
    )


def set_device_cookie(response: Response, *, token: str, settings: Settings) -> None:
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=int(TOKEN_TTL.total_seconds()),
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
        path=DEVICE_COOKIE_PATH,
    )


def device_cookie(request: Request, settings: Settings) -> str | None:
    """The pages' device token; only on requests from our own pages, like the cookie it pairs with."""
    if not from_allowed_origin(request, settings):
        return None
    return request.cookies.get(DEVICE_COOKIE) or None
