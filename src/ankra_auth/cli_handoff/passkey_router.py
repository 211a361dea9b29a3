"""``ankra login --passkey`` over HTTP: the hand-off pages' passkey alone, and the device
page's Approve and Deny."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from ankra_auth.api.deps import ContextDep, DbDep, SettingsDep
from ankra_auth.cli_handoff import passkey_grants, service
from ankra_auth.cli_handoff.router import DEVICE, HANDOFF, same_origin
from ankra_auth.cli_handoff.schemas import (
    CliDeviceApprovalIn,
    CliDevicePasskeyAloneOut,
    CliDevicePasskeyIn,
    CliHandoffDoneOut,
    CliHandoffPasskeyIn,
)
from ankra_auth.errors import (
    CsrfFailed,
    MfaTokenInvalid,
    PasskeyNotVerified,
    RateLimited,
    UnknownCredential,
    UserVerificationRequired,
    raises,
)
from ankra_auth.passkeys.schemas import PublicKeyCredentialRequestOptionsJSON

router = APIRouter(prefix="/api/v1/auth/cli", tags=["cli"])
# A passkey alone on the hand-off pages fails as it does at POST /api/v1/auth/passkey.
PASSKEY_ALONE_FAILURES = (
    UnknownCredential,
    PasskeyNotVerified,
    UserVerificationRequired,
    RateLimited,
    MfaTokenInvalid,
)


@router.post(
    f"{HANDOFF}/passkey-alone/options",
    name="cli_handoff_passkey_alone_options",
    response_model=PublicKeyCredentialRequestOptionsJSON,
    response_model_exclude_none=True,
)
@raises(MfaTokenInvalid, RateLimited)
def cli_handoff_passkey_alone_options(
    token: str, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> PublicKeyCredentialRequestOptionsJSON:
    """`ankra login --passkey`: request options for the loopback hand-off page's passkey
    (any discoverable passkey of this site, user verification required)."""
    options = passkey_grants.options(db, settings=settings, ctx=ctx, token=token, kind="loopback")
    return PublicKeyCredentialRequestOptionsJSON.model_validate(options)


@router.post(f"{HANDOFF}/passkey-alone", name="cli_handoff_passkey_alone")
@raises(*PASSKEY_ALONE_FAILURES)
def cli_handoff_passkey_alone(
    token: str, body: CliHandoffPasskeyIn, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> CliHandoffDoneOut:
    """`ankra login --passkey`: the passkey (`credential.toJSON()`) is the whole sign-in
    and approves the hand-off for its account; the answer is the terminal's loopback
    address. Fails as `POST /api/v1/auth/passkey` does."""
    url = passkey_grants.sign_in_on_loopback(
        db, settings=settings, ctx=ctx, token=token, credential=body.credential
    )
    return CliHandoffDoneOut(redirect_url=url)


@router.post(
    f"{DEVICE}/passkey-alone/options",
    name="cli_device_passkey_alone_options",
    response_model=PublicKeyCredentialRequestOptionsJSON,
    response_model_exclude_none=True,
)
@raises(MfaTokenInvalid, RateLimited)
def cli_device_passkey_alone_options(
    body: CliDeviceApprovalIn, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> PublicKeyCredentialRequestOptionsJSON:
    """`ankra login --passkey --no-browser`: request options for the device page's passkey."""
    options = passkey_grants.options(
        db, settings=settings, ctx=ctx, token=body.approval_token, kind="device"
    )
    return PublicKeyCredentialRequestOptionsJSON.model_validate(options)


@router.post(f"{DEVICE}/passkey-alone", name="cli_device_passkey_alone")
@raises(*PASSKEY_ALONE_FAILURES)
def cli_device_passkey_alone(
    body: CliDevicePasskeyIn, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> CliDevicePasskeyAloneOut:
    """`ankra login --passkey --no-browser`: the passkey names the account, and approves
    nothing: the page then asks "Approve sign-in to ankra CLI for EMAIL?" and only
    `POST .../device/approve` completes the terminal's sign-in."""
    email = passkey_grants.sign_in_on_device(
        db,
        settings=settings,
        ctx=ctx,
        approval_token=body.approval_token,
        credential=body.credential,
    )
    return CliDevicePasskeyAloneOut(email=email)


@router.post(f"{DEVICE}/approve", status_code=status.HTTP_204_NO_CONTENT, name="cli_device_approve")
@raises(CsrfFailed, MfaTokenInvalid)
def cli_device_approve(
    body: CliDeviceApprovalIn, request: Request, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> None:
    """The person's Approve on the device page, after a passkey named the account there
    (`ankra login --passkey --no-browser`): the polling terminal gets its session. A
    same-origin request only, with the handle of the page where the passkey was used."""
    same_origin(request, settings)
    passkey_grants.approve_on_device(db, approval_token=body.approval_token, ctx=ctx)


@router.post(f"{DEVICE}/deny", status_code=status.HTTP_204_NO_CONTENT, name="cli_device_deny")
@raises(CsrfFailed, MfaTokenInvalid)
def cli_device_deny(
    body: CliDeviceApprovalIn, request: Request, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> None:
    """The person's Deny on the device page: the hand-off ends, and the terminal's next
    poll is told so (`access_denied`). A same-origin request only."""
    same_origin(request, settings)
    service.deny_on_page(db, token=body.approval_token, ctx=ctx, kind="device")
