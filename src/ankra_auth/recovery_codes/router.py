from __future__ import annotations

from fastapi import APIRouter

from ankra_auth.api.deps import ContextDep, DbDep, RecentlyVerified, SettingsDep
from ankra_auth.errors import TwoFactorNotEnabled, raises
from ankra_auth.recovery_codes import service
from ankra_auth.totp.schemas import RecoveryCodesOut

router = APIRouter(prefix="/api/v1/profile/auth/recovery-codes", tags=["recovery codes"])


@router.post("", name="regenerate_recovery_codes")
@raises(TwoFactorNotEnabled)
def regenerate_recovery_codes(
    principal: RecentlyVerified, db: DbDep, settings: SettingsDep, ctx: ContextDep
) -> RecoveryCodesOut:
    """A fresh set of 10 recovery codes, shown once; the old set stops working."""
    return RecoveryCodesOut(
        recovery_codes=service.regenerate(db, user_id=principal.user.id, settings=settings, ctx=ctx)
    )
