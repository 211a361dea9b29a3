"""The web pages' HttpOnly session cookie, set only for requests from an allowed origin."""

from __future__ import annotations

from fastapi import Request, Response

from ankra_auth.config import Settings
from ankra_auth.deps import SESSION_COOKIE


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
