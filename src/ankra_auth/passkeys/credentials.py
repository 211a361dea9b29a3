"""A passkey as a sign-in reads and advances it: Core statements built once (hot path),
sent by the second-factor step (``signin.passkey.Assertion``) and by a passkey alone
(``signin.passkey_alone``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Update, and_, bindparam, exists, select, update

from ankra_auth.db import UTCDateTime, table
from ankra_auth.device_tokens.models import DeviceToken
from ankra_auth.passkeys import ceremonies
from ankra_auth.passkeys.models import Passkey

_PASSKEYS = table(Passkey)
_TOKENS = table(DeviceToken)
FIND: Select[Any] = select(
    _PASSKEYS.c.id, _PASSKEYS.c.name, _PASSKEYS.c.public_key, _PASSKEYS.c.sign_count
).where(
    _PASSKEYS.c.credential_id == bindparam("credential_id"),
    _PASSKEYS.c.user_id == bindparam("user"),
)
# PostgreSQL: the challenge's spend (``ceremonies.SPEND_FOR_PENDING_LOGIN``) and then
# :data:`FIND`, in one statement: the key is read only when the challenge was spent, as the
# two statements one after the other do. No row: not spent, or not this account's key.
_SPENT = ceremonies.SPEND_FOR_PENDING_LOGIN.cte("spent_challenge")
FIND_ONCE_SPENT: Select[Any] = FIND.where(exists(select(_SPENT.c.id))).add_cte(_SPENT)
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


# A passkey alone's first read: the credential, whose account it is, and the presented
# device token when it is a valid one of that account (``credential_id``, ``token_hash``,
# ``now``). No row: no account has this credential.
OWNER: Select[Any] = (
    select(
        _PASSKEYS.c.id,
        _PASSKEYS.c.user_id,
        _PASSKEYS.c.name,
        _PASSKEYS.c.public_key,
        _PASSKEYS.c.sign_count,
        _TOKENS.c.id.label("token_id"),
    )
    .outerjoin(
        _TOKENS,
        and_(
            _TOKENS.c.token_hash == bindparam("token_hash"),
            _TOKENS.c.user_id == _PASSKEYS.c.user_id,
            _TOKENS.c.expires_at > bindparam("now", type_=UTCDateTime),
        ),
    )
    .where(_PASSKEYS.c.credential_id == bindparam("credential_id"))
)
# ADVANCE for a passkey-only sign-in: it has now shown that it signs in by itself.
ADVANCE_ALONE: Update = ADVANCE.values(signed_in_alone=True)
