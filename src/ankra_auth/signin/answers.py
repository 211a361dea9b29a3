"""The authenticated answer every sign-in route sends, in one place."""

from __future__ import annotations

from fastapi import Request, Response

from ankra_auth.config import Settings
from ankra_auth.signin.cookies import (
    from_allowed_origin,
    set_device_cookie,
    set_session_cookie,
)
from ankra_auth.signin.grant import Authenticated
from ankra_auth.signin.schemas import AuthenticatedOut
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
