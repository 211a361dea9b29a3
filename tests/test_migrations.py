"""The Alembic history builds exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ankra_auth import migrate
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from ankra_auth.models import Base


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(Settings(database_url=database_url, secret_key="x"))
    assert migrate.is_current(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_organisations_grown_up_downgrades_and_upgrades(database_url: str) -> None:
    """0018 undone and done again: the columns and the org log go and come back."""
    from alembic import command
    from sqlalchemy import inspect

    engine = make_engine(Settings(database_url=database_url, secret_key="x"))
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0017")
    assert "org_events" not in inspect(engine).get_table_names()
    assert "require_passkey" not in {c["name"] for c in inspect(engine).get_columns("orgs")}
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    assert "org_events" in inspect(engine).get_table_names()
    engine.dispose()
