"""The authenticated answer every sign-in route sends, in one place."""

from __future__ import annotations

from fastapi import Request, Response

from ankra_auth.accounts.cookies import (
    from_allowed_origin,
    set_device_cookie,
    set_session_cookie,
)
from ankra_auth.accounts.login import Authenticated
from ankra_auth.accounts.schemas import AuthenticatedOut
from ankra_auth.config import Settings


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
    return authenticated_body(result)
