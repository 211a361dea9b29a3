"""The ``ankra-auth`` command and settings, run as a real subprocess where it matters."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from ankra_auth.config import Settings


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
