"""A passkey as a sign-in reads and advances it: Core statements built once (hot path),
sent by the second-factor step (``signin.passkey.Assertion``) and by a passkey alone
(``signin.passkey_alone``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Update, and_, bindparam, exists, select, true, update

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


def with_key_once_spent(admission: Select[Any]) -> Select[Any]:
    """PostgreSQL: the passkey step's join (``challenges.Join``) on the admission's read.

    When the attempt is admitted, the assertion's challenge (``spent``, ``of_purpose``) is
    spent if it was issued for this pending login, and then the login's user's key
    (``credential_id``) is read, only when the challenge was spent: the spend and
    :data:`FIND` one after the other, in the admission's statement. No key in the row: not
    admitted, not spent, or not this account's key.
    """
    login = admission.selected_columns
    # A refused attempt is rolled back anyway; conditional, it does not even lock the row.
    spent = ceremonies.spend_issued_for(login.id).where(login.admitted).cte("spent_challenge")
    key = (
        select(
            _PASSKEYS.c.id.label("passkey_id"),
            _PASSKEYS.c.name.label("passkey_name"),
            _PASSKEYS.c.public_key,
            _PASSKEYS.c.sign_count,
        )
        .where(
            _PASSKEYS.c.credential_id == bindparam("credential_id"),
            _PASSKEYS.c.user_id == login.user_id,
            exists(select(spent.c.id)),
        )
        .cte("passkey")
    )
    return admission.add_columns(*key.c).outerjoin(key, true())


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
