"""normalise stored emails (NFC, Unicode domain, lower case)

Rows whose normal form another row already has (or shares) are reported and left
as they are: merging two accounts is a decision for a person, not a migration.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:40:00.000000
"""

import logging
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ankra_auth.accounts.emails import normalize_email

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("ankra_auth.migrations")

users = sa.table("users", sa.column("id", sa.String), sa.column("email", sa.String))


def upgrade() -> None:
    connection = op.get_bind()
    by_normal: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for user_id, email in connection.execute(sa.select(users.c.id, users.c.email)):
        by_normal[normalize_email(email)].append((user_id, email))
    for normal, rows in by_normal.items():
        if len(rows) > 1:
            log.warning(
                "email collision, left unchanged (merge or rename by hand): %s -> %r",
                ", ".join(f"user {user_id} {email!r}" for user_id, email in rows),
                normal,
            )
            continue
        user_id, email = rows[0]
        if email != normal:
            connection.execute(sa.update(users).where(users.c.id == user_id).values(email=normal))


def downgrade() -> None:
    # The original spellings are not kept; normalised emails stay valid under the old rule.
    pass
