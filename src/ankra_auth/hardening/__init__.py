"""Guards for every request: a body size limit and no caching of answers."""

from __future__ import annotations

from fastapi import FastAPI

from ankra_auth.hardening.body_limit import BodyLimitMiddleware
from ankra_auth.hardening.no_store import NoStoreMiddleware


def install_hardening(app: FastAPI) -> None:
    """Install before observability, so its access lines and metrics see the 413s."""
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(NoStoreMiddleware)  # outside the limit: its 413 is not cached either
