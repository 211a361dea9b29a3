"""Accounts over HTTP: sign-up, the current user, re-authentication, sign-out."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from ankra_auth import two_factor_status
from ankra_auth.accounts import email_verification
from ankra_auth.accounts import service as accounts
from ankra_auth.accounts.schemas import EmailVerifyIn, MeOut, ReauthIn, UserCreate, UserOut
from ankra_auth.api.deps import ContextDep, CurrentPrincipal, DbDep, SettingsDep
from ankra_auth.errors import (
    EmailAlreadyVerified,
    EmailTaken,
    InvalidCredentials,
    InvalidToken,
    RateLimited,
    raises,
)
from ankra_auth.signin.cookies import clear_session_cookie

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/users", status_code=status.HTTP_201_CREATED, name="create_user")
@raises(EmailTaken)
def create_user(body: UserCreate, db: DbDep, settings: SettingsDep, ctx: ContextDep) -> UserOut:
    """Sign up: a new account with an email and a password (8 to 128 characters). A mail
    with a link to verify the address goes out (`PUBLIC_URL/verify-email?token=...`)."""
    user = accounts.create_user(
        db, email=body.email, password=body.password, settings=settings, now=ctx.now
    )
    return UserOut(id=user.id, email=user.email, created_at=user.created_at)


@router.get("/me", name="get_me")
def get_me(principal: CurrentPrincipal, db: DbDep) -> MeOut:
    """The signed-in account."""
    user = principal.user
    return MeOut(
        id=user.id,
        email=user.email,
        two_factor_enabled=two_factor_status.two_factor_enabled(db, user.id),
        email_verified=user.email_verified_at is not None,
    )


@router.post("/me/email/verify", status_code=status.HTTP_204_NO_CONTENT, name="verify_email")
@raises(InvalidToken)
def verify_email(
    body: EmailVerifyIn, principal: CurrentPrincipal, db: DbDep, ctx: ContextDep
) -> None:
    """Verify the account's address with the token of the link in its verification mail
    (single use, 24 hours; only in the account's own session)."""
    email_verification.verify(db, user=principal.user, token=body.token, ctx=ctx)


@router.post(
    "/me/email/verification",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    name="send_email_verification",
)
@raises(EmailAlreadyVerified, RateLimited)
def send_email_verification(
    principal: CurrentPrincipal, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> Response:
    """Send a new verification link to the account's address (no body: it is on its way):
    at most one a minute and five a day."""
    email_verification.send_again(db, user=principal.user, secret=settings.secret, ctx=ctx)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post("/auth/reauthenticate", status_code=status.HTTP_204_NO_CONTENT, name="reauthenticate")
@raises(InvalidCredentials, RateLimited)
def reauthenticate(
    body: ReauthIn, principal: CurrentPrincipal, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> None:
    """Confirm the password again: removing a factor, regenerating recovery codes and
    turning 2FA off need a check within the last 10 minutes."""
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
    """Sign out: this session ends at once (the page's cookie is cleared too)."""
    accounts.revoke_session(db, session=principal.session, ctx=ctx)
    clear_session_cookie(response, settings=settings)
