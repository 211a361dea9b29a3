"""Device hand-offs keep why single sign-on refused them, for the polling terminal

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cli_grants", sa.Column("refusal", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cli_grants", schema=None) as batch_op:
        batch_op.drop_column("refusal")
