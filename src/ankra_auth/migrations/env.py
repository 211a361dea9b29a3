"""Alembic environment: the URL comes from the caller (``ankra_auth.migrate``) or settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from ankra_auth.models import Base

config = context.config


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    from ankra_auth.config import get_settings
    from ankra_auth.db import make_engine

    with make_engine(get_settings()).connect() as conn:
        run_with(conn)
