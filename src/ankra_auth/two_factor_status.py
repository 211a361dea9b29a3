"""Whether a user has 2FA, derived from their factors (never stored separately)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from ankra_auth.accounts.models import User
from ankra_auth.db import table
from ankra_auth.passkeys.models import Passkey
from ankra_auth.recovery_codes.models import RecoveryCode
from ankra_auth.totp.models import TotpDevice

# Models only, no feature services: recovery_codes.service builds on this module,
# so this one must not import it back.


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


_CODES = table(RecoveryCode)
# Core, built once: a recovery-code sign-in reads it on the hot path.
CODES_LEFT = (
    select(func.count())
    .select_from(_CODES)
    .where(_CODES.c.user_id == bindparam("owner"), _CODES.c.used_at.is_(None))
)


def recovery_codes_remaining(db: Session, user_id: str) -> int:
    """Unused codes left, as the session's transaction sees them."""
    if db.autoflush:  # what an ORM query would see: codes added or spent in this session
        db.flush()
    return int(db.connection().execute(CODES_LEFT, {"owner": user_id}).scalar_one())


def summarize(db: Session, user_id: str) -> FactorSummary:
    return FactorSummary(
        totp_enabled=totp_enabled(db, user_id),
        passkey_count=passkey_count(db, user_id),
        recovery_codes_remaining=recovery_codes_remaining(db, user_id),
    )


def two_factor_enabled(db: Session, user_id: str) -> bool:
    return totp_enabled(db, user_id) or passkey_count(db, user_id) > 0


def lock_user(db: Session, user_id: str) -> None:
    """Serialize factor changes of one user: call before reading what decides the change.

    PostgreSQL: a row lock on the user. SQLite has no row locks, and pysqlite opens
    its transaction only at the first write, so reads before it decide on a snapshot
    another writer may be changing: ``BEGIN IMMEDIATE`` takes the database's write
    lock now (waiting ``busy_timeout`` for it), and every read after it is current.
    """
    connection = db.connection()
    if connection.dialect.name != "sqlite":
        db.execute(select(User.id).where(User.id == user_id).with_for_update())
        return
    raw = connection.connection.dbapi_connection
    # Already in a transaction means a write has happened, so the lock is held.
    if isinstance(raw, sqlite3.Connection) and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
