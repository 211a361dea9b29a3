"""CLI login through single sign-on: a grant before its account is known, tied to its flow

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 23:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nothing references cli_grants yet, so SQLite's batch copy drops no other row.
    with op.batch_alter_table("cli_grants", schema=None) as batch_op:
        batch_op.alter_column("pending_login_id", existing_type=sa.String(length=32), nullable=True)
        batch_op.alter_column("user_id", existing_type=sa.String(length=32), nullable=True)
        batch_op.add_column(sa.Column("sso_provider", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("sso_started_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("sso_flows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cli_grant_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_sso_flows_cli_grant_id_cli_grants"),
            "cli_grants",
            ["cli_grant_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("sso_flows", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_sso_flows_cli_grant_id_cli_grants"), type_="foreignkey"
        )
        batch_op.drop_column("cli_grant_id")
    # Grants still waiting for their single sign-on have no account: they cannot be kept.
    op.execute("DELETE FROM cli_grants WHERE user_id IS NULL OR pending_login_id IS NULL")
    with op.batch_alter_table("cli_grants", schema=None) as batch_op:
        batch_op.drop_column("sso_started_at")
        batch_op.drop_column("sso_provider")
        batch_op.alter_column("user_id", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column(
            "pending_login_id", existing_type=sa.String(length=32), nullable=False
        )
