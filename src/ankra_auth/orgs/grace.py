"""The grace period: since when each member has been subject to a requirement they do not
meet, and until when (``due_at`` = then + the organisation's ``grace_days``).

A member becomes subject when they join an organisation that requires something, or when
the organisation turns a requirement on (two-factor, or passkeys on top of it). Meeting
the requirement ends the grace for good: ``subject_since`` is cleared, so a factor removed
later restricts at once. A later change of ``grace_days`` moves every running period's
end. ``due_at`` is stored beside ``subject_since`` so the check on every request only
compares (``orgs.enforcement``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ankra_auth.orgs.enforcement import methods_of
from ankra_auth.orgs.models import Membership, Org


@dataclass(frozen=True, slots=True)
class Policy:
    """What an organisation requires, as ``org_policy_changed`` records it."""

    require_two_factor: bool
    require_passkey: bool
    grace_days: int

    @classmethod
    def of(cls, org: Org) -> Policy:
        return cls(bool(org.require_two_factor), bool(org.require_passkey), int(org.grace_days))

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def met_by(self, kinds: list[str]) -> bool:
        """Whether a member with these kinds of factor meets it."""
        if not self.require_two_factor:
            return True
        return "passkey" in kinds if self.require_passkey else bool(kinds)


def due(subject_since: datetime | None, grace_days: int) -> datetime | None:
    """When the grace period from ``subject_since`` ends; None when there is none."""
    if subject_since is None or grace_days <= 0:
        return None
    return subject_since + timedelta(days=grace_days)


def _start(membership: Membership, since: datetime | None, grace_days: int) -> None:
    if since != membership.subject_since:
        membership.reminded_days = None  # a new requirement: its reminders are still to come
    membership.subject_since = since
    membership.due_at = due(since, grace_days)


def on_join(db: Session, *, org: Org, membership: Membership, now: datetime) -> None:
    """A new member: subject from now to what the organisation requires, unless they meet it."""
    policy = Policy.of(org)
    kinds = methods_of(db, [membership.user_id])[membership.user_id]
    _start(membership, None if policy.met_by(kinds) else now, policy.grace_days)


def on_policy_change(db: Session, *, org: Org, old: Policy, now: datetime) -> None:
    """Move every member's grace to the organisation's new policy (in the caller's
    transaction): a requirement turned on starts a period for whoever does not meet it, one
    turned off ends it, a new ``grace_days`` moves its end."""
    new = Policy.of(org)
    members = list(db.scalars(select(Membership).where(Membership.org_id == org.id)))
    kinds = methods_of(db, [m.user_id for m in members])
    newly_two_factor = new.require_two_factor and not old.require_two_factor
    newly_passkey = new.require_passkey and not old.require_passkey
    for member in members:
        since = member.subject_since
        if new.met_by(kinds[member.user_id]):
            since = None
        elif newly_two_factor or (newly_passkey and since is None):
            # Subject from now; someone already short of two-factor keeps their date.
            since = now
        _start(member, since, new.grace_days)


def met(db: Session, *, user_id: str, passkey: bool) -> None:
    """The user just added a factor (a passkey when ``passkey``, else an authenticator app):
    their grace ends for good wherever that meets the requirement (caller's transaction)."""
    meets = select(Org.id)
    if not passkey:
        meets = meets.where(Org.require_passkey.is_(False))
    db.execute(
        update(Membership)
        .where(
            Membership.user_id == user_id,
            Membership.subject_since.is_not(None),
            Membership.org_id.in_(meets),
        )
        .values(subject_since=None, due_at=None, reminded_days=None)
        .execution_options(synchronize_session=False)
    )
