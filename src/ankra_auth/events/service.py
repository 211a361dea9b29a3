"""The security log: recorded inside the caller's transaction, read newest first."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Final

from sqlalchemy import Insert, bindparam, delete, select
from sqlalchemy import insert as sql_insert
from sqlalchemy.orm import Session

from ankra_auth.context import RequestContext
from ankra_auth.db import affected_rows, new_id, table
from ankra_auth.db_flow import Flow, Run
from ankra_auth.events import cursors
from ankra_auth.events.models import SecurityEvent
from ankra_auth.events.types import EventType, SignInMethod
from ankra_auth.notify import outbox
from ankra_auth.observability import metrics
from ankra_auth.orgs.models import Membership, OrgEvent

# Stable event types (clients may rely on these strings); each is one of ``EventType``.
SIGN_IN: Final = "sign_in"
SECOND_FACTOR_FAILED: Final = "second_factor_failed"
PENDING_LOGIN_VOIDED: Final = "pending_login_voided"
THROTTLED: Final = "throttled"
PASSWORD_FAILED: Final = "password_failed"  # noqa: S105 - an event name
REAUTHENTICATED: Final = "reauthenticated"
SIGN_OUT: Final = "sign_out"
SESSION_REVOKED: Final = "session_revoked"
TOTP_ENABLED: Final = "totp_enabled"
TOTP_REMOVED: Final = "totp_removed"
PASSKEY_ADDED: Final = "passkey_added"
PASSKEY_RENAMED: Final = "passkey_renamed"
PASSKEY_REMOVED: Final = "passkey_removed"
PASSKEY_SIGN_COUNT_MISMATCH: Final = "passkey_sign_count_mismatch"
RECOVERY_CODES_ISSUED: Final = "recovery_codes_issued"
RECOVERY_CODES_REGENERATED: Final = "recovery_codes_regenerated"
RECOVERY_CODE_USED: Final = "recovery_code_used"
TWO_FACTOR_DISABLED: Final = "two_factor_disabled"
TWO_FACTOR_RESET_BY_ADMIN: Final = "two_factor_reset_by_admin"
ORG_ENFORCEMENT_ENABLED: Final = "org_enforcement_enabled"
ORG_ENFORCEMENT_DISABLED: Final = "org_enforcement_disabled"
ORG_INVITED: Final = "org_invited"
ORG_INVITATION_ACCEPTED: Final = "org_invitation_accepted"
ORG_INVITATION_DECLINED: Final = "org_invitation_declined"
ORG_INVITATION_WITHDRAWN: Final = "org_invitation_withdrawn"
ORG_LEFT: Final = "org_left"
ORG_MEMBER_REMOVED: Final = "org_member_removed"
CLI_LOGIN_APPROVED: Final = "cli_login_approved"
EMAIL_VERIFIED: Final = "email_verified"
ACCOUNT_CLOSED: Final = "account_closed"

MAX_PAGE = 100


def record(
    db: Session,
    *,
    user_id: str,
    type: EventType,  # noqa: A002 - the contract's field name
    ctx: RequestContext,
    method: SignInMethod | None = None,
    detail: str | None = None,
    data: Mapping[str, object] | None = None,
    tell: bool | None = None,
) -> None:
    """Record an event in ``db``'s transaction, with the mail it asks for (``notify.outbox``;
    ``tell`` as there): both commit, or neither. A 2FA change is also copied to the logs of
    the user's organisations (``orgs.log``), in the same transaction."""
    row = counted_row(
        db, user_id=user_id, type=type, ctx=ctx, method=method, detail=detail, data=data
    )
    db.add(SecurityEvent(**with_mail(db, row, tell)))
    _copy_to_orgs(db, user_id=user_id, type=type, now=ctx.now)


# A member's own events their organisations' owners see (``orgs.log``): changes of
# strength, no secrets, no sign-ins.
ORG_VISIBLE: Final = frozenset(
    {
        TOTP_ENABLED,
        TOTP_REMOVED,
        PASSKEY_ADDED,
        PASSKEY_REMOVED,
        RECOVERY_CODES_REGENERATED,
        TWO_FACTOR_DISABLED,
        TWO_FACTOR_RESET_BY_ADMIN,
    }
)


def _copy_to_orgs(db: Session, *, user_id: str, type: str, now: datetime) -> None:  # noqa: A002
    """A 2FA change, copied to the log of each organisation the user belongs to now (so each
    log holds what happened during the membership, and nothing before or after it)."""
    if type not in ORG_VISIBLE:
        return
    for org_id in db.scalars(select(Membership.org_id).where(Membership.user_id == user_id)):
        db.add(OrgEvent(org_id=org_id, user_id=user_id, type=type, created_at=now))


def insert(
    db: Session,
    *,
    user_id: str,
    type: EventType,  # noqa: A002 - the contract's field name
    ctx: RequestContext,
    method: SignInMethod | None = None,
    detail: str | None = None,
    data: Mapping[str, object] | None = None,
    tell: bool | None = None,
) -> None:
    """:func:`record` as a Core INSERT on the session's connection, executed now (hot path)."""
    row = counted_row(
        db, user_id=user_id, type=type, ctx=ctx, method=method, detail=detail, data=data
    )
    db.connection().execute(INSERT, with_mail(db, row, tell))


def with_mail(db: Session, event: dict[str, object], tell: bool | None) -> dict[str, object]:
    """``event``, marked ``mail: queued`` when the mail it asks for is queued now."""
    mail = outbox.for_event(event, tell)
    if mail is not None and outbox.queue_now(db, mail):
        return {**event, "data": mailed_data(event)}
    return event


def insert_flow(dialect: str, event: Mapping[str, object], tell: bool | None = None) -> Flow[None]:
    """A flow's statements for one event row (see :func:`row`): the mail it asks for, then
    the event, marked ``mail: queued`` when the mail was queued."""
    mail = outbox.for_event(event, tell)
    if mail is not None:
        statement = outbox.queue_run_statement(dialect, mail.after_first_sign_in)
        if (yield Run(statement, outbox.params(mail))) is not None:
            event = {**event, "data": mailed_data(event)}
    yield insert_run(event)


def mailed_data(event: Mapping[str, object]) -> str:
    """The event's ``data`` with ``mail: queued``."""
    stored = event.get("data")
    facts = json.loads(stored) if isinstance(stored, str) and stored else {}
    return json.dumps({**facts, "mail": "queued"})


INSERT = sql_insert(table(SecurityEvent))
_EVENTS = table(SecurityEvent)


@lru_cache(maxsize=4)
def _insert_columns(columns: tuple[str, ...]) -> Insert:
    # Explicit columns: the event loop's runner compiles a statement once, without values.
    return sql_insert(_EVENTS).values(
        {name: bindparam(f"e_{name}", type_=_EVENTS.c[name].type) for name in columns}
    )


def insert_run(event: Mapping[str, object]) -> Run:
    """One event row (see :func:`row`) as a flow's statement (``db_flow``)."""
    return Run(_insert_columns(tuple(event)), {f"e_{k}": v for k, v in event.items()})


def counted_row(
    db: Session,
    *,
    user_id: str,
    type: EventType,  # noqa: A002 - the contract's field name
    ctx: RequestContext,
    method: SignInMethod | None = None,
    detail: str | None = None,
    data: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """An event's row for a caller that inserts it with others (``signin.rows``), counted
    in the metrics like :func:`insert` (once ``db``'s transaction commits)."""
    metrics.count_security_event(db, type=type, method=method)
    return row(user_id=user_id, type=type, ctx=ctx, method=method, detail=detail, data=data)


def row(
    *,
    user_id: str,
    type: EventType,  # noqa: A002 - the contract's field name
    ctx: RequestContext,
    method: SignInMethod | None,
    detail: str | None,
    data: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """An event's row, the same for the ORM (:func:`record`) and Core (:func:`insert`); not
    counted in the metrics (:func:`counted_row` is). ``detail`` is words, ``data`` named
    facts (stored as a JSON object)."""
    return {
        "id": new_id(),
        "user_id": user_id,
        "type": type,
        "method": method,
        "created_at": ctx.now,
        "ip": ctx.ip,
        "user_agent": ctx.stored_user_agent,
        "detail": detail,
        "data": json.dumps(dict(data)) if data else None,
    }


def detail_of(event: SecurityEvent) -> dict[str, object] | None:
    """What the API shows as an event's ``detail``: its words as ``note`` and its named
    facts, one object (None when there is neither)."""
    shown: dict[str, object] = {}
    if event.detail is not None:
        shown["note"] = event.detail
    if event.data:
        try:
            facts = json.loads(event.data)
        except ValueError:
            facts = None
        if isinstance(facts, dict):
            shown.update(facts)
    return shown or None


@dataclass(frozen=True, slots=True)
class Page:
    events: list[SecurityEvent]
    next_cursor: str | None


def list_page(db: Session, *, user_id: str, limit: int, cursor: str | None) -> Page:
    """Newest first; the cursor is a position, so new events never shift a page."""
    query = select(SecurityEvent).where(SecurityEvent.user_id == user_id)
    if cursor is not None:
        query = query.where(SecurityEvent.seq < cursors.decode(cursor))
    rows = list(db.scalars(query.order_by(SecurityEvent.seq.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, cursors.encode(rows[-1].seq) if more and rows else None)


def prune(db: Session, *, now: datetime, retention_days: int) -> int:
    """Delete events older than the retention period; returns how many."""
    result = db.execute(
        delete(SecurityEvent).where(SecurityEvent.created_at < now - timedelta(days=retention_days))
    )
    db.commit()
    return affected_rows(result)
