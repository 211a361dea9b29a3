"""Throttles remember when they last counted an attempt, so the pruner can forget them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 02:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL for rows counted before: the pruner keeps those until they are counted again.
    op.add_column(
        "throttles", sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("throttles", schema=None) as batch_op:
        batch_op.drop_column("last_failure_at")
