"""Passkeys at sign-in over HTTP: the second step after a password, and a passkey alone."""

from __future__ import annotations

from enum import Enum

from fastapi import APIRouter, Request, Response

from ankra_auth.api.deps import ContextDep, DbDep, SettingsDep
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.db_flow import Flow
from ankra_auth.errors import (
    MfaTokenInvalid,
    PasskeyNotVerified,
    RateLimited,
    UnknownCredential,
    UserVerificationRequired,
    raises,
)
from ankra_auth.passkeys.schemas import PublicKeyCredentialRequestOptionsJSON
from ankra_auth.signin import passkey, passkey_alone
from ankra_auth.signin.answers import answer_flow
from ankra_auth.signin.cookies import device_cookie
from ankra_auth.signin.grant import Authenticated
from ankra_auth.signin.router import SECOND_FACTOR_FAILURES
from ankra_auth.signin.schemas import (
    AuthenticatedOut,
    PasskeyAloneIn,
    PasskeyAloneOptionsIn,
    PasskeyLoginIn,
    PasskeyLoginOptionsIn,
)

router = APIRouter(prefix="/api/v1/auth", tags=["passkeys"])
PASSKEYS: list[str | Enum] = ["passkeys"]
OPTIONS = {
    "response_model": PublicKeyCredentialRequestOptionsJSON,
    "response_model_exclude_none": True,
}


@router.post("/mfa/passkey/options", name="passkey_login_options", **OPTIONS)  # type: ignore[arg-type]
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


@router.post("/mfa/passkey", name="login_with_passkey", response_model=AuthenticatedOut)
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

    return await answer_flow(request, response, flow_for)


@router.post("/passkey/options", name="passkey_alone_options", **OPTIONS)  # type: ignore[arg-type]
@raises(RateLimited)
def passkey_alone_options(
    _body: PasskeyAloneOptionsIn, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> PublicKeyCredentialRequestOptionsJSON:
    """Options for signing in with a passkey alone: no account is named
    (`allowCredentials` is empty, so the browser offers this site's discoverable passkeys)
    and the authenticator must verify the user (`userVerification: required`). The
    challenge lives 5 minutes and works once. Limited per client address."""
    options = passkey_alone.options(db, settings=settings, ctx=ctx)
    return PublicKeyCredentialRequestOptionsJSON.model_validate(options)


@router.post("/passkey", name="login_with_passkey_alone", response_model=AuthenticatedOut)
@raises(UnknownCredential, PasskeyNotVerified, UserVerificationRequired, RateLimited)
async def login_with_passkey_alone(
    body: PasskeyAloneIn, request: Request, response: Response
) -> Response:
    """Sign in with a passkey alone: `credential` is the browser's `credential.toJSON()` for
    options from `POST /api/v1/auth/passkey/options`. No password and no second step: the
    passkey is something you have, verified by something you are or know. An unknown
    credential answers `unknown_credential` (tell the password manager to forget it); a key
    that did not verify the user answers `user_verification_required`."""

    def flow_for(dialect: str, settings: Settings, ctx: RequestContext) -> Flow[Authenticated]:
        return passkey_alone.sign_in(
            dialect=dialect,
            settings=settings,
            ctx=ctx,
            credential=body.credential,
            device_token=body.device_token or device_cookie(request, settings),
        )

    return await answer_flow(request, response, flow_for)
