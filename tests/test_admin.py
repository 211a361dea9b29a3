"""The ``ankra-auth`` command and settings, run as a real subprocess where it matters."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ankra_auth.config import Settings
from tests.postgres_server import PostgresServer


def run_admin(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ankra_auth", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def test_secret_key_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'ankra.db'}", secret_key=None)
    key = settings.secret
    path = tmp_path / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) >= 43
    again = Settings(database_url=f"sqlite:///{tmp_path / 'ankra.db'}", secret_key=None)
    assert again.secret == key


def test_serve_refuses_a_shared_database_without_a_secret_key(tmp_path: Path) -> None:
    env = {
        "ANKRA_DATABASE_URL": "postgresql+psycopg://ankra@127.0.0.1:1/none",
        "ANKRA_SECRET_KEY": "",
    }
    result = run_admin("serve", "--port", "1", env=env)
    assert result.returncode == 1
    assert "ANKRA_SECRET_KEY must be set" in result.stderr and "Traceback" not in result.stderr


def test_settings_defaults_follow_the_public_url() -> None:
    settings = Settings(public_url="https://auth.example.com", secret_key="x")
    assert settings.effective_rp_id == "auth.example.com"
    assert settings.origins == frozenset({"https://auth.example.com"})
    assert settings.cookie_secure
    custom = Settings(
        allowed_origins="https://a.example, https://b.example/", rp_id="example", secret_key="x"
    )
    assert custom.origins == frozenset({"https://a.example", "https://b.example"})
    assert custom.effective_rp_id == "example"


def test_migrate_users_create_and_reset(tmp_path: Path) -> None:
    env = {"ANKRA_DATABASE_URL": f"sqlite:///{tmp_path / 'ankra.db'}"}
    migrated = run_admin("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    created = run_admin(
        "users",
        "create",
        "Admin@Example.com",
        "--password-stdin",
        env=env,
        stdin="long enough pw\n",
    )
    assert created.returncode == 0, created.stderr
    assert "admin@example.com" in created.stdout
    taken = run_admin(
        "users",
        "create",
        "admin@example.com",
        "--password-stdin",
        env=env,
        stdin="long enough pw\n",
    )
    assert (
        taken.returncode == 1
        and "already exists" in taken.stderr
        and "Traceback" not in taken.stderr
    )
    short = run_admin(
        "users", "create", "b@example.com", "--password-stdin", env=env, stdin="short\n"
    )
    assert short.returncode == 1 and "password" in short.stderr and "Traceback" not in short.stderr
    reset = run_admin("users", "reset-2fa", "admin@example.com", env=env)
    assert reset.returncode == 0, reset.stderr
    unknown = run_admin("users", "reset-2fa", "nobody@example.com", env=env)
    assert unknown.returncode == 1 and "no user" in unknown.stderr


def test_openapi_command_prints_the_spec(tmp_path: Path) -> None:
    result = run_admin("openapi", env={"ANKRA_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert result.returncode == 0
    spec = json.loads(result.stdout)
    assert "/api/v1/auth/login" in spec["paths"]


# --- admin commands on a database that is not there or not migrated ---------------------------

ADMIN_COMMANDS = [
    ("users", "create", "new@example.com"),
    ("users", "create", "new@example.com", "--password-stdin"),
    ("users", "reset-2fa", "new@example.com"),
    ("events", "prune"),
    ("prune",),
    ("rotate-secrets",),
]


def ankra_auth(
    *args: str, cwd: Path, env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """The installed ``ankra-auth`` command, as a person runs it in ``cwd``."""
    command = Path(sys.executable).with_name("ankra-auth")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ANKRA_")}
    return subprocess.run(
        [str(command), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean, **env},
        timeout=120,
        check=False,
    )


def assert_one_line_refusal(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and "Password" not in result.stdout
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("command", ADMIN_COMMANDS, ids=" ".join)
def test_an_admin_command_in_an_empty_folder_says_so_and_creates_nothing(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = ankra_auth(*command, cwd=tmp_path, env={}, stdin="long enough pw\n")
    assert_one_line_refusal(result, f"no database at {tmp_path / 'ankra.db'}", "ankra-auth migrate")
    assert list(tmp_path.iterdir()) == []  # no ankra.db, no secret.key


@pytest.mark.parametrize("command", ADMIN_COMMANDS[:3], ids=" ".join)
def test_an_admin_command_on_a_file_that_is_not_migrated_leaves_it_alone(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    (tmp_path / "ankra.db").touch()  # what the old command left behind
    result = ankra_auth(*command, cwd=tmp_path, env={}, stdin="long enough pw\n")
    assert_one_line_refusal(result, f"the database {tmp_path / 'ankra.db'} is not migrated")
    assert (tmp_path / "ankra.db").stat().st_size == 0
    migrated = ankra_auth("migrate", cwd=tmp_path, env={})
    assert migrated.returncode == 0 and str(tmp_path / "ankra.db") in migrated.stdout
    again = ankra_auth(*command, cwd=tmp_path, env={}, stdin="long enough pw\n")
    assert "Traceback" not in again.stderr and "not migrated" not in again.stderr


def test_an_admin_command_on_an_empty_postgresql_database_hides_the_password(
    postgres: PostgresServer | str, tmp_path: Path
) -> None:
    if isinstance(postgres, str):
        pytest.skip("needs a PostgreSQL server of its own to create an empty database")
    url = postgres.create_database("empty_" + uuid.uuid4().hex[:12])
    with_password = url.replace("://", "://postgres:sekrit-pw@", 1) if "@" not in url else url
    env = {"ANKRA_DATABASE_URL": with_password, "ANKRA_SECRET_KEY": "k" * 40}
    result = ankra_auth("users", "reset-2fa", "a@example.com", cwd=tmp_path, env=env)
    assert_one_line_refusal(result, "is not migrated", "postgresql+psycopg://")
    assert "sekrit-pw" not in result.stderr
    unreachable = {**env, "ANKRA_DATABASE_URL": "postgresql+psycopg://u:sekrit-pw@127.0.0.1:1/x"}
    for command in (("users", "reset-2fa", "a@example.com"), ("migrate",)):
        result = ankra_auth(*command, cwd=tmp_path, env=unreachable)
        assert_one_line_refusal(result, "postgresql+psycopg://u:***@127.0.0.1:1/x")
        assert "sekrit-pw" not in result.stderr
