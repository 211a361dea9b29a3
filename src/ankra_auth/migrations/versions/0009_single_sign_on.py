"""single sign-on

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:34:11.342710
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

NOT_NULL = "password_hash VARCHAR(200) NOT NULL"
NULLABLE = "password_hash VARCHAR(200)"


revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sso_identities",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sso_identities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_identities")),
        sa.UniqueConstraint("issuer", "subject", name="uq_sso_identities_issuer_subject"),
        sa.UniqueConstraint("user_id", "provider_id", name="uq_sso_identities_user_provider"),
    )
    with op.batch_alter_table("sso_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sso_identities_user_id"), ["user_id"], unique=False)

    op.create_table(
        "sso_pending_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sso_pending_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_pending_links")),
    )
    with op.batch_alter_table("sso_pending_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sso_pending_links_browser_hash"), ["browser_hash"], unique=False
        )

    op.create_table(
        "sso_flows",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=True),
        sa.Column("next_path", sa.String(length=2048), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_sso_flows_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_flows")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_sso_flows_state_hash")),
    )
    with op.batch_alter_table("sso_flows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sso_flows_expires_at"), ["expires_at"], unique=False)

    _password_hash_nullable(True)


def downgrade() -> None:
    op.execute("DELETE FROM users WHERE password_hash IS NULL")  # accounts made by SSO
    _password_hash_nullable(False)

    with op.batch_alter_table("sso_flows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_flows_expires_at"))

    op.drop_table("sso_flows")
    with op.batch_alter_table("sso_pending_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_pending_links_browser_hash"))

    op.drop_table("sso_pending_links")
    with op.batch_alter_table("sso_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_identities_user_id"))

    op.drop_table("sso_identities")


def _password_hash_nullable(nullable: bool) -> None:
    """Accounts created by single sign-on have no password.

    On SQLite a batch ALTER would copy ``users`` and drop the original, and that DROP
    cascades (foreign keys are on): every session, passkey and membership would go.
    Dropping a NOT NULL constraint does not change the file's content, so SQLite's
    documented shortcut applies instead: edit the table's definition in place
    (https://sqlite.org/lang_altertable.html, "making other kinds of table schema changes").
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.alter_column(
            "users", "password_hash", existing_type=sa.VARCHAR(length=200), nullable=nullable
        )
        return
    table_sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'"
    ).scalar_one()
    old, new = (NOT_NULL, NULLABLE) if nullable else (NULLABLE + ",", NOT_NULL + ",")
    if old not in table_sql:
        raise RuntimeError(f"users.password_hash is not declared as expected: {table_sql}")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'users'",
        (table_sql.replace(old, new, 1),),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
