"""Before an admin command touches the database: is it there, reachable and migrated?

``ankra-auth users create`` in the wrong folder, or before the first ``serve``, used to
create an empty ``ankra.db`` (SQLite makes the file on connect) and die with a traceback
("no such table: users"). The admin commands check first and refuse in one line that
names the database, so nobody creates accounts in a file the service never reads. They
do not migrate by themselves for the same reason: a database that is not migrated is
most often the wrong database.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from alembic.script import ScriptDirectory
from sqlalchemy import URL, Engine, create_engine, inspect, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError

from ankra_auth import migrate
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from ankra_auth.errors import database_failure

MIGRATE_HINT = "run `ankra-auth migrate` (or `ankra-auth serve`, which migrates) first"


class DatabaseNotReady(RuntimeError):
    """The database is missing, unreachable or not at this version's schema; ``str()`` says
    which, in one line, with the database named (never its password)."""


def sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names, or None for an in-memory database or a ``file:`` URI."""
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("uri") or database.startswith("file:"):
        return None
    return Path(database).resolve()


def describe(database_url: str) -> str:
    """The database as a message names it: a SQLite file's absolute path, else the URL
    with its password hidden."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return "(ANKRA_DATABASE_URL is not a database URL)"
    if url.get_backend_name() == "sqlite":
        path = sqlite_file(url)
        return str(path) if path is not None else url.render_as_string(hide_password=True)
    return url.render_as_string(hide_password=True)


def _read_only_engine(settings: Settings) -> Engine:
    """A SQLite file opened read-only (a check must not write a byte, nor turn on WAL);
    any other database as the service opens it."""
    url = make_url(settings.database_url)
    path = sqlite_file(url) if url.get_backend_name() == "sqlite" else None
    if path is None:
        return make_engine(settings)
    return create_engine(f"sqlite:///file:{quote(str(path))}?mode=ro&uri=true")


def require_current(settings: Settings) -> None:
    """Raises :class:`DatabaseNotReady` unless the database exists, answers, and its schema
    is this version's; creates nothing (a missing SQLite file is never opened)."""
    name = describe(settings.database_url)
    try:
        url = make_url(settings.database_url)
    except ArgumentError:
        raise DatabaseNotReady(f"ANKRA_DATABASE_URL is not a database URL: {name}") from None
    if url.get_backend_name() == "sqlite":
        path = sqlite_file(url)
        if path is not None and not path.exists():
            raise DatabaseNotReady(
                f"no database at {name}: {MIGRATE_HINT}, or set ANKRA_DATABASE_URL to the "
                "service's database"
            )
    engine = _read_only_engine(settings)
    try:
        with engine.connect() as connection:
            revision = (
                connection.scalar(text("SELECT version_num FROM alembic_version"))
                if inspect(connection).has_table("alembic_version")
                else None
            )
    except DBAPIError as exc:
        raise DatabaseNotReady(f"cannot use the database {name}: {database_failure(exc)}") from None
    finally:
        engine.dispose()
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    head = scripts.get_current_head()
    if revision == head:
        return
    if revision is None:
        raise DatabaseNotReady(f"the database {name} is not migrated: {MIGRATE_HINT}")
    known = {script.revision for script in scripts.walk_revisions()}
    if revision in known:
        raise DatabaseNotReady(
            f"the database {name} is at revision {revision}, this version needs {head}: "
            "run `ankra-auth migrate` first"
        )
    raise DatabaseNotReady(
        f"the database {name} is at revision {revision}, which this version of Ankra Auth "
        f"does not know (it expects {head}): is the database newer than the software?"
    )
