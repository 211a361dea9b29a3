"""Telling the person: verified addresses, the first sign-in, closed accounts, the mail
outbox, and events' named facts

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_verified_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("first_sign_in_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True)))
    # Accounts with a password never proved their address: they start unverified. Accounts
    # without one were made by single sign-on, only for a provider's verified address.
    op.execute("UPDATE users SET email_verified_at = created_at WHERE password_hash IS NULL")
    # Whoever signed in before holds a device token or has a sign-in in the log: their next
    # sign-in from an unknown device is not their first.
    op.execute(
        "UPDATE users SET first_sign_in_at = created_at WHERE "
        "EXISTS (SELECT 1 FROM device_tokens WHERE device_tokens.user_id = users.id) OR "
        "EXISTS (SELECT 1 FROM security_events WHERE security_events.user_id = users.id "
        "AND security_events.type = 'sign_in')"
    )
    op.create_table(
        "email_verifications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_email_verifications_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_email_verifications"),
        sa.UniqueConstraint("token_hash", name="uq_email_verifications_token_hash"),
    )
    op.create_index(
        "ix_email_verifications_user_id", "email_verifications", ["user_id"], unique=False
    )
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("burst", sa.String(length=80), nullable=True),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("last_payload", sa.Text(), nullable=True),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_mail_outbox_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_mail_outbox"),
    )
    op.create_index("ix_mail_outbox_user_id", "mail_outbox", ["user_id"], unique=False)
    op.create_index("ix_mail_outbox_state_due_at", "mail_outbox", ["state", "due_at"])
    op.create_index(
        "uq_mail_outbox_burst",
        "mail_outbox",
        ["burst"],
        unique=True,
        postgresql_where=sa.text("state = 'queued'"),
        sqlite_where=sa.text("state = 'queued'"),
    )
    with op.batch_alter_table("security_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("security_events", schema=None) as batch_op:
        batch_op.drop_column("data")
    op.drop_index("uq_mail_outbox_burst", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_state_due_at", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_user_id", table_name="mail_outbox")
    op.drop_table("mail_outbox")
    op.drop_index("ix_email_verifications_user_id", table_name="email_verifications")
    op.drop_table("email_verifications")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
        batch_op.drop_column("first_sign_in_at")
        batch_op.drop_column("email_verified_at")
