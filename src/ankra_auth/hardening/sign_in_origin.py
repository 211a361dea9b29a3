"""Sign-in calls from a page on another address answer 403 ``origin_not_allowed``, at once.

A page opened at an address that is not an allowed origin (``http://127.0.0.1:8000`` when
the public URL is ``http://localhost:8000``) used to sign in half-way: the password and the
code were checked and spent and a session made, but the session cookie is set only for
allowed origins, so the page landed on an empty form and left an orphan session behind.
Refused here, before any route runs, nothing is read, counted, spent or created, and the
answer names the address to use. Requests without ``Origin`` (the CLI, servers) pass.
"""

from __future__ import annotations

import logging
import re
from types import SimpleNamespace

from fastapi import FastAPI
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from ankra_auth.config import Settings
from ankra_auth.errors import AnkraError, OriginNotAllowed, problem

log = logging.getLogger("ankra_auth.hardening")

SIGN_IN_PREFIX = "/api/v1/auth/"
# An Origin is scheme://host:port; anything longer is not one, and is cut in what we echo.
_ECHO_LIMIT = 100


def _origin(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"origin":
            return bytes(value).decode("latin-1")
    return None


def sign_in_address(settings: Settings) -> str:
    """The origin people should sign in at: the public URL's, unless it is not allowed."""
    allowed = settings.origins
    if settings.public_origin in allowed or not allowed:
        return settings.public_origin
    return sorted(allowed)[0]


def refusal(origin: str, settings: Settings) -> AnkraError:
    address = sign_in_address(settings)
    shown = origin if len(origin) <= _ECHO_LIMIT else origin[:_ECHO_LIMIT] + "…"
    return OriginNotAllowed(
        f"This page was opened at {shown}, but Ankra Auth signs in only at {address}. "
        f"Open {address}/login and sign in there.",
        extra={"allowed_origins": sorted(settings.origins), "login_url": f"{address}/login"},
    )


class SignInOriginMiddleware:
    """Pure ASGI: one header comparison on sign-in paths, nothing on the others."""

    def __init__(self, app: ASGIApp, *, owner: FastAPI) -> None:
        self.app = app
        self.owner = owner
        self._templates: list[tuple[re.Pattern[str], SimpleNamespace]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(SIGN_IN_PREFIX):
            await self.app(scope, receive, send)
            return
        origin = _origin(scope)
        settings: Settings = self.owner.state.settings
        if origin is None or origin.rstrip("/") in settings.origins:
            await self.app(scope, receive, send)
            return
        self._name_the_route(scope)  # so the access line and metrics say which call it was
        error = refusal(origin, settings)
        log.warning(
            "sign-in refused: origin %s is not allowed (allowed: %s)",
            origin[:_ECHO_LIMIT],
            ", ".join(sorted(settings.origins)),
        )
        response = problem(error)
        await response(scope, receive, send)

    def _name_the_route(self, scope: Scope) -> None:
        """Put the matching route template where the access log and metrics read it
        (``scope["route"].path``): routing has not run, and the raw path may hold a token."""
        if self._templates is None:  # once, on the first refusal: the documented operations
            self._templates = [
                (compile_path(path)[0], SimpleNamespace(path=path))
                for path in self.owner.openapi()["paths"]
                if path.startswith(SIGN_IN_PREFIX)
            ]
        for pattern, route in self._templates:
            if pattern.fullmatch(scope["path"]):
                scope["route"] = route
                return
