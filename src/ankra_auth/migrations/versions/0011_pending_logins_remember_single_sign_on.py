"""Pending logins remember a single sign-on first factor, to name the completed sign-in

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column with no default: SQLite and PostgreSQL add it without a rewrite.
    op.add_column("pending_logins", sa.Column("sso_provider", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pending_logins", schema=None) as batch_op:
        batch_op.drop_column("sso_provider")
