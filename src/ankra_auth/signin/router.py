"""Sign-in over HTTP: the password step and the second-factor steps."""

from __future__ import annotations

from enum import Enum

from fastapi import APIRouter, Request, Response

from ankra_auth.api.deps import ContextDep, DbDep, SettingsDep
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.db_flow import Flow
from ankra_auth.errors import (
    InvalidCode,
    InvalidCredentials,
    MfaTokenInvalid,
    RateLimited,
    TooManyAttempts,
    raises,
)
from ankra_auth.signin import password, second_factor
from ankra_auth.signin.answers import answer_flow, authenticated_out
from ankra_auth.signin.cookies import device_cookie
from ankra_auth.signin.grant import Authenticated, MfaRequired
from ankra_auth.signin.schemas import (
    LOGIN_EXAMPLES,
    AuthenticatedOut,
    LoginIn,
    LoginOut,
    MfaRequiredOut,
    RecoveryAuthenticatedOut,
    RecoveryCodeIn,
    TotpCodeIn,
)

router = APIRouter(prefix="/api/v1/auth")
# The operations keep the tags they had before sign-in got its own package.
ACCOUNTS: list[str | Enum] = ["accounts"]
PASSKEYS: list[str | Enum] = ["passkeys"]
# A failed second factor: the answers of every step that checks one.
SECOND_FACTOR_FAILURES = (InvalidCode, TooManyAttempts, MfaTokenInvalid, RateLimited)


@router.post("/login", name="login", tags=ACCOUNTS, responses={200: {"content": LOGIN_EXAMPLES}})
@raises(InvalidCredentials, RateLimited)
def login_with_password(
    body: LoginIn,
    request: Request,
    response: Response,
    db: DbDep,
    settings: SettingsDep,
    ctx: ContextDep,
) -> LoginOut:
    """Sign in with email and password. The answer is either `authenticated` (a session:
    `access_token`) or `mfa_required` (an `mfa_token` for one of the second-factor steps,
    with the `methods` this account can use). An unknown email answers like a wrong
    password. Send back the `device_token` of an earlier authenticated answer: attempts
    from this device then count on it, not on the account."""
    result = password.password_step(
        db,
        settings=settings,
        ctx=ctx,
        email=body.email,
        password=body.password,
        device_token=body.device_token or device_cookie(request, settings),
    )
    if isinstance(result, MfaRequired):
        return MfaRequiredOut(
            mfa_token=result.mfa_token, expires_in=result.expires_in, methods=result.methods
        )
    return authenticated_out(result, request, response, settings)


@router.post("/mfa/totp", name="login_with_totp", tags=ACCOUNTS, response_model=AuthenticatedOut)
@raises(*SECOND_FACTOR_FAILURES)
async def login_with_totp(body: TotpCodeIn, request: Request, response: Response) -> Response:
    """The second step with an authenticator app's code. A wrong code answers
    `invalid_code` with `attempts_remaining`; the fifth ends the sign-in
    (`too_many_attempts`). A code that cannot be right by its form (not 6 digits)
    answers `validation_error` and spends no attempt."""

    def flow_for(dialect: str, settings: Settings, ctx: RequestContext) -> Flow[Authenticated]:
        return second_factor.sign_in_with_totp(
            dialect=dialect, settings=settings, ctx=ctx, mfa_token=body.mfa_token, code=body.code
        )

    return await answer_flow(request, response, flow_for)


@router.post(
    "/mfa/recovery-code",
    name="login_with_recovery_code",
    tags=ACCOUNTS,
    response_model=RecoveryAuthenticatedOut,
)
@raises(*SECOND_FACTOR_FAILURES)
async def login_with_recovery_code(
    body: RecoveryCodeIn, request: Request, response: Response
) -> Response:
    """The second step with a recovery code (`XXXXX-XXXXX`; case, dashes and spaces are
    forgiven). Each code works once; the answer says how many remain. A code that cannot
    be right by its form answers `validation_error` and spends no attempt."""

    def flow_for(dialect: str, settings: Settings, ctx: RequestContext) -> Flow[Authenticated]:
        return second_factor.sign_in_with_recovery_code(
            dialect=dialect, settings=settings, ctx=ctx, mfa_token=body.mfa_token, code=body.code
        )

    return await answer_flow(request, response, flow_for)
