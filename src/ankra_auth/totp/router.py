from __future__ import annotations

from fastapi import APIRouter, status

from ankra_auth.api.deps import AddingAFactor, ContextDep, DbDep, RecentlyVerified, SettingsDep
from ankra_auth.errors import (
    InvalidConfirmationCode,
    LastFactor,
    NotFound,
    TotpAlreadyEnabled,
    TotpNotStarted,
    raises,
)
from ankra_auth.totp import service
from ankra_auth.totp.schemas import RecoveryCodesOut, TotpConfirmIn, TotpSetupOut

router = APIRouter(prefix="/api/v1/profile/auth/totp", tags=["totp"])


@router.post("", status_code=status.HTTP_201_CREATED, name="start_totp")
@raises(TotpAlreadyEnabled)
def start_totp(
    principal: AddingAFactor, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> TotpSetupOut:
    """Start setting up an authenticator app: a new secret, as a QR code and text. Starting
    again replaces a secret not confirmed yet."""
    setup = service.start(db, user=principal.user, settings=settings, now=ctx.now)
    return TotpSetupOut(secret=setup.secret, otpauth_uri=setup.otpauth_uri, qr_svg=setup.qr_svg)


@router.post("/confirm", name="confirm_totp")
@raises(InvalidConfirmationCode, TotpNotStarted, TotpAlreadyEnabled)
def confirm_totp(
    body: TotpConfirmIn,
    principal: AddingAFactor,
    db: DbDep,
    settings: SettingsDep,
    ctx: ContextDep,
) -> RecoveryCodesOut:
    """Confirm the authenticator app with one of its codes. When this turns 2FA on, the
    answer holds the 10 new recovery codes (shown once); else `recovery_codes` is `null`."""
    codes = service.confirm(db, user=principal.user, code=body.code, settings=settings, ctx=ctx)
    return RecoveryCodesOut(recovery_codes=codes)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT, name="remove_totp")
@raises(NotFound, LastFactor)
def remove_totp(principal: RecentlyVerified, db: DbDep, ctx: ContextDep) -> None:
    """Remove the authenticator app; refused when it is the last factor while 2FA is on."""
    service.remove(db, user=principal.user, ctx=ctx)
