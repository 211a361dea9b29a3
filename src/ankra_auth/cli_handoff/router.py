"""The CLI login hand-off over HTTP: authorize, the hand-off page's calls, the token exchange."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from ankra_auth.api.deps import ContextDep, DbDep, SettingsDep
from ankra_auth.cli_handoff import exchange, passkey_grants, service, sso_grants
from ankra_auth.cli_handoff.schemas import (
    CliAuthorizeIn,
    CliAuthorizeOut,
    CliDeviceApprovalIn,
    CliDeviceApprovalOut,
    CliDeviceCodeIn,
    CliDeviceOut,
    CliDevicePasskeyIn,
    CliDeviceRecoveryCodeIn,
    CliDeviceSsoOut,
    CliDeviceTotpIn,
    CliHandoffDoneOut,
    CliHandoffOut,
    CliHandoffPasskeyIn,
    CliHandoffRecoveryCodeIn,
    CliHandoffTotpIn,
    CliLoopbackOut,
    CliSsoProviderOut,
    CliTokenIn,
)
from ankra_auth.config import Settings
from ankra_auth.errors import (
    AccessDenied,
    AuthorizationPending,
    CsrfFailed,
    ExpiredToken,
    InvalidCode,
    InvalidGrant,
    InvalidRedirectUri,
    InvalidUserCode,
    MfaTokenInvalid,
    NotFound,
    RateLimited,
    SlowDown,
    TooManyAttempts,
    raises,
)
from ankra_auth.passkeys.schemas import PublicKeyCredentialRequestOptionsJSON
from ankra_auth.signin.answers import authenticated_body
from ankra_auth.signin.cookies import cli_device_cookie, from_allowed_origin, set_cli_device_cookie
from ankra_auth.signin.schemas import AuthenticatedOut

router = APIRouter(prefix="/api/v1/auth/cli", tags=["cli"])
HANDOFF = "/handoff/{token}"
DEVICE = "/device"
NO_STORE = {"Cache-Control": "no-store"}
# A second factor on the hand-off pages fails as it does at /auth/mfa/...
SECOND_FACTOR_FAILURES = (InvalidCode, TooManyAttempts, MfaTokenInvalid, RateLimited)


@router.post("/authorize", status_code=status.HTTP_201_CREATED, name="cli_authorize")
@raises(InvalidRedirectUri, MfaTokenInvalid, NotFound)
def cli_authorize(
    body: CliAuthorizeIn, response: Response, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> CliAuthorizeOut:
    """Hand a CLI sign-in over to the browser (RFC 8252 + PKCE): after the password
    (`mfa_token`), for single sign-on (`sso_provider`), or for a passkey alone
    (`passkey: true`). With a loopback `redirect_uri`
    the answer is the page to open; without, a device hand-off (RFC 8628): the page and
    the `user_code` to type there, and the `device_code` to poll `/token` with."""
    response.headers.update(NO_STORE)
    started: service.LoopbackStarted | service.DeviceStarted
    if body.passkey:
        started = passkey_grants.authorize(
            db,
            settings=settings,
            ctx=ctx,
            redirect_uri=body.redirect_uri,
            state=body.state,
            code_challenge=body.code_challenge,
            device_token=body.device_token,
        )
    elif body.sso_provider is not None:
        started = sso_grants.authorize(
            db,
            settings=settings,
            ctx=ctx,
            provider_id=body.sso_provider,
            redirect_uri=body.redirect_uri,
            state=body.state,
            code_challenge=body.code_challenge,
            device_token=body.device_token,
        )
    else:
        assert body.mfa_token is not None  # noqa: S101 - the schema demands one of the two
        started = service.authorize(
            db,
            settings=settings,
            ctx=ctx,
            mfa_token=body.mfa_token,
            redirect_uri=body.redirect_uri,
            state=body.state,
            code_challenge=body.code_challenge,
        )
    if isinstance(started, service.LoopbackStarted):
        return CliLoopbackOut(browser_url=started.browser_url)
    return CliDeviceOut(
        browser_url=started.browser_url,
        user_code=started.user_code,
        device_code=started.device_code,
        interval=started.interval,
        expires_in=started.expires_in,
    )


@router.post("/token", name="cli_token")
@raises(InvalidGrant, AuthorizationPending, SlowDown, ExpiredToken, AccessDenied)
def cli_token(
    body: CliTokenIn, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> AuthenticatedOut:
    """Exchange the loopback `code`, or poll with the `device_code`, with the PKCE
    `code_verifier`: the session once the browser has completed the sign-in."""
    if body.code is not None:
        result = exchange.redeem_code(
            db, settings=settings, ctx=ctx, code=body.code, code_verifier=body.code_verifier
        )
    else:
        assert body.device_code is not None  # noqa: S101 - the schema demands one of the two
        result = exchange.poll_device(
            db,
            settings=settings,
            ctx=ctx,
            device_code=body.device_code,
            code_verifier=body.code_verifier,
        )
    return authenticated_body(result)


@router.get(HANDOFF, name="cli_handoff")
@raises(MfaTokenInvalid)
def cli_handoff(token: str, db: DbDep, ctx: ContextDep) -> CliHandoffOut:
    """The loopback hand-off page's sign-in: whose it is and its second-factor methods (or,
    for `ankra login --passkey`, that a passkey alone signs in)."""
    handoff = service.describe(db, token=token, ctx=ctx)
    return CliHandoffOut(
        methods=handoff.methods,
        email=handoff.email,
        expires_in=handoff.expires_in,
        device_hand_off=handoff.device,
        ip=handoff.ip,
        requested_at=handoff.requested_at,
        passkey_alone=handoff.passkey_alone,
    )


@router.post(
    f"{HANDOFF}/approve", status_code=status.HTTP_204_NO_CONTENT, name="cli_handoff_approve"
)
def cli_handoff_approve(
    token: str, request: Request, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> None:
    """A device hand-off of an account without a second factor: the person's Approve, on
    the page that showed the account, the terminal's address and time, and the warning."""
    same_origin(request, settings)
    service.approve_on_page(
        db, token=token, binding=cli_device_cookie(request), method=sso_grants.METHOD, ctx=ctx
    )


@router.post(f"{HANDOFF}/deny", status_code=status.HTTP_204_NO_CONTENT, name="cli_handoff_deny")
@raises(CsrfFailed, MfaTokenInvalid)
def cli_handoff_deny(
    token: str, request: Request, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> None:
    """A device hand-off the person did not start: it ends, and the terminal is told."""
    same_origin(request, settings)
    service.deny_on_page(db, token=token, ctx=ctx)


def same_origin(request: Request, settings: Settings) -> None:
    # An approval is a person's act on our own page: never a request sent from elsewhere.
    if not from_allowed_origin(request, settings):
        raise CsrfFailed("This request did not come from an allowed origin")


@router.post(f"{HANDOFF}/totp", name="cli_handoff_totp")
@raises(*SECOND_FACTOR_FAILURES)
def cli_handoff_totp(
    token: str, body: CliHandoffTotpIn, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> CliHandoffDoneOut:
    """Approve the loopback hand-off with an authenticator code; the answer is where the
    browser goes next (the terminal's loopback address)."""
    url = service.approve_with_totp(db, settings=settings, ctx=ctx, token=token, code=body.code)
    return CliHandoffDoneOut(redirect_url=url)


@router.post(f"{HANDOFF}/recovery-code", name="cli_handoff_recovery_code")
@raises(*SECOND_FACTOR_FAILURES)
def cli_handoff_recovery_code(
    token: str, body: CliHandoffRecoveryCodeIn, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> CliHandoffDoneOut:
    """Approve the loopback hand-off with a recovery code."""
    url = service.approve_with_recovery_code(
        db, settings=settings, ctx=ctx, token=token, code=body.code
    )
    return CliHandoffDoneOut(redirect_url=url)


@router.post(
    f"{HANDOFF}/passkey/options",
    name="cli_handoff_passkey_options",
    response_model=PublicKeyCredentialRequestOptionsJSON,
    response_model_exclude_none=True,
)
@raises(MfaTokenInvalid)
def cli_handoff_passkey_options(
    token: str, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> PublicKeyCredentialRequestOptionsJSON:
    """Passkey request options for the loopback hand-off's sign-in."""
    options = service.passkey_options(db, settings=settings, ctx=ctx, token=token)
    return PublicKeyCredentialRequestOptionsJSON.model_validate(options)


@router.post(f"{HANDOFF}/passkey", name="cli_handoff_passkey")
@raises(*SECOND_FACTOR_FAILURES)
def cli_handoff_passkey(
    token: str, body: CliHandoffPasskeyIn, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> CliHandoffDoneOut:
    """Approve the loopback hand-off with a passkey (`credential.toJSON()`)."""
    url = service.approve_with_passkey(
        db, settings=settings, ctx=ctx, token=token, credential=body.credential
    )
    return CliHandoffDoneOut(redirect_url=url)


# The device hand-off page (/cli/device). The typed code opens the hand-off; the answer's
# approval_token then names it in the bodies of the factor calls.


@router.post(f"{DEVICE}/code", name="cli_device_code")
@raises(InvalidUserCode, MfaTokenInvalid, RateLimited)
def cli_device_code(
    body: CliDeviceCodeIn, response: Response, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> CliDeviceApprovalOut:
    """The device page's typed `user_code`: what is being approved (account, the
    terminal's address and time), before any factor. Wrong codes are throttled per client
    address."""
    response.headers.update(NO_STORE)
    opened = service.open_device(db, settings=settings, ctx=ctx, user_code=body.user_code)
    provider = opened.sso_provider
    return CliDeviceApprovalOut(
        approval_token=opened.approval_token,
        email=opened.email,
        ip=opened.ip,
        requested_at=opened.requested_at,
        methods=opened.methods,
        expires_in=opened.expires_in,
        sso_provider=None
        if provider is None
        else CliSsoProviderOut(id=provider[0], name=provider[1]),
        passkey_alone=opened.passkey_alone,
    )


@router.post(f"{DEVICE}/sso", name="cli_device_sso")
@raises(MfaTokenInvalid)
def cli_device_sso(
    body: CliDeviceApprovalIn, response: Response, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> CliDeviceSsoOut:
    """``ankra login --sso --no-browser``: the opened hand-off's provider start link."""
    response.headers.update(NO_STORE)
    started = sso_grants.device_start(
        db, settings=settings, ctx=ctx, approval_token=body.approval_token
    )
    # Only this browser, which typed the code, can open the start link.
    set_cli_device_cookie(response, token=started.binding, settings=settings)
    return CliDeviceSsoOut(start_url=started.start_url)


@router.post(f"{DEVICE}/totp", name="cli_device_totp")
@raises(*SECOND_FACTOR_FAILURES)
def cli_device_totp(
    body: CliDeviceTotpIn, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> CliHandoffDoneOut:
    """Approve the device hand-off with an authenticator code."""
    service.approve_with_totp(
        db, settings=settings, ctx=ctx, token=body.approval_token, code=body.code, kind="device"
    )
    return CliHandoffDoneOut(redirect_url=None)


@router.post(f"{DEVICE}/recovery-code", name="cli_device_recovery_code")
@raises(*SECOND_FACTOR_FAILURES)
def cli_device_recovery_code(
    body: CliDeviceRecoveryCodeIn, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> CliHandoffDoneOut:
    """Approve the device hand-off with a recovery code."""
    service.approve_with_recovery_code(
        db, settings=settings, ctx=ctx, token=body.approval_token, code=body.code, kind="device"
    )
    return CliHandoffDoneOut(redirect_url=None)


@router.post(
    f"{DEVICE}/passkey/options",
    name="cli_device_passkey_options",
    response_model=PublicKeyCredentialRequestOptionsJSON,
    response_model_exclude_none=True,
)
@raises(MfaTokenInvalid)
def cli_device_passkey_options(
    body: CliDeviceApprovalIn, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> PublicKeyCredentialRequestOptionsJSON:
    """Passkey request options for the device hand-off's sign-in."""
    options = service.passkey_options(
        db, settings=settings, ctx=ctx, token=body.approval_token, kind="device"
    )
    return PublicKeyCredentialRequestOptionsJSON.model_validate(options)


@router.post(f"{DEVICE}/passkey", name="cli_device_passkey")
@raises(*SECOND_FACTOR_FAILURES)
def cli_device_passkey(
    body: CliDevicePasskeyIn, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> CliHandoffDoneOut:
    """Approve the device hand-off with a passkey (`credential.toJSON()`)."""
    service.approve_with_passkey(
        db,
        settings=settings,
        ctx=ctx,
        token=body.approval_token,
        credential=body.credential,
        kind="device",
    )
    return CliHandoffDoneOut(redirect_url=None)
