"""Recovery code sets: issued on the enrollment that turns 2FA on, regenerated on demand."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, update
from sqlalchemy.orm import Session

from ankra_auth import two_factor_status as status
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.db import UTCDateTime, affected_rows, table
from ankra_auth.errors import TwoFactorNotEnabled
from ankra_auth.events import service as events
from ankra_auth.recovery_codes.models import RecoveryCode
from ankra_auth.security import recovery_codes as codes
from ankra_auth.security.keys import derive_key, derive_keys

_CODES = table(RecoveryCode)
LOW_WATERMARK = 3  # the page warns when this many or fewer remain


PURPOSE = "ankra/recovery-codes"


def _key(settings: Settings) -> bytes:
    return derive_key(master=settings.secret, purpose=PURPOSE)


def replace_set(db: Session, *, user_id: str, settings: Settings, now: datetime) -> list[str]:
    """Delete the user's codes and store a fresh set; returns the codes to show once."""
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    fresh = codes.generate_set()
    key = _key(settings)
    db.add_all(
        RecoveryCode(
            user_id=user_id,
            code_hash=codes.keyed_hash(key=key, user_id=user_id, code=codes.normalize(code) or ""),
            created_at=now,
        )
        for code in fresh
    )
    return fresh


def consume(db: Session, *, user_id: str, code: str, settings: Settings, now: datetime) -> bool:
    """Spend one code; the conditional update makes concurrent uses of one code succeed once."""
    normalized = codes.normalize(code)
    if normalized is None:
        return False
    # A hash cannot be re-keyed: codes issued under a previous secret key verify
    # under it until the user regenerates the set.
    hashes = [
        codes.keyed_hash(key=key, user_id=user_id, code=normalized)
        for key in derive_keys(masters=settings.secrets, purpose=PURPOSE)
    ]
    result = db.connection().execute(_SPEND, {"owner": user_id, "hashes": hashes, "now": now})
    return affected_rows(result) == 1


# A Core statement on the table, built once: the sign-in path needs no ORM bookkeeping here.
_SPEND = (
    update(_CODES)
    .where(
        _CODES.c.user_id == bindparam("owner"),
        _CODES.c.code_hash.in_(bindparam("hashes", expanding=True)),
        _CODES.c.used_at.is_(None),
    )
    .values(used_at=bindparam("now", type_=UTCDateTime))
)


def remaining(db: Session, *, user_id: str) -> int:
    """Unused codes left (after a sign-in spent one: read in its transaction)."""
    return status.recovery_codes_remaining(db, user_id)


def delete_all(db: Session, *, user_id: str) -> None:
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))


def regenerate(db: Session, *, user_id: str, settings: Settings, ctx: RequestContext) -> list[str]:
    """A fresh set for a user with 2FA on; the old set stops working in the same commit."""
    # Two regenerations at once must not both insert: one set survives, the other is replaced.
    status.lock_user(db, user_id)
    if not status.two_factor_enabled(db, user_id):
        raise TwoFactorNotEnabled("Turn on two-factor authentication first")
    fresh = replace_set(db, user_id=user_id, settings=settings, now=ctx.now)
    events.record(db, user_id=user_id, type=events.RECOVERY_CODES_REGENERATED, ctx=ctx)
    db.commit()
    return fresh
