"""cli grants remember the approving factor

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 20:02:41.223210
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cli_grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approved_method", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cli_grants", schema=None) as batch_op:
        batch_op.drop_column("approved_method")
