"""Reminder mails before a grace period ends: 7 days and 1 day before ``due_at``.

A periodic job (run with the pruner, ``pruning.prune``) finds the members whose reminder
is due and, for each, claims it with a conditional UPDATE of the membership
(``reminded_days``) and queues the mail through the outbox in the same transaction: the
row count decides, so each reminder is queued once per member and requirement
(``subject_since``), however many instances run the job at once. A requirement met, or
switched off, clears ``due_at`` and nothing more is sent; a new requirement starts its
reminders again (``grace``).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ankra_auth.db import affected_rows, new_id
from ankra_auth.notify import outbox
from ankra_auth.orgs.models import Membership, Org

KIND: Final = "org_requirement_due"
WEEK: Final = 7
DAY: Final = 1


def reminder_due(
    *, due_at: datetime, subject_since: datetime, reminded_days: int | None, now: datetime
) -> int | None:
    """Which reminder (7 or 1 days before) is due now, or None.

    The 7-day one only when the grace period was a week or longer (nothing is 7 days
    before a shorter one), and never once the 1-day one is due: a job that ran late sends
    the nearer one only.
    """
    left = due_at - now
    if left <= timedelta(0):
        return None
    if left <= timedelta(days=DAY):
        return DAY if reminded_days is None or reminded_days > DAY else None
    if left <= timedelta(days=WEEK) and reminded_days is None:
        return WEEK if due_at - subject_since >= timedelta(days=WEEK) else None
    return None


def queue_due(db: Session, *, now: datetime) -> int:
    """Queue the reminders due now, one short transaction each; returns how many."""
    candidates = list(
        db.execute(
            select(
                Membership.org_id,
                Membership.user_id,
                Membership.subject_since,
                Membership.due_at,
                Membership.reminded_days,
                Org.name,
                Org.require_passkey,
            )
            .join(Org, Org.id == Membership.org_id)
            .where(
                Org.require_two_factor.is_(True),
                Membership.subject_since.is_not(None),
                Membership.due_at > now,
                Membership.due_at <= now + timedelta(days=WEEK),
                or_(Membership.reminded_days.is_(None), Membership.reminded_days > DAY),
            )
        )
    )
    db.rollback()
    queued = 0
    for org_id, user_id, since, due_at, reminded, name, passkey in candidates:
        if since is None or due_at is None:  # excluded by the query
            continue
        days = reminder_due(due_at=due_at, subject_since=since, reminded_days=reminded, now=now)
        if days is None:
            continue
        claimed = db.execute(
            update(Membership)
            .where(
                Membership.org_id == org_id,
                Membership.user_id == user_id,
                Membership.subject_since == since,  # the same requirement, still unmet
                Membership.due_at == due_at,
                or_(Membership.reminded_days.is_(None), Membership.reminded_days > days),
            )
            .values(reminded_days=days)
            .execution_options(synchronize_session=False)
        )
        if affected_rows(claimed) != 1:  # another instance sent it, or the grace changed
            db.rollback()
            continue
        mail = outbox.Mail(
            params={
                "id": new_id(),
                "user_id": user_id,
                "kind": KIND,
                "burst": None,  # each reminder is its own mail, never joined with another
                "payload": json.dumps(
                    {
                        "at": now.isoformat(),
                        "org": name,
                        "required": "passkey" if passkey else "two_factor",
                        "due_at": due_at.isoformat(),
                        "days": days,
                    }
                ),
                "now": now,
            },
            after_first_sign_in=False,
        )
        # Not for an unverified address (security mails go to verified ones): the claim
        # stays, so a later verification does not bring an outdated reminder.
        if outbox.queue_now(db, mail):
            queued += 1
        db.commit()
    return queued
