"""Accounts and sign-in over HTTP."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from ankra_auth import two_factor_status
from ankra_auth.accounts import login
from ankra_auth.accounts import service as accounts
from ankra_auth.accounts.cookies import clear_session_cookie, device_cookie
from ankra_auth.accounts.responses import authenticated_out
from ankra_auth.accounts.schemas import (
    AuthenticatedOut,
    LoginIn,
    LoginOut,
    MeOut,
    MfaCodeIn,
    MfaRequiredOut,
    ReauthIn,
    RecoveryAuthenticatedOut,
    UserCreate,
    UserOut,
)
from ankra_auth.deps import ContextDep, CurrentPrincipal, DbDep, SettingsDep
from ankra_auth.json_response import json_response

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/users", status_code=status.HTTP_201_CREATED, name="create_user")
def create_user(body: UserCreate, db: DbDep, ctx: ContextDep) -> UserOut:
    user = accounts.create_user(db, email=body.email, password=body.password, now=ctx.now)
    return UserOut(id=user.id, email=user.email, created_at=user.created_at)


@router.get("/me", name="get_me")
def get_me(principal: CurrentPrincipal, db: DbDep) -> MeOut:
    user = principal.user
    return MeOut(
        id=user.id,
        email=user.email,
        two_factor_enabled=two_factor_status.two_factor_enabled(db, user.id),
    )


@router.post("/auth/login", name="login")
def login_with_password(
    body: LoginIn,
    request: Request,
    response: Response,
    db: DbDep,
    settings: SettingsDep,
    ctx: ContextDep,
) -> LoginOut:
    result = login.password_step(
        db,
        settings=settings,
        ctx=ctx,
        email=body.email,
        password=body.password,
        device_token=body.device_token or device_cookie(request, settings),
    )
    if isinstance(result, login.MfaRequired):
        return MfaRequiredOut(
            mfa_token=result.mfa_token, expires_in=result.expires_in, methods=result.methods
        )
    return authenticated_out(result, request, response, settings)


@router.post("/auth/mfa/totp", name="login_with_totp", response_model=AuthenticatedOut)
def login_with_totp(
    body: MfaCodeIn,
    request: Request,
    response: Response,
    db: DbDep,
    settings: SettingsDep,
    ctx: ContextDep,
) -> Response:
    result = login.complete_with_totp(
        db, settings=settings, ctx=ctx, mfa_token=body.mfa_token, code=body.code
    )
    return json_response(authenticated_out(result, request, response, settings), response)


@router.post(
    "/auth/mfa/recovery-code",
    name="login_with_recovery_code",
    response_model=RecoveryAuthenticatedOut,
)
def login_with_recovery_code(
    body: MfaCodeIn,
    request: Request,
    response: Response,
    db: DbDep,
    settings: SettingsDep,
    ctx: ContextDep,
) -> Response:
    result = login.complete_with_recovery_code(
        db, settings=settings, ctx=ctx, mfa_token=body.mfa_token, code=body.code
    )
    out = authenticated_out(result, request, response, settings)
    remaining = result.recovery_codes_remaining or 0
    body_out = RecoveryAuthenticatedOut(**out.model_dump(), recovery_codes_remaining=remaining)
    return json_response(body_out, response)


@router.post("/auth/reauthenticate", status_code=status.HTTP_204_NO_CONTENT, name="reauthenticate")
def reauthenticate(
    body: ReauthIn, principal: CurrentPrincipal, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> None:
    accounts.reauthenticate(
        db,
        settings=settings,
        ctx=ctx,
        session=principal.session,
        user=principal.user,
        password=body.password,
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, name="logout")
def logout(
    principal: CurrentPrincipal,
    response: Response,
    db: DbDep,
    settings: SettingsDep,
    ctx: ContextDep,
) -> None:
    accounts.revoke_session(db, session=principal.session, ctx=ctx)
    clear_session_cookie(response, settings=settings)
