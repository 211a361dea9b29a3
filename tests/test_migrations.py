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
