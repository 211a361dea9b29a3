"""A passkey as a sign-in reads and advances it: Core statements built once (hot path),
sent by the second-factor step (``signin.passkey.Assertion``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Update, bindparam, select, update

from ankra_auth.db import UTCDateTime, table
from ankra_auth.passkeys.models import Passkey

_PASSKEYS = table(Passkey)
FIND: Select[Any] = select(
    _PASSKEYS.c.id, _PASSKEYS.c.name, _PASSKEYS.c.public_key, _PASSKEYS.c.sign_count
).where(
    _PASSKEYS.c.credential_id == bindparam("credential_id"),
    _PASSKEYS.c.user_id == bindparam("owner"),
)
# Conditional on the count the assertion was verified against: two assertions cannot
# both advance it (the row count decides).
ADVANCE: Update = (
    update(_PASSKEYS)
    .where(_PASSKEYS.c.id == bindparam("passkey_id"), _PASSKEYS.c.sign_count == bindparam("seen"))
    .values(
        sign_count=bindparam("new_count"),
        backed_up=bindparam("new_backed_up"),
        last_used_at=bindparam("now", type_=UTCDateTime),
    )
    .returning(_PASSKEYS.c.id)
)
