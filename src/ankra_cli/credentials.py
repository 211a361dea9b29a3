"""The saved sign-in: server and access token in the user's config directory, mode 0600."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from ankra_cli.errors import CliError

DEFAULT_SERVER = "http://localhost:8000"
FILE_NAME = "credentials.json"


@dataclass(frozen=True, slots=True)
class Credentials:
    server: str
    access_token: str
    email: str | None = None


def config_dir() -> Path:
    """``ANKRA_CONFIG_DIR``, else the platform's per-user config directory for ``ankra``."""
    override = os.environ.get("ANKRA_CONFIG_DIR")
    if override:
        return Path(override)
    import typer

    return Path(typer.get_app_dir("ankra"))


def path() -> Path:
    return config_dir() / FILE_NAME


def load() -> Credentials | None:
    try:
        data = json.loads(path().read_text())
        return Credentials(
            server=str(data["server"]),
            access_token=str(data["access_token"]),
            email=data.get("email"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(credentials: Credentials) -> Path:
    """Write atomically; the file is created 0600, never readable by others, even briefly."""
    target = path()
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = target.with_name(f".{FILE_NAME}.{secrets.token_hex(6)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(asdict(credentials), handle, indent=2)
            handle.write("\n")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def delete() -> bool:
    try:
        path().unlink()
    except FileNotFoundError:
        return False
    return True


def resolve_server(option: str | None, saved: Credentials | None) -> str:
    """``--server``, else ``ANKRA_SERVER``, else the saved sign-in's, else the default."""
    server = option or os.environ.get("ANKRA_SERVER") or (saved.server if saved else None)
    server = (server or DEFAULT_SERVER).strip().rstrip("/")
    if not server.startswith(("http://", "https://")):
        raise CliError(f"The server address must start with http:// or https:// (got {server!r})")
    return server
