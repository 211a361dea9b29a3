"""Sign-in over HTTP: the password step and the second-factor steps."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from ankra_auth.api.deps import ContextDep, DbDep, SettingsDep, context_of
from ankra_auth.api.json_response import json_response
from ankra_auth.api.threads import run_second_factor
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.errors import (
    InvalidCode,
    InvalidCredentials,
    MfaTokenInvalid,
    RateLimited,
    TooManyAttempts,
    raises,
)
from ankra_auth.passkeys.schemas import PublicKeyCredentialRequestOptionsJSON
from ankra_auth.signin import passkey, password, second_factor, totp_on_loop
from ankra_auth.signin.answers import authenticated_body, authenticated_out
from ankra_auth.signin.cookies import device_cookie, from_allowed_origin
from ankra_auth.signin.grant import Authenticated, MfaRequired
from ankra_auth.signin.schemas import (
    LOGIN_EXAMPLES,
    AuthenticatedOut,
    LoginIn,
    LoginOut,
    MfaCodeIn,
    MfaRequiredOut,
    PasskeyLoginIn,
    PasskeyLoginOptionsIn,
    RecoveryAuthenticatedOut,
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


# The second factors run on threads of their own (api/threads.py): each route is async
# only to hand its whole sync body to them. They take no dependencies but the body: the
# settings, clock and database session come straight from the app, which saves
# FastAPI's per-dependency work on the busiest routes.
Work = Callable[[Session, Settings, RequestContext], BaseModel]


async def _on_second_factor_threads(request: Request, response: Response, work: Work) -> Response:
    """``work`` on a second-factor thread with a database session of its own (closed
    there, so its roll-back never waits on the event loop); the answer as JSON."""
    state = request.app.state
    settings: Settings = state.settings
    ctx = context_of(request, state.clock)

    def answer() -> BaseModel:
        with state.session_factory() as db:
            return work(db, settings, ctx)

    return json_response(await run_second_factor(settings.second_factor_threads, answer), response)


@router.post("/mfa/totp", name="login_with_totp", tags=ACCOUNTS, response_model=AuthenticatedOut)
@raises(*SECOND_FACTOR_FAILURES)
async def login_with_totp(body: MfaCodeIn, request: Request, response: Response) -> Response:
    """The second step with an authenticator app's code. A wrong code answers
    `invalid_code` with `attempts_remaining`; the fifth ends the sign-in
    (`too_many_attempts`). A code that cannot be right by its form (not 6 digits)
    answers `validation_error` and spends no attempt."""
    state = request.app.state
    settings: Settings = state.settings
    counted_only = False
    if state.loop_pool is not None:  # PostgreSQL, served: a right code on the event loop
        ctx = context_of(request, state.clock)
        granted = await totp_on_loop.sign_in(
            state.loop_pool, settings=settings, ctx=ctx, mfa_token=body.mfa_token, code=body.code
        )
        if granted is not None:
            return await _granted(granted, request, response, settings)
        counted_only = True  # what it did not grant, the counted way answers

    def work(db: Session, settings: Settings, ctx: RequestContext) -> AuthenticatedOut:
        result = second_factor.complete_with_totp(
            db,
            settings=settings,
            ctx=ctx,
            mfa_token=body.mfa_token,
            code=body.code,
            counted_only=counted_only,
        )
        return authenticated_out(result, request, response, settings)

    return await _on_second_factor_threads(request, response, work)


async def _granted(
    result: Authenticated, request: Request, response: Response, settings: Settings
) -> Response:
    """The answer to a sign-in granted on the event loop. Our own pages also get cookies
    and may have a single sign-on link to finish (a database write): that on a thread."""
    if not from_allowed_origin(request, settings):
        return json_response(authenticated_body(result), response)

    def answer() -> AuthenticatedOut:
        return authenticated_out(result, request, response, settings)

    return json_response(await run_second_factor(settings.second_factor_threads, answer), response)


@router.post(
    "/mfa/recovery-code",
    name="login_with_recovery_code",
    tags=ACCOUNTS,
    response_model=RecoveryAuthenticatedOut,
)
@raises(*SECOND_FACTOR_FAILURES)
async def login_with_recovery_code(
    body: MfaCodeIn, request: Request, response: Response
) -> Response:
    """The second step with a recovery code (`XXXXX-XXXXX`; case, dashes and spaces are
    forgiven). Each code works once; the answer says how many remain."""

    def work(db: Session, settings: Settings, ctx: RequestContext) -> RecoveryAuthenticatedOut:
        result = second_factor.complete_with_recovery_code(
            db, settings=settings, ctx=ctx, mfa_token=body.mfa_token, code=body.code
        )
        out = authenticated_out(result, request, response, settings)
        remaining = result.recovery_codes_remaining or 0
        return RecoveryAuthenticatedOut(**out.model_dump(), recovery_codes_remaining=remaining)

    return await _on_second_factor_threads(request, response, work)


@router.post(
    "/mfa/passkey/options",
    name="passkey_login_options",
    tags=PASSKEYS,
    response_model=PublicKeyCredentialRequestOptionsJSON,
    response_model_exclude_none=True,
)
@raises(MfaTokenInvalid)
def passkey_login_options(
    body: PasskeyLoginOptionsIn, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> PublicKeyCredentialRequestOptionsJSON:
    """Options for `navigator.credentials.get()` (after
    `PublicKeyCredential.parseRequestOptionsFromJSON()`), limited to this account's passkeys."""
    options = passkey.login_options_for_token(
        db, settings=settings, ctx=ctx, mfa_token=body.mfa_token
    )
    return PublicKeyCredentialRequestOptionsJSON.model_validate(options)


@router.post(
    "/mfa/passkey", name="login_with_passkey", tags=PASSKEYS, response_model=AuthenticatedOut
)
@raises(*SECOND_FACTOR_FAILURES)
async def login_with_passkey(
    body: PasskeyLoginIn, request: Request, response: Response
) -> Response:
    """The second step with a passkey: `credential` is the browser's `credential.toJSON()`.
    An assertion that fails verification counts as a wrong code."""

    def work(db: Session, settings: Settings, ctx: RequestContext) -> AuthenticatedOut:
        result = passkey.complete_with_passkey(
            db, settings=settings, ctx=ctx, mfa_token=body.mfa_token, credential=body.credential
        )
        return authenticated_out(result, request, response, settings)

    return await _on_second_factor_threads(request, response, work)
