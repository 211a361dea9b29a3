"""The saved sign-in: server and access token in the user's config directory, mode 0600.

Beside it, ``device-tokens.json`` (also 0600) keeps the device token of each server and
account this terminal signed in to; it outlives ``ankra logout``, so a flood of wrong
passwords from elsewhere does not lock this terminal out.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ankra_cli.errors import CliError

DEFAULT_SERVER = "http://localhost:8000"
FILE_NAME = "credentials.json"
DEVICE_TOKENS_FILE = "device-tokens.json"


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
    return _write_private(path(), asdict(credentials))


def _write_private(target: Path, data: object) -> Path:
    import secrets  # here: reading the sign-in, as every command does, needs none of it

    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def device_tokens_path() -> Path:
    return config_dir() / DEVICE_TOKENS_FILE


def _device_key(server: str, email: str) -> str:
    # A token is bound to one account on one server; the email as typed names the account.
    return f"{server.rstrip('/')} {email.strip()}"


def _device_tokens() -> dict[str, str]:
    try:
        data = json.loads(device_tokens_path().read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def load_device_token(server: str, email: str) -> str | None:
    return _device_tokens().get(_device_key(server, email))


def save_device_token(server: str, email: str, token: str) -> Path:
    tokens = _device_tokens()
    tokens[_device_key(server, email)] = token
    return _write_private(device_tokens_path(), tokens)


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
