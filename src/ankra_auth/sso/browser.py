"""The browser cookie that binds a flow (and a pending link) to the browser that started it."""

from __future__ import annotations

from fastapi import Request, Response

from ankra_auth.config import Settings
from ankra_auth.security import tokens
from ankra_auth.sso.flows import FLOW_TTL

COOKIE = "ankra_sso"


def token(request: Request) -> str | None:
    value = request.cookies.get(COOKIE)
    return value if value and len(value) <= 100 else None


def token_or_new(request: Request) -> str:
    return token(request) or tokens.new_token()


def remember(response: Response, *, value: str, settings: Settings) -> None:
    # Lax: the provider sends the browser back with a top-level GET, which carries it.
    response.set_cookie(
        COOKIE,
        value,
        max_age=int(FLOW_TTL.total_seconds()),
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )
