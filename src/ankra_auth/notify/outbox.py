"""Which events mail the account's owner, and the statement that queues such a mail.

The contract's table ("Telling the person") is :data:`ALWAYS` and :data:`WHEN_ASKED`. A
mail is a row of ``mail_outbox`` written by the statement that writes its event's
transaction, so a change that rolls back queues nothing. The statement itself decides
whether the mail is due: it inserts only when the account's address is verified (and,
for a new-device sign-in, the account signed in before), and it joins a mail of the
same kind still queued for the account instead of queueing a second one (a burst is one
mail). It returns a row exactly when the mail is queued, so the event can say so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import ColumnElement, Insert, Table, bindparam, literal, select, text, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ankra_auth.accounts.models import User
from ankra_auth.db import new_id, table
from ankra_auth.notify.models import QUEUED, MailOutbox

OUTBOX: Final[Table] = table(MailOutbox)
_USERS = table(User)

VERIFY_EMAIL: Final = "verify_email"

# Events that always tell the owner (the contract's table).
ALWAYS: Final = frozenset(
    {
        "pending_login_voided",
        "totp_enabled",
        "totp_removed",
        "passkey_added",
        "passkey_removed",
        "recovery_codes_regenerated",
        "recovery_code_used",
        "two_factor_disabled",
        "two_factor_reset_by_admin",
        "sso_linked",
        "sso_unlinked",
    }
)
# Events that tell only when the writer says so: a sign-in from a new device, sessions
# signed out by "sign out everywhere else" or an administrator's reset.
WHEN_ASKED: Final = frozenset({"sign_in", "session_revoked"})

_COLUMNS = (
    "id",
    "user_id",
    "kind",
    "burst",
    "to_address",
    "payload",
    "events",
    "state",
    "created_at",
    "last_event_at",
    "due_at",
    "attempts",
)


def mailed(event_type: str, tell: bool | None) -> bool:
    """Whether an event of ``event_type`` mails its owner; ``tell`` is the writer's word:
    True for the events that mail only when asked, False to keep one quiet (an account's
    own creation), None to let the table decide."""
    if tell is False:
        return False
    return event_type in ALWAYS or (tell is True and event_type in WHEN_ASKED)


@dataclass(frozen=True, slots=True)
class Mail:
    """The outbox row an event asks for, before the statement decides it is due."""

    params: Mapping[str, object]
    # A new-device sign-in: due only once the account has signed in before.
    after_first_sign_in: bool


def for_event(event: Mapping[str, Any], tell: bool | None = None) -> Mail | None:
    """The mail ``event`` (an event row, ``events.service.row``) asks for, if any."""
    kind = str(event["type"])
    if not mailed(kind, tell):
        return None
    facts = {
        "at": event["created_at"].isoformat(),
        "ip": event["ip"],
        "user_agent": event["user_agent"],
        "method": event["method"],
        "note": event["detail"],
    }
    now: datetime = event["created_at"]
    return Mail(
        params={
            "id": new_id(),
            "user_id": event["user_id"],
            "kind": kind,
            "burst": f"{event['user_id']}:{kind}",
            "payload": json.dumps(facts),
            "now": now,
        },
        after_first_sign_in=kind == "sign_in",
    )


def queue_statement(
    dialect: str,
    *,
    prefix: str = "m_",
    when: ColumnElement[bool] | None = None,
    after_first_sign_in: bool = False,
) -> Insert:
    """INSERT the mail (its values bound as ``prefix`` + name) when the account's address
    is verified and ``when`` holds, or join the account's queued mail of that kind;
    RETURNING its id exactly then."""
    conditions = [
        _USERS.c.id == bindparam(prefix + "user_id"),
        _USERS.c.email_verified_at.is_not(None),
        _USERS.c.closed_at.is_(None),
        true() if when is None else when,
    ]
    if after_first_sign_in:
        conditions.append(_USERS.c.first_sign_in_at.is_not(None))
    now = bindparam(prefix + "now", type_=OUTBOX.c.created_at.type)
    values = select(
        bindparam(prefix + "id", type_=OUTBOX.c.id.type),
        _USERS.c.id,
        bindparam(prefix + "kind", type_=OUTBOX.c.kind.type),
        bindparam(prefix + "burst", type_=OUTBOX.c.burst.type),
        _USERS.c.email,
        bindparam(prefix + "payload", type_=OUTBOX.c.payload.type),
        literal(1),
        literal(QUEUED),
        now,
        now,
        now,
        literal(0),
    ).where(*conditions)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(OUTBOX).from_select(list(_COLUMNS), values)
    return statement.on_conflict_do_update(
        index_elements=[OUTBOX.c.burst],
        # Spelt as the index spells it: a bound value would not match the partial index.
        index_where=text("state = 'queued'"),
        set_={
            "events": OUTBOX.c.events + 1,
            "last_event_at": statement.excluded.last_event_at,
            "last_payload": statement.excluded.payload,
        },
    ).returning(OUTBOX.c.id)


@lru_cache(maxsize=8)
def queue_run_statement(dialect: str, after_first_sign_in: bool) -> Insert:
    """:func:`queue_statement` built once, for a flow's or a session's own statement."""
    return queue_statement(dialect, after_first_sign_in=after_first_sign_in)


def params(mail: Mail, prefix: str = "m_") -> dict[str, object]:
    return {prefix + name: value for name, value in mail.params.items()}


def queue_now(db: Session, mail: Mail) -> bool:
    """Queue ``mail`` in ``db``'s transaction, now; True when it is queued (or joined)."""
    conn = db.connection()
    statement = queue_run_statement(conn.dialect.name, mail.after_first_sign_in)
    return conn.execute(statement, params(mail)).first() is not None


def queue_verification(
    db: Session, *, user_id: str, email: str, verification_id: str, now: datetime
) -> None:
    """The verification mail: the one mail an unverified address gets; it never waits for
    a burst (not committed: the caller's transaction)."""
    db.execute(
        OUTBOX.insert().values(
            id=new_id(),
            user_id=user_id,
            kind=VERIFY_EMAIL,
            burst=None,
            to_address=email,
            payload=json.dumps({"verification_id": verification_id, "at": now.isoformat()}),
            events=1,
            state=QUEUED,
            created_at=now,
            last_event_at=now,
            due_at=now,
            attempts=0,
        )
    )
