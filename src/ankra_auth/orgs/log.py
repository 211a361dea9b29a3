"""An organisation's log, as its owners see it: its own changes, and its members' 2FA
changes made while they were members.

A member's 2FA change (``events.service.ORG_VISIBLE``) is copied into the log of each
organisation they are an active member of, in the transaction that makes the change
(``events.service.record`` writes it). So the log holds exactly what happened during each
membership, however often someone leaves and joins again: nothing before they joined,
nothing after they left. Sign-ins, IP addresses and user agents are never copied: what a
member does with their own account is theirs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from typing_extensions import TypeAliasType

from ankra_auth.accounts.models import User
from ankra_auth.db import affected_rows
from ankra_auth.events import cursors
from ankra_auth.orgs.models import OrgEvent

# The contract's list ("Organisations, grown up"), and only it.
OrgEventType = TypeAliasType(
    "OrgEventType",
    Literal[
        "org_created",
        "org_policy_changed",
        "member_invited",
        "invitation_accepted",
        "invitation_declined",
        "invitation_withdrawn",
        "member_left",
        "member_removed",
        "member_role_changed",
        "totp_enabled",
        "totp_removed",
        "passkey_added",
        "passkey_removed",
        "recovery_codes_regenerated",
        "two_factor_disabled",
        "two_factor_reset_by_admin",
    ],
)
ORG_CREATED: Final = "org_created"
POLICY_CHANGED: Final = "org_policy_changed"
MEMBER_INVITED: Final = "member_invited"
INVITATION_ACCEPTED: Final = "invitation_accepted"
INVITATION_DECLINED: Final = "invitation_declined"
INVITATION_WITHDRAWN: Final = "invitation_withdrawn"
MEMBER_LEFT: Final = "member_left"
MEMBER_REMOVED: Final = "member_removed"


def record(
    db: Session,
    *,
    org_id: str,
    user_id: str,
    type: OrgEventType,  # noqa: A002 - the contract's field name
    now: datetime,
    data: Mapping[str, object] | None = None,
) -> None:
    """One line of the organisation's log, in the caller's transaction."""
    db.add(
        OrgEvent(
            org_id=org_id,
            user_id=user_id,
            type=type,
            created_at=now,
            data=json.dumps(dict(data)) if data else None,
        )
    )


@dataclass(frozen=True, slots=True)
class Line:
    id: str
    type: str
    user_id: str
    email: str
    created_at: datetime
    detail: dict[str, object] | None


@dataclass(frozen=True, slots=True)
class Page:
    events: list[Line]
    next_cursor: str | None


def page(db: Session, *, org_id: str, limit: int, cursor: str | None) -> Page:
    """Newest first; the cursor is a position, so new lines never shift a page. Raises
    :class:`InvalidCursor` for a cursor this service did not issue."""
    query = (
        select(OrgEvent, User.email)
        .join(User, User.id == OrgEvent.user_id)
        .where(OrgEvent.org_id == org_id)
    )
    if cursor is not None:
        query = query.where(OrgEvent.seq < cursors.decode(cursor))
    rows = list(db.execute(query.order_by(OrgEvent.seq.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    lines = [
        Line(event.id, event.type, event.user_id, email, event.created_at, _detail(event.data))
        for event, email in rows
    ]
    return Page(lines, cursors.encode(rows[-1][0].seq) if more and rows else None)


def _detail(data: str | None) -> dict[str, object] | None:
    if not data:
        return None
    try:
        facts = json.loads(data)
    except ValueError:
        return None
    return facts if isinstance(facts, dict) else None


def prune(db: Session, *, now: datetime, retention_days: int) -> int:
    """Delete lines older than the security log's retention period; returns how many."""
    result = db.execute(
        delete(OrgEvent).where(OrgEvent.created_at < now - timedelta(days=retention_days))
    )
    db.commit()
    return affected_rows(result)
