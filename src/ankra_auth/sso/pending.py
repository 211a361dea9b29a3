"""The hook every browser sign-in answer passes: a pending link waiting for this browser to
sign in to its account is linked now (see service.complete_pending_link)."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from ankra_auth.clock import Clock
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.sso import browser, service


def after_browser_sign_in(request: Request, *, user_id: str, settings: Settings) -> None:
    value = browser.token(request)
    if value is None or not settings.sso_providers:  # the common path: no database work
        return
    clock: Clock = request.app.state.clock
    ctx = RequestContext(
        now=clock.now(),
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    db: Session
    with request.app.state.session_factory() as db:
        service.complete_pending_link(
            db,
            browser_token=value,
            user_id=user_id,
            providers={p.id: p for p in settings.sso_providers},
            ctx=ctx,
        )
