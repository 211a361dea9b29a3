"""One email normalisation everywhere: NFC, Unicode domain, lower case; one mailbox, one account."""

from __future__ import annotations

import logging
import unicodedata
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import text

from ankra_auth import migrate
from ankra_auth.accounts.emails import normalize_email
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from tests.helpers import PASSWORD
from tests.postgres_server import PostgresServer
from tests.test_admin import run_admin

NFC = unicodedata.normalize("NFC", "José@Bücher.example")
NFD = unicodedata.normalize("NFD", NFC)
PUNYCODE = "José@XN--BCHER-KVA.example"
CANONICAL = "josé@bücher.example"


def test_the_normal_form() -> None:
    assert NFC != NFD
    for spelling in (NFC, NFD, PUNYCODE, f"  {NFD.upper()} ", CANONICAL):
        assert normalize_email(spelling) == CANONICAL
    assert normalize_email(CANONICAL) == CANONICAL
    # never raises, whatever it is given
    assert normalize_email("no at sign") == "no at sign"
    assert normalize_email("a@xn--invalid-") == "a@xn--invalid-"


def login(client: TestClient, email: str) -> int:
    r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return r.status_code


@pytest.mark.parametrize("signed_up_as", [NFD, NFC, PUNYCODE])
def test_every_spelling_is_one_account(client: TestClient, signed_up_as: str) -> None:
    r = client.post("/api/v1/users", json={"email": signed_up_as, "password": PASSWORD})
    assert r.status_code == 201, r.text
    assert r.json()["email"] == CANONICAL
    for spelling in (signed_up_as, NFC, NFD, PUNYCODE, CANONICAL):
        assert login(client, spelling) == 200, spelling
        again = client.post("/api/v1/users", json={"email": spelling, "password": PASSWORD})
        assert again.status_code == 409 and again.json()["code"] == "email_taken"


def test_org_members_are_found_by_any_spelling(client: TestClient) -> None:
    owner = client.post("/api/v1/users", json={"email": "o@example.com", "password": PASSWORD})
    assert owner.status_code == 201
    token = client.post(
        "/api/v1/auth/login", json={"email": "o@example.com", "password": PASSWORD}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert (
        client.post("/api/v1/users", json={"email": NFC, "password": PASSWORD}).status_code == 201
    )
    org_id = client.post("/api/v1/orgs", json={"name": "Acme"}, headers=auth).json()["id"]
    r = client.post(f"/api/v1/orgs/{org_id}/members", json={"email": NFD}, headers=auth)
    assert r.status_code == 201, r.text
    assert r.json()["email"] == CANONICAL
    r = client.post(f"/api/v1/orgs/{org_id}/members", json={"email": PUNYCODE}, headers=auth)
    assert r.status_code == 409 and r.json()["code"] == "already_member"


def test_admin_commands_normalise_too(client: TestClient, database_url: str) -> None:
    env = {"ANKRA_DATABASE_URL": database_url, "ANKRA_SECRET_KEY": "test-secret-key-" + "k" * 32}
    created = run_admin("users", "create", NFD, "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    assert CANONICAL in created.stdout
    again = run_admin(
        "users", "create", PUNYCODE, "--password-stdin", env=env, stdin=PASSWORD + "\n"
    )
    assert again.returncode == 1 and "already exists" in again.stderr
    assert login(client, NFC) == 200
    reset = run_admin("users", "reset-2fa", PUNYCODE, env=env)
    assert reset.returncode == 0, reset.stderr
    nul = run_admin("users", "reset-2fa", "a\x01@example.com", env=env)
    assert nul.returncode == 1 and "Traceback" not in nul.stderr


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    postgres: PostgresServer | str = request.getfixturevalue("postgres")
    if isinstance(postgres, str):
        pytest.skip("needs a server to create a fresh database on")
    return postgres.create_database("m_" + uuid.uuid4().hex[:12])


def test_the_migration_normalises_and_reports_collisions(
    empty_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(Settings(database_url=empty_database, secret_key="x"))
    config = migrate.alembic_config()
    before = ScriptDirectory.from_config(config).get_revision("0008").down_revision
    assert isinstance(before, str)
    rows = {
        "a" * 32: NFD,  # alone: rewritten
        "b" * 32: "Carol@Example.COM",  # collides with the next one: both left
        "c" * 32: "carol@example.com",
        "d" * 32: "dave@example.com",  # already normal
    }
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, before)
        for user_id, email in rows.items():
            connection.execute(
                text(
                    "INSERT INTO users (id, email, password_hash, created_at) "
                    "VALUES (:id, :email, 'x', :at)"
                ),
                {"id": user_id, "email": email, "at": datetime(2026, 1, 1, tzinfo=UTC)},
            )
    with caplog.at_level(logging.WARNING, logger="ankra_auth.migrations"), engine.begin() as c:
        config.attributes["connection"] = c
        command.upgrade(config, "0008")
    with engine.connect() as connection:
        stored = dict(connection.execute(text("SELECT id, email FROM users")).all())
    engine.dispose()
    assert stored == {
        "a" * 32: CANONICAL,
        "b" * 32: "Carol@Example.COM",
        "c" * 32: "carol@example.com",
        "d" * 32: "dave@example.com",
    }
    reported = " ".join(r.getMessage() for r in caplog.records)
    assert "collision" in reported and "b" * 32 in reported and "c" * 32 in reported
    assert "a" * 32 not in reported
