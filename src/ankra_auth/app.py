"""create_app(): settings, database, routers, error handlers, stable operation ids."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from ankra_auth import api_docs, backups, comparisons, db_async, health, pruning
from ankra_auth.accounts.router import router as accounts_router
from ankra_auth.api.openapi import install_openapi
from ankra_auth.cli_handoff.passkey_router import router as cli_passkey_router
from ankra_auth.cli_handoff.router import router as cli_router
from ankra_auth.clock import Clock, SystemClock
from ankra_auth.config import Settings, get_settings
from ankra_auth.db import make_engine, make_session_factory
from ankra_auth.errors import install_error_handlers
from ankra_auth.hardening import install_hardening
from ankra_auth.mail import sender as mail_sender
from ankra_auth.observability import install_observability
from ankra_auth.orgs.invitations_router import router as invitations_router
from ankra_auth.orgs.router import router as orgs_router
from ankra_auth.passkeys.router import router as passkeys_router
from ankra_auth.profile.router import router as profile_router
from ankra_auth.recovery_codes.router import router as recovery_codes_router
from ankra_auth.security import passwords
from ankra_auth.sessions.router import router as sessions_router
from ankra_auth.sign_in_links.router import router as sign_in_links_router
from ankra_auth.signin.passkey_router import router as passkey_sign_in_router
from ankra_auth.signin.router import router as signin_router
from ankra_auth.sso.router import router as sso_router
from ankra_auth.startup import install_schema_gate
from ankra_auth.totp.router import router as totp_router
from ankra_auth.web.router import router as web_router


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Ankra Auth",
        version="1.0.0",
        summary="Two-factor authentication: authenticator apps, passkeys, recovery codes",
        generate_unique_id_function=_operation_id,
        lifespan=_lifespan,
        docs_url=None,  # served by api_docs, from this origin
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.engine = make_engine(settings)
    app.state.session_factory = make_session_factory(app.state.engine)
    app.state.loop_pool = None  # PostgreSQL from the event loop, while the lifespan runs
    passwords.set_concurrency(settings.password_hash_concurrency)
    comparisons.enable(settings.log_comparisons)
    _ = settings.secret  # create or load the key now, not inside the first request

    install_error_handlers(app)
    install_hardening(app)
    install_schema_gate(app)  # inside observability, so its 503s are logged and counted
    install_observability(app)
    # FastAPI tries the routers in this order, twice a request (to match, then to handle):
    # the sign-in routes first, as they are the most requested.
    for router in (
        signin_router,
        passkey_sign_in_router,
        health.router,
        accounts_router,
        profile_router,
        totp_router,
        recovery_codes_router,
        passkeys_router,
        orgs_router,
        invitations_router,
        cli_router,
        cli_passkey_router,
        sign_in_links_router,
        sessions_router,
        sso_router,
        web_router,
    ):
        app.include_router(router)
    api_docs.install_api_docs(app)
    install_openapi(app)
    return app


def create_served_app() -> FastAPI:
    """:func:`create_app` for ``ankra-auth serve``, with the objects it made frozen.

    Everything allocated so far (modules, routes, schemas, statements: hundreds of
    thousands of objects) lives as long as the process. Left to the collector, each
    full collection walks them all: a pause of about 100 ms for every request in flight,
    which was the TOTP sign-in's p99. Frozen, the collector skips them. Only for serving:
    a test process creates many apps and must be able to free them.
    """
    app = create_app()
    # An embedded database is held for the process's life: `ankra-auth restore` refuses.
    app.state.serve_lock = backups.hold_while_serving(app.state.settings)
    gc.freeze()
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While the app serves: its event loop's database pool, the pruner, the mail sender."""
    async with (
        db_async.pool_for(app.state.settings) as pool,
        pruning.lifespan(app),
        mail_sender.lifespan(app),
    ):
        app.state.loop_pool = pool
        try:
            yield
        finally:
            app.state.loop_pool = None
