"""Passkeys first: what the authenticator reported at registration (user verification,
discoverable), and whether a passkey has signed in by itself

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("passkeys", schema=None) as batch_op:
        # NULL for passkeys registered before: unknown stays unknown.
        batch_op.add_column(sa.Column("user_verified", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("discoverable", sa.Boolean(), nullable=True))
        batch_op.add_column(
            sa.Column("signed_in_alone", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("passkeys", schema=None) as batch_op:
        batch_op.drop_column("signed_in_alone")
        batch_op.drop_column("discoverable")
        batch_op.drop_column("user_verified")
