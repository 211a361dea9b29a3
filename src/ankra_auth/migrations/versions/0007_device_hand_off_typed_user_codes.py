"""device hand-off: typed user codes stored hashed, the terminal's address, per-address attempts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "device_code_attempts",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_device_code_attempts")),
    )
    # Hand-offs live minutes: the ones in flight were shown a code the page no longer
    # accepts (plain text, non-Crockford), so they are ended rather than converted.
    op.execute("DELETE FROM cli_grants WHERE user_code IS NOT NULL AND approved_at IS NULL")
    with op.batch_alter_table("cli_grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_code_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("requested_ip", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_cli_grants_user_code_hash"), ["user_code_hash"], unique=False
        )
        batch_op.drop_column("user_code")


def downgrade() -> None:
    with op.batch_alter_table("cli_grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_code", sa.String(length=16), nullable=True))
        batch_op.drop_index(batch_op.f("ix_cli_grants_user_code_hash"))
        batch_op.drop_column("requested_ip")
        batch_op.drop_column("user_code_hash")
    op.drop_table("device_code_attempts")
