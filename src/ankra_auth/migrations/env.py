"""Alembic environment: the URL comes from the caller (``ankra_auth.migrate``) or settings."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from ankra_auth.db import UTCDateTime
from ankra_auth.models import Base

config = context.config


def render_item(type_: str, obj: Any, _autogen_context: AutogenContext) -> str | Literal[False]:
    """Migrations spell UTC datetimes as plain SQL types, never as application classes."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_item=render_item,
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
