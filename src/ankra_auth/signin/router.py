"""Sign-in over HTTP: the password step and the second-factor steps."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from ankra_auth import db_async, db_flow
from ankra_auth.api.deps import ContextDep, DbDep, SettingsDep, context_of
from ankra_auth.api.json_response import json_response
from ankra_auth.api.threads import run_second_factor
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
from ankra_auth.passkeys.schemas import PublicKeyCredentialRequestOptionsJSON
from ankra_auth.signin import passkey, password, second_factor
from ankra_auth.signin.answers import authenticated_body, authenticated_out
from ankra_auth.signin.cookies import device_cookie, from_allowed_origin
from ankra_auth.signin.grant import Authenticated, MfaRequired
from ankra_auth.signin.schemas import (
    LOGIN_EXAMPLES,
    AuthenticatedOut,
    LoginIn,
    LoginOut,
    MfaRequiredOut,
    PasskeyLoginIn,
    PasskeyLoginOptionsIn,
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


# A second factor runs as one flow (``challenges.second_step``): on the event loop on
# PostgreSQL (``db_async.run``), else on a second-factor thread of its own (api/threads.py).
# The routes take no dependencies but the body: the settings, clock and database come
# straight from the app, which saves FastAPI's per-dependency work on the busiest routes.
FlowFor = Callable[[str, Settings, RequestContext], Flow[Authenticated]]


async def _second_step(request: Request, response: Response, flow_for: FlowFor) -> Response:
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
    return await _answer(result, request, response, settings)


async def _answer(
    result: Authenticated, request: Request, response: Response, settings: Settings
) -> Response:
    """The answer to a finished second factor. Our own pages also get cookies and may have
    a single sign-on link to finish (a database write): that on a thread."""
    if not from_allowed_origin(request, settings):
        return json_response(_body(result), response)

    def answer() -> BaseModel:
        out = authenticated_out(result, request, response, settings)
        if result.recovery_codes_remaining is None:
            return out
        remaining = result.recovery_codes_remaining
        return RecoveryAuthenticatedOut(**out.model_dump(), recovery_codes_remaining=remaining)

    return json_response(await run_second_factor(settings.second_factor_threads, answer), response)


def _body(result: Authenticated) -> BaseModel:
    body = authenticated_body(result)
    if result.recovery_codes_remaining is None:
        return body
    remaining = result.recovery_codes_remaining
    return RecoveryAuthenticatedOut(**body.model_dump(), recovery_codes_remaining=remaining)


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

    return await _second_step(request, response, flow_for)


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

    return await _second_step(request, response, flow_for)


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

    def flow_for(dialect: str, settings: Settings, ctx: RequestContext) -> Flow[Authenticated]:
        return passkey.sign_in_with_passkey(
            dialect=dialect,
            settings=settings,
            ctx=ctx,
            mfa_token=body.mfa_token,
            credential=body.credential,
        )

    return await _second_step(request, response, flow_for)
