"""Rendering pages: autoescaped templates, the headers every page carries, safe redirects."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader

from ankra_auth.web import assets

DEFAULT_NEXT = "/profile/authentication"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # The CLI hand-off URL carries a token: never leak it in a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals["asset_url"] = assets.url


def render(template: str, **context: Any) -> HTMLResponse:
    html = _env.get_template(template).render(**context)
    return HTMLResponse(html, headers=SECURITY_HEADERS)


def redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


def safe_next(value: str | None) -> str:
    """``value`` when it is a path on this site, else the profile page (no open redirects).

    Browsers read ``\\`` as ``/`` and drop tabs and newlines from URLs, so
    ``/\\evil.example`` or ``/<TAB>/evil.example`` would leave the site: refuse both.
    """
    if not value or len(value) > 2048 or not value.startswith("/"):
        return DEFAULT_NEXT
    if value.startswith("//") or any(
        ch == "\\" or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value
    ):
        return DEFAULT_NEXT
    return value


def with_next(path: str, next_path: str) -> str:
    return f"{path}?next={quote(next_path, safe='/')}"
