"""Organisations, grown up: passkeys required, a grace period with reminders, sessions that
remember a passkey, and the organisation's own log

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing organisations keep today's behaviour: no passkey requirement, no grace.
    with op.batch_alter_table("orgs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("require_passkey", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("grace_days", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reminded_days", sa.Integer(), nullable=True))
    # Sessions from before are not known to have used a passkey: they count as not.
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("passkey_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "org_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name="fk_org_events_org_id_orgs", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_org_events_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_org_events"),
        sa.UniqueConstraint("id", name="uq_org_events_id"),
    )
    op.create_index("ix_org_events_org_seq", "org_events", ["org_id", "seq"], unique=False)
    op.create_index("ix_org_events_user_id", "org_events", ["user_id"], unique=False)
    op.create_index("ix_org_events_created_at", "org_events", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_org_events_created_at", table_name="org_events")
    op.drop_index("ix_org_events_user_id", table_name="org_events")
    op.drop_index("ix_org_events_org_seq", table_name="org_events")
    op.drop_table("org_events")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("passkey_at")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("reminded_days")
        batch_op.drop_column("due_at")
        batch_op.drop_column("subject_since")
    with op.batch_alter_table("orgs", schema=None) as batch_op:
        batch_op.drop_column("grace_days")
        batch_op.drop_column("require_passkey")
