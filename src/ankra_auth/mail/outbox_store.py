"""The outbox's statements for the sender: claim, then settle (sent, again later, failed).

A claim is one conditional UPDATE: of the rows that are due, it moves up to ``limit`` to
``sending`` under a fresh claim id and a lease, and returns them. On PostgreSQL the rows
are picked ``FOR UPDATE SKIP LOCKED``, so instances claiming at once take different rows
without waiting; on SQLite writes are serial and the UPDATE's own condition decides.
Settling is conditional on the claim id: a sender whose lease ran out (and whose row
another sender took) changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session

from ankra_auth.db import UTCDateTime, affected_rows, new_id
from ankra_auth.notify.models import FAILED, QUEUED, SENDING, SENT
from ankra_auth.notify.outbox import OUTBOX

NO_SMTP: Final = "no SMTP server configured"
_NOW = bindparam("now", type_=UTCDateTime)
# A mail that gathers a burst waits until its burst is over (the first event's time).
_BURST_OVER = bindparam("burst_over", type_=UTCDateTime)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: str
    user_id: str
    kind: str
    to_address: str
    payload: dict[str, Any]
    last_payload: dict[str, Any] | None
    events: int
    created_at: datetime
    attempts: int
    claim: str
    last_error: str | None = None


def _due() -> ColumnElement[bool]:
    return or_(
        and_(
            OUTBOX.c.state == QUEUED,
            OUTBOX.c.due_at <= _NOW,
            or_(OUTBOX.c.burst.is_(None), OUTBOX.c.created_at <= _BURST_OVER),
        ),
        # A sender that died mid-send: its lease ran out, the mail is due again.
        and_(OUTBOX.c.state == SENDING, OUTBOX.c.lease_until < _NOW),
    )


_ANY_DUE = select(exists().where(_due()))
_PICK = (
    select(OUTBOX.c.id)
    .where(_due())
    .order_by(OUTBOX.c.due_at)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_CLAIM = (
    update(OUTBOX)
    .where(OUTBOX.c.id.in_(_PICK.scalar_subquery()), _due())
    .values(
        state=SENDING,
        claim=bindparam("claim_id"),
        lease_until=bindparam("lease_end", type_=UTCDateTime),
        attempts=OUTBOX.c.attempts + 1,
    )
    .returning(
        OUTBOX.c.id,
        OUTBOX.c.user_id,
        OUTBOX.c.kind,
        OUTBOX.c.to_address,
        OUTBOX.c.payload,
        OUTBOX.c.last_payload,
        OUTBOX.c.events,
        OUTBOX.c.created_at,
        OUTBOX.c.attempts,
        OUTBOX.c.last_error,
    )
)
_MINE = and_(
    OUTBOX.c.id == bindparam("mail_id"),
    OUTBOX.c.claim == bindparam("claim_id"),
    OUTBOX.c.state == SENDING,
)
_SETTLE = update(OUTBOX).where(_MINE)


def claim(
    db: Session, *, now: datetime, burst_over: datetime, lease: timedelta, limit: int
) -> list[Claimed]:
    """Claim up to ``limit`` due mails for this sender (commits)."""
    due = {"now": now, "burst_over": burst_over}
    if not db.execute(_ANY_DUE, due).scalar():
        db.rollback()
        return []  # nothing to do: no write, no lock (SQLite's is the whole database)
    claim_id = new_id()
    rows = db.execute(
        _CLAIM, {**due, "claim_id": claim_id, "lease_end": now + lease, "limit": limit}
    ).all()
    db.commit()
    return [
        Claimed(
            id=row.id,
            user_id=row.user_id,
            kind=row.kind,
            to_address=row.to_address,
            payload=json.loads(row.payload),
            last_payload=json.loads(row.last_payload) if row.last_payload else None,
            events=row.events,
            created_at=row.created_at,
            attempts=row.attempts,
            claim=claim_id,
            last_error=row.last_error,
        )
        for row in rows
    ]


def sent(db: Session, mail: Claimed, *, now: datetime) -> bool:
    return _settle(
        db, mail, state=SENT, finished_at=now, lease_until=None, claim=None, last_error=None
    )


def later(db: Session, mail: Claimed, *, due_at: datetime, error: str) -> bool:
    """Back to the queue, to be tried again at ``due_at``."""
    return _settle(
        db, mail, state=QUEUED, due_at=due_at, lease_until=None, claim=None, last_error=error
    )


def failed(db: Session, mail: Claimed, *, now: datetime, error: str) -> bool:
    return _settle(
        db, mail, state=FAILED, finished_at=now, lease_until=None, claim=None, last_error=error
    )


def _settle(db: Session, mail: Claimed, **values: Any) -> bool:
    if "last_error" in values and values["last_error"] is not None:
        values["last_error"] = str(values["last_error"])[:500]
    result = db.execute(_SETTLE.values(**values), {"mail_id": mail.id, "claim_id": mail.claim})
    db.commit()
    return affected_rows(result) == 1


# Without an SMTP server: each queued mail is logged once (the row count decides which
# instance logs it), and stays queued for when one is configured.
_UNNOTED = and_(OUTBOX.c.state == QUEUED, OUTBOX.c.last_error.is_(None))
_ANY_UNNOTED = select(exists().where(_UNNOTED))
_NOTE = (
    update(OUTBOX)
    .where(_UNNOTED)
    .values(last_error=NO_SMTP)
    .returning(OUTBOX.c.id, OUTBOX.c.kind, OUTBOX.c.to_address)
)


def note_unsent(db: Session) -> list[tuple[str, str, str]]:
    """The queued mails nobody has said are unsent yet, now said (commits): (id, kind, to)."""
    if not db.execute(_ANY_UNNOTED).scalar():
        db.rollback()
        return []
    rows = [(row.id, row.kind, row.to_address) for row in db.execute(_NOTE)]
    db.commit()
    return rows
