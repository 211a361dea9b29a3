"""A passkey as its sign-in reads and advances it: Core statements built once (hot path)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, select, update
from sqlalchemy.orm import Session

from ankra_auth.db import UTCDateTime, affected_rows, table
from ankra_auth.passkeys.models import Passkey

_PASSKEYS = table(Passkey)
_FIND: Select[Any] = select(
    _PASSKEYS.c.id, _PASSKEYS.c.name, _PASSKEYS.c.public_key, _PASSKEYS.c.sign_count
).where(
    _PASSKEYS.c.credential_id == bindparam("credential_id"),
    _PASSKEYS.c.user_id == bindparam("owner"),
)
# Conditional on the count the assertion was verified against: two assertions cannot
# both advance it (the row count decides).
_ADVANCE = (
    update(_PASSKEYS)
    .where(_PASSKEYS.c.id == bindparam("passkey_id"), _PASSKEYS.c.sign_count == bindparam("seen"))
    .values(
        sign_count=bindparam("new_count"),
        backed_up=bindparam("new_backed_up"),
        last_used_at=bindparam("now", type_=UTCDateTime),
    )
)


def find(db: Session, *, credential_id: bytes, user_id: str) -> Row[Any] | None:
    """``user_id``'s passkey with this credential id (``id``, ``name``, ``public_key``,
    ``sign_count``), or None: another account's key is no key."""
    return (
        db.connection().execute(_FIND, {"credential_id": credential_id, "owner": user_id}).first()
    )


def advance(
    db: Session, *, passkey_id: str, seen: int, sign_count: int, backed_up: bool, now: datetime
) -> bool:
    """Record a verified assertion (not committed); False when the count moved meanwhile."""
    used = db.connection().execute(
        _ADVANCE,
        {
            "passkey_id": passkey_id,
            "seen": seen,
            "new_count": sign_count,
            "new_backed_up": backed_up,
            "now": now,
        },
    )
    return affected_rows(used) == 1
