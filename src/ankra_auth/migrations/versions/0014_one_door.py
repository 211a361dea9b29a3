"""One door: throttles count attempts in flight apart from failures and count device
tokens too; hand-offs and SSO flows remember their browser and device token; link
confirmations; windowed limits for organisations and invitations

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("throttles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("in_flight", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("in_flight_until", sa.DateTime(timezone=True), nullable=True))
        # Every reservation stamps it now, not only a failure: the pruner forgets by it.
        batch_op.alter_column("last_failure_at", new_column_name="last_attempt_at")
    # A device token's count moves to its own throttle key; a void one (10 failures)
    # stays void until it expires.
    op.execute(
        "INSERT INTO throttles (key, failures, in_flight, blocked_until, last_attempt_at) "
        "SELECT 'token:' || id, failures, 0, "
        "CASE WHEN failures >= 10 THEN expires_at END, created_at "
        "FROM device_tokens WHERE failures > 0"
    )
    with op.batch_alter_table("device_tokens", schema=None) as batch_op:
        batch_op.drop_column("failures")
    # The per-address window of wrong user codes becomes every windowed limit's table.
    op.rename_table("device_code_attempts", "attempt_windows")
    with op.batch_alter_table("cli_grants", schema=None) as batch_op:
        # `--sso --no-browser`: the browser that typed the user code (its cookie's hash).
        batch_op.add_column(sa.Column("browser_binding_hash", sa.String(64), nullable=True))
        # `ankra login --sso`: the CLI's device token, for its second factor's budget.
        batch_op.add_column(sa.Column("device_token_hash", sa.String(64), nullable=True))
    with op.batch_alter_table("sso_flows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_token_hash", sa.String(64), nullable=True))
    with op.batch_alter_table("sso_pending_links", schema=None) as batch_op:
        # A link the signed-in person must confirm on the page (not a sign-in's).
        batch_op.add_column(sa.Column("confirm_hash", sa.String(64), nullable=True))
    with op.batch_alter_table("orgs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "created_by",
                sa.String(32),
                sa.ForeignKey("users.id", name="fk_orgs_created_by_users", ondelete="SET NULL"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("orgs", schema=None) as batch_op:
        batch_op.drop_column("created_by")
    with op.batch_alter_table("sso_pending_links", schema=None) as batch_op:
        batch_op.drop_column("confirm_hash")
    with op.batch_alter_table("sso_flows", schema=None) as batch_op:
        batch_op.drop_column("device_token_hash")
    with op.batch_alter_table("cli_grants", schema=None) as batch_op:
        batch_op.drop_column("device_token_hash")
        batch_op.drop_column("browser_binding_hash")
    op.rename_table("attempt_windows", "device_code_attempts")
    with op.batch_alter_table("device_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))
    op.execute("DELETE FROM throttles WHERE key LIKE 'token:%'")
    with op.batch_alter_table("throttles", schema=None) as batch_op:
        batch_op.alter_column("last_attempt_at", new_column_name="last_failure_at")
        batch_op.drop_column("in_flight_until")
        batch_op.drop_column("in_flight")
