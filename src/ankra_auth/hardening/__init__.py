"""Guards for every request: a body size limit, no caching of answers, and sign-in calls
only from an allowed origin."""

from __future__ import annotations

from fastapi import FastAPI

from ankra_auth.hardening.body_limit import BodyLimitMiddleware
from ankra_auth.hardening.no_store import NoStoreMiddleware
from ankra_auth.hardening.sign_in_origin import SignInOriginMiddleware


def install_hardening(app: FastAPI) -> None:
    """Install before observability, so its access lines and metrics see the 413s and 403s."""
    app.add_middleware(SignInOriginMiddleware, owner=app)  # refuses before a byte is read
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(NoStoreMiddleware)  # outside the limit: its 413 is not cached either
