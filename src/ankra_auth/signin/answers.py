"""The authenticated answer every sign-in route sends, in one place, and the way a sign-in
flow is run to get it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request, Response
from pydantic import BaseModel

from ankra_auth import db_async, db_flow
from ankra_auth.api.deps import context_of
from ankra_auth.api.json_response import json_response
from ankra_auth.api.threads import run_second_factor
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.signin.cookies import (
    from_allowed_origin,
    set_device_cookie,
    set_session_cookie,
)
from ankra_auth.signin.grant import Authenticated
from ankra_auth.signin.schemas import AuthenticatedOut, RecoveryAuthenticatedOut
from ankra_auth.sso.pending import after_browser_sign_in


def authenticated_body(result: Authenticated) -> AuthenticatedOut:
    return AuthenticatedOut(
        access_token=result.access_token,
        expires_in=result.expires_in,
        enrollment_required=result.enrollment_required,
        device_token=result.device_token,
    )


def authenticated_out(
    result: Authenticated, request: Request, response: Response, settings: Settings
) -> AuthenticatedOut:
    """The sign-in answer; browsers on our own pages also get the HttpOnly cookies."""
    if from_allowed_origin(request, settings):
        set_session_cookie(response, token=result.access_token, settings=settings)
        set_device_cookie(response, token=result.device_token, settings=settings)
        # A single sign-on identity waiting for this browser to sign in here is linked now.
        after_browser_sign_in(request, user_id=result.user_id, settings=settings)
    return authenticated_body(result)


# A sign-in step runs as one flow (``challenges.second_step``, ``signin.passkey_alone``): on
# the event loop on PostgreSQL (``db_async.run``), else on a second-factor thread of its own
# (api/threads.py). Its routes take no dependencies but the body: the settings, clock and
# database come straight from the app, which saves FastAPI's per-dependency work on the
# busiest routes.
FlowFor = Callable[[str, Settings, RequestContext], db_flow.Flow[Authenticated]]


async def answer_flow(request: Request, response: Response, flow_for: FlowFor) -> Response:
    """Run the sign-in flow ``flow_for`` makes, and answer with its session."""
    state = request.app.state
    settings: Settings = state.settings
    ctx = context_of(request, state.clock)
    if state.loop_pool is not None:
        result = await db_async.run(state.loop_pool, flow_for("postgresql", settings, ctx))
    else:

        def on_thread() -> Authenticated:
            with state.session_factory() as db:
                flow = flow_for(db.get_bind().dialect.name, settings, ctx)
                return db_flow.run(db, flow)

        result = await run_second_factor(settings.second_factor_threads, on_thread)
    if not from_allowed_origin(request, settings):
        return json_response(_with_codes_left(authenticated_body(result), result), response)

    # Our own pages also get cookies and may have a single sign-on link to finish (a
    # database write): that on a thread.
    def answer() -> BaseModel:
        return _with_codes_left(authenticated_out(result, request, response, settings), result)

    return json_response(await run_second_factor(settings.second_factor_threads, answer), response)


def _with_codes_left(out: AuthenticatedOut, result: Authenticated) -> BaseModel:
    """A recovery code's sign-in also says how many codes are left."""
    if result.recovery_codes_remaining is None:
        return out
    remaining = result.recovery_codes_remaining
    return RecoveryAuthenticatedOut(**out.model_dump(), recovery_codes_remaining=remaining)
