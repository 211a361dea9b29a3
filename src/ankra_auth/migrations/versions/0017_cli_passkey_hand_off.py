"""CLI hand-offs that sign in with a passkey alone (`ankra login --passkey`): the grant
knows no account until the passkey names it

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cli_grants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("passkey_first", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("cli_grants", schema=None) as batch_op:
        batch_op.drop_column("passkey_first")
