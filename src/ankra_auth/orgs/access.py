"""Who may act on an organisation: the row lock and the role checks every use case starts with."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from ankra_auth.errors import Forbidden, NotFound
from ankra_auth.orgs.models import Membership, Org
from ankra_auth.text import is_resource_id

OWNER = "owner"
MEMBER = "member"

NO_SUCH_ORG = "No such organisation"

# Anything that could not name a row is unknown at once: PostgreSQL refuses a NUL in a
# query parameter, and that must be a 404, not a 500.
well_formed = is_resource_id


def lock_org(db: Session, org_id: str) -> Org:
    """Lock the organisation row: changes to one organisation's members run one at a time.

    ``FOR NO KEY UPDATE`` (PostgreSQL): it still orders those changes, but lets a row that
    references the organisation (a line of its log, written while a member changes a
    factor) be inserted meanwhile; ``FOR UPDATE`` made such an insert wait for the lock
    while holding the member's rows, which the lock holder then waited for: a deadlock."""
    if not well_formed(org_id):
        raise NotFound(NO_SUCH_ORG)
    org = db.scalar(
        select(Org)
        .where(Org.id == org_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if org is None:
        raise NotFound(NO_SUCH_ORG)
    return org


def role_of(db: Session, *, org_id: str, user_id: str) -> str | None:
    """The user's role as an active member, or ``None`` (an invitation is no membership)."""
    if not (well_formed(org_id) and well_formed(user_id)):
        return None
    return db.scalar(
        select(Membership.role).where(Membership.org_id == org_id, Membership.user_id == user_id)
    )


def require_member(db: Session, *, org_id: str, user_id: str) -> str:
    role = role_of(db, org_id=org_id, user_id=user_id)
    if role is None:
        raise NotFound(NO_SUCH_ORG)
    return role


def require_owner(db: Session, *, org_id: str, user_id: str) -> None:
    if require_member(db, org_id=org_id, user_id=user_id) != OWNER:
        raise Forbidden("Only an owner of this organisation can do this")


def quoted(name: str) -> str:
    """An organisation's name as the security log shows it: quoted, since anyone chooses it."""
    return json.dumps(name, ensure_ascii=False)
