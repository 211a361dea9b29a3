"""Backups of the embedded SQLite database, taken while the service serves, and restores.

A backup is SQLite's online backup API (``sqlite3.Connection.backup``): one read
transaction copies every page, so the copy is the database as one moment saw it, while
writers go on (WAL). The secret key file goes beside it (``PATH.secret.key``, mode 0600):
without it every TOTP secret in the copy is unreadable.

A restore refuses while a service holds the database. Every process serving it holds a
shared ``flock`` on ``DB-serve.lock`` beside the database (:func:`hold_while_serving`) for
as long as it lives; the kernel drops it when the process ends, however it ends, so no
stale lock survives a crash. A restore takes that lock exclusively, without waiting,
and keeps it while it writes, so a service starting meanwhile waits for the restore.
The pages are written through the backup API as well, under SQLite's own locks, so a
write-ahead log left beside the old database is never replayed over the restored one.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import make_url

from ankra_auth.config import Settings

log = logging.getLogger("ankra_auth.backups")

KEY_SUFFIX = ".secret.key"
LOCK_SUFFIX = "-serve.lock"


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class Done:
    database: Path
    key_file: Path | None  # None: the key comes from ANKRA_SECRET_KEY, not from a file


def database_file(settings: Settings) -> Path:
    """The SQLite file of ``ANKRA_DATABASE_URL``; refuses a server database."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            "ANKRA_DATABASE_URL is not SQLite: back up PostgreSQL with pg_dump, and keep "
            "ANKRA_SECRET_KEY with the dump (see the README, Running a fleet)"
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("ANKRA_DATABASE_URL names no SQLite file")
    return Path(url.database).resolve()


def key_file_of(backup: Path) -> Path:
    return backup.with_name(backup.name + KEY_SUFFIX)


def backup(settings: Settings, destination: Path) -> Done:
    """Copy the database to ``destination`` (which must not exist) and the key file beside
    it. Safe while the service serves."""
    source = database_file(settings)
    if not source.exists():
        raise BackupError(f"no database at {source}")
    destination = destination.resolve()
    key_copy = key_file_of(destination)
    for path in (destination, key_copy):
        if path.exists():
            raise BackupError(f"{path} exists: name a new file")
    key = _key_file(settings)
    tmp = destination.with_name(f".{destination.name}.{secrets.token_hex(4)}.tmp")
    try:
        os.close(
            os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        )  # private from the start
        _copy_pages(source, tmp)
        if key is not None:
            _write_private(key_copy, key.read_bytes())
        os.link(tmp, destination)  # appears whole, or not at all
    finally:
        tmp.unlink(missing_ok=True)
    return Done(destination, key_copy if key is not None else None)


def restore(settings: Settings, backup_path: Path) -> Done:
    """Replace the database with ``backup_path`` (and its key file, when the key comes
    from one); refuses while a service holds the database."""
    target = database_file(settings)
    backup_path = backup_path.resolve()
    if not backup_path.is_file():
        raise BackupError(f"no backup at {backup_path}")
    _check_is_sqlite(backup_path)
    key_copy = key_file_of(backup_path)
    backup_key = key_copy.read_bytes().strip() if key_copy.exists() else None
    if not settings.secret_key and backup_key is None:
        raise BackupError(
            f"no {key_copy.name} beside the backup: set ANKRA_SECRET_KEY to the key it was "
            "taken under, or its TOTP secrets would be unreadable"
        )
    if settings.secret_key and backup_key not in (None, *settings.secrets):
        raise BackupError(
            f"{key_copy} is neither ANKRA_SECRET_KEY nor in ANKRA_SECRET_KEY_PREVIOUS: "
            "the restored TOTP secrets would be unreadable"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    created = not target.exists()
    if created:
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        return _restore_held(settings, backup_path, target, backup_key)
    except BaseException:
        if created:  # leave no empty database for a service to migrate from scratch
            target.unlink(missing_ok=True)
        raise


def _restore_held(
    settings: Settings, backup_path: Path, target: Path, backup_key: bytes | None
) -> Done:
    with _lock_file(target) as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                f"a running service holds {target}: stop every `ankra-auth serve` on it first"
            ) from None
        _copy_pages(backup_path, target)
        key = None
        if not settings.secret_key and backup_key is not None:
            key = settings.key_file_path()
            _write_private(key, backup_key + b"\n", replace=True)
    return Done(target, key)


def hold_while_serving(settings: Settings) -> IO[bytes] | None:
    """A shared lock on the database's serve lock, held while the returned file is open
    (the process's life): :func:`restore` refuses meanwhile. None for a server database."""
    try:
        target = database_file(settings)
    except BackupError:
        return None
    try:
        handle = _lock_file(target)
    except OSError as exc:  # no folder yet: SQLite will say so on the first request
        log.warning("no serve lock beside %s (%s): restore cannot see this service", target, exc)
        return None
    fcntl.flock(handle, fcntl.LOCK_SH)  # waits only while a restore writes
    return handle


def _key_file(settings: Settings) -> Path | None:
    """The key file in use, if the key comes from one (not from ANKRA_SECRET_KEY)."""
    if settings.secret_key:
        return None
    path = settings.key_file_path()
    return path if path.exists() else None


def _lock_file(database: Path) -> IO[bytes]:
    path = database.with_name(database.name + LOCK_SUFFIX)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    return os.fdopen(fd, "r+b")


def _copy_pages(source: Path, destination: Path) -> None:
    # A read-only source connection: a backup never writes to the live database.
    src = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(destination, timeout=30)
    try:
        src.backup(dst)  # every page in one step: one consistent snapshot
    except sqlite3.OperationalError as exc:
        raise BackupError(f"copying {source} to {destination}: {exc}") from exc
    finally:
        dst.close()
        src.close()


def _check_is_sqlite(path: Path) -> None:
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA quick_check").fetchone()
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not an Ankra Auth SQLite backup ({exc})") from None
    if ok != ("ok",) or revision is None:
        raise BackupError(f"{path} is not a whole Ankra Auth SQLite backup")


def _write_private(path: Path, content: bytes, *, replace: bool = False) -> None:
    """Write ``content`` to ``path`` with mode 0600 from the first byte."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
