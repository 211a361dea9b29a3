"""The web pages' HttpOnly session cookie, set only for requests from an allowed origin."""

from __future__ import annotations

from fastapi import Request, Response

from ankra_auth.config import Settings
from ankra_auth.device_tokens.service import TOKEN_TTL

# The pages' session: a bearer token in an HttpOnly cookie.
SESSION_COOKIE = "ankra_session"
# The pages' device token, kept across sign-outs: read by the login call and by the start
# of a single sign-on (whose second factor then counts on it too).
DEVICE_COOKIE = "ankra_device"
DEVICE_COOKIE_PATH = "/"
# `ankra login --sso --no-browser`: set in the browser that typed the user code; only that
# browser can then open the provider's start link (``sso_grants.claim``).
CLI_DEVICE_COOKIE = "ankra_cli_device"
CLI_DEVICE_COOKIE_PATH = "/"


def from_allowed_origin(request: Request, settings: Settings) -> bool:
    return (request.headers.get("origin") or "").rstrip("/") in settings.origins


def from_our_page(request: Request, settings: Settings) -> bool:
    """A form posted by one of our own pages. Our pages send no Referer, so a browser
    sends their form posts with ``Origin: null``; it also says where the request came
    from in ``Sec-Fetch-Site``, which no page can set, so a cross-site form is told apart."""
    if from_allowed_origin(request, settings):
        return True
    origin = request.headers.get("origin")
    return origin in (None, "null") and request.headers.get("sec-fetch-site") == "same-origin"


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


def set_cli_device_cookie(response: Response, *, token: str, settings: Settings) -> None:
    # Strict: it goes only with navigations that start on our own pages, never with a
    # link followed from elsewhere.
    response.set_cookie(
        CLI_DEVICE_COOKIE,
        token,
        max_age=600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
        path=CLI_DEVICE_COOKIE_PATH,
    )


def cli_device_cookie(request: Request) -> str | None:
    value = request.cookies.get(CLI_DEVICE_COOKIE)
    return value if value and len(value) <= 100 else None


def presented_device_token(request: Request) -> str | None:
    """The pages' device token, whatever the request (a page navigation has no Origin)."""
    value = request.cookies.get(DEVICE_COOKIE)
    return value if value and len(value) <= 200 else None
