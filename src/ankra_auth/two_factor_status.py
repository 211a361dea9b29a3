"""Whether a user has 2FA, derived from their factors (never stored separately)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ankra_auth.accounts.models import User
from ankra_auth.passkeys.models import Passkey
from ankra_auth.recovery_codes import service as recovery_codes
from ankra_auth.totp.models import TotpDevice


@dataclass(frozen=True, slots=True)
class FactorSummary:
    totp_enabled: bool
    passkey_count: int
    recovery_codes_remaining: int

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_enabled or self.passkey_count > 0

    @property
    def factor_count(self) -> int:
        return int(self.totp_enabled) + self.passkey_count


def totp_enabled(db: Session, user_id: str) -> bool:
    return (
        db.scalar(
            select(TotpDevice.user_id).where(
                TotpDevice.user_id == user_id, TotpDevice.confirmed_at.is_not(None)
            )
        )
        is not None
    )


def passkey_count(db: Session, user_id: str) -> int:
    return int(
        db.scalar(select(func.count()).select_from(Passkey).where(Passkey.user_id == user_id)) or 0
    )


def summarize(db: Session, user_id: str) -> FactorSummary:
    return FactorSummary(
        totp_enabled=totp_enabled(db, user_id),
        passkey_count=passkey_count(db, user_id),
        recovery_codes_remaining=recovery_codes.remaining(db, user_id=user_id),
    )


def two_factor_enabled(db: Session, user_id: str) -> bool:
    return totp_enabled(db, user_id) or passkey_count(db, user_id) > 0


def lock_user(db: Session, user_id: str) -> None:
    """Serialize factor changes of one user (row lock on PostgreSQL; SQLite has one writer)."""
    db.execute(select(User.id).where(User.id == user_id).with_for_update())
