"""Recovery code sets: issued on the enrollment that turns 2FA on, regenerated on demand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import String, Update, any_, bindparam, delete, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from ankra_auth import comparisons
from ankra_auth import two_factor_status as status
from ankra_auth.challenges.second_step import Spend, Wrong
from ankra_auth.challenges.service import Join, Pending, no_join
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.db import UTCDateTime, table
from ankra_auth.db_flow import Flow, just
from ankra_auth.errors import TwoFactorNotEnabled
from ankra_auth.events import service as events
from ankra_auth.events.types import SignInMethod
from ankra_auth.recovery_codes.models import RecoveryCode
from ankra_auth.security import recovery_codes as codes
from ankra_auth.security.keys import derive_key, derive_keys

_CODES = table(RecoveryCode)
LOW_WATERMARK = 3  # the page warns when this many or fewer remain


PURPOSE = "ankra/recovery-codes"
METHOD: Final[SignInMethod] = "recovery_code"


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


def _spend(*, dialect: str) -> Update:
    """Spend one unused code by its keyed hashes (one per secret key: a hash cannot be
    re-keyed, so codes issued under a previous key verify under it until regenerated);
    returns a row only when it spent one, so concurrent uses of a code succeed once."""
    if dialect == "postgresql":  # an array: the statement also runs on the event loop
        matches = _CODES.c.code_hash == any_(bindparam("hashes", type_=ARRAY(String(64))))
    else:
        matches = _CODES.c.code_hash.in_(bindparam("hashes", expanding=True))
    return (
        update(_CODES)
        .where(_CODES.c.user_id == bindparam("owner"), matches, _CODES.c.used_at.is_(None))
        .values(used_at=bindparam("now", type_=UTCDateTime))
        .returning(_CODES.c.id)
    )


_SPEND = {dialect: _spend(dialect=dialect) for dialect in ("postgresql", "sqlite")}


@dataclass(frozen=True, slots=True)
class Code:
    """A recovery code as the second factor of a sign-in (``challenges.second_step``): the
    comparison is the spend itself, by keyed hash."""

    settings: Settings
    code: str
    now: datetime
    dialect: str

    @property
    def method(self) -> SignInMethod:
        return METHOD

    @property
    def join(self) -> Join:
        return no_join

    @property
    def join_params(self) -> Mapping[str, object]:
        return {}

    def check(self, pending: Pending) -> Flow[Spend | Wrong]:
        normalized = codes.normalize(self.code)
        if normalized is None:
            return just(Wrong())
        comparisons.note(METHOD, pending.user_id)  # the spend below compares by keyed hash
        hashes = [
            codes.keyed_hash(key=key, user_id=pending.user_id, code=normalized)
            for key in derive_keys(masters=self.settings.secrets, purpose=PURPOSE)
        ]
        params = {"owner": pending.user_id, "hashes": hashes, "now": self.now}
        return just(Spend(_SPEND[self.dialect], params))


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
