"""What can be checked is checked before anyone is asked for anything: the server address
before the password, an impossible change before the re-authentication, a code's form
before it spends an attempt."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pyotp
import pytest
from fastapi import FastAPI

from ankra_auth.clock import FrozenClock
from tests.cli.conftest import Ankra, make_ankra
from tests.cli.live_accounts import PASSWORD, LiveAccount, enroll_totp, sign_up
from tests.cli.test_cli_commands import _fails, _ok, _register_passkey
from tests.cli.test_cli_confirmations import event_types
from tests.conftest import PUBLIC_URL
from tests.helpers import code_now
from tests.live_server import threaded_server
from tests.postgres_server import free_port
from tests.soft_authenticator import SoftAuthenticator

ASKED = ("Email:", "Password:", "Confirm your password")


def assert_nothing_asked(stderr: str) -> None:
    assert not [prompt for prompt in ASKED if prompt in stderr], stderr


# ------------------------------------------------------------------ the server address


def _login_at(ankra: Ankra, server: str) -> str:
    """``ankra login --server SERVER``, with a password ready on stdin; its stderr."""
    result = ankra.run("login", "--server", server, input=f"x@example.com\n{PASSWORD}\n")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert_nothing_asked(result.stderr)
    assert not ankra.credentials_file.exists()
    return result.stderr


def test_a_page_address_is_corrected_before_the_password(ankra: Ankra) -> None:
    for page in ("/login", "/profile/authentication/", "/api/v1"):
        stderr = _login_at(ankra, f"{ankra.server}{page}")
        assert f"Error: {ankra.server}{page.rstrip('/')} is a page of the server" in stderr
        assert f"did you mean {ankra.server}?" in stderr and "Not Found" not in stderr


def test_https_to_a_plain_http_server_says_so(ankra: Ankra) -> None:
    https = ankra.server.replace("http://", "https://")
    stderr = _login_at(ankra, https)
    assert f"Error: Could not connect to {https}: the server there does not speak HTTPS" in stderr
    assert f"Did you mean {ankra.server}?" in stderr
    assert "SSL" not in stderr and "WRONG_VERSION" not in stderr
    # any command, not only login, says it in words
    ankra.config_dir.mkdir(parents=True)
    ankra.credentials_file.write_text(json.dumps({"server": https, "access_token": "t"}))
    status = ankra.run("profile", "auth", "status", ANKRA_SERVER=https)
    assert "does not speak HTTPS" in status.stderr and "SSL" not in status.stderr


def test_a_server_that_is_not_running_is_named(ankra: Ankra) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    stderr = _login_at(ankra, down)
    assert f"Error: Could not connect to {down}: nothing is listening there" in stderr
    assert "Is the Ankra server running" in stderr


class _NotAnkra(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        body = b"<html><body>Welcome to the intranet</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def other_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotAnkra)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_that_is_not_ankra_is_named(ankra: Ankra, other_server: str) -> None:
    stderr = _login_at(ankra, other_server)
    assert f"Error: {other_server} does not look like an Ankra server" in stderr
    assert "answered 200 OK" in stderr


# ------------------------------------------------- impossible changes, before the password


@pytest.fixture
def ankra_frozen(app: FastAPI, tmp_path: Path) -> Iterator[Ankra]:
    with threaded_server(app) as base:
        yield make_ankra(base, tmp_path)


def _stale_session(ankra: Ankra, clock: FrozenClock, *, totp: bool) -> str:
    """Signed in through the CLI, 2FA by TOTP if asked, and the password check 11 minutes
    old, so the server wants it again before any change; the session's token."""
    account = sign_up(ankra.server)
    assert ankra.run("login", "--email", account.email, input=f"{PASSWORD}\n").returncode == 0
    if totp:
        setup = json.loads(_ok(ankra.run("profile", "auth", "totp", "start", "--json")))
        _ok(ankra.run("profile", "auth", "totp", "confirm", code_now(setup["secret"], clock)))
    clock.advance(660)
    return str(json.loads(ankra.credentials_file.read_text())["access_token"])


def test_the_last_factor_is_said_before_the_password(
    ankra_frozen: Ankra, clock: FrozenClock
) -> None:
    ankra = ankra_frozen
    _stale_session(ankra, clock, totp=True)
    result = ankra.run("profile", "auth", "totp", "remove", "--yes")
    stderr = _fails(result, "The authenticator app is your last second factor")
    assert_nothing_asked(stderr)
    assert "ankra profile auth disable" in stderr  # what to do instead


def test_the_last_passkey_is_said_before_the_password(
    ankra_frozen: Ankra, clock: FrozenClock
) -> None:
    ankra = ankra_frozen
    token = _stale_session(ankra, clock, totp=False)
    # A first factor needs no fresh check; then the check is 22 minutes old.
    account = LiveAccount(base=ankra.server, email="", token=token)
    passkey = _register_passkey(account, SoftAuthenticator(origin=PUBLIC_URL), "Only key")
    clock.advance(660)
    stderr = _fails(
        ankra.run("profile", "auth", "passkeys", "remove", passkey[:8], "--yes"),
        "This passkey is your last second factor",
    )
    assert_nothing_asked(stderr)


def test_turning_off_what_is_off_or_required_asks_nothing(
    ankra_frozen: Ankra, clock: FrozenClock
) -> None:
    ankra = ankra_frozen
    token = _stale_session(ankra, clock, totp=False)
    stderr = _fails(
        ankra.run("profile", "auth", "recovery-codes", "regenerate", "--yes"),
        "Turn on two-factor authentication first",
    )
    assert_nothing_asked(stderr)
    off = ankra.run("profile", "auth", "disable", "--yes")
    assert off.returncode == 0 and "already off" in off.stdout
    assert_nothing_asked(off.stderr)

    # An organisation that requires 2FA: its owner cannot turn 2FA off, and hears why first.
    setup = json.loads(_ok(ankra.run("profile", "auth", "totp", "start", "--json")))
    confirmed = ankra.run(
        "profile", "auth", "totp", "confirm", code_now(setup["secret"], clock), "--json"
    )
    assert confirmed.returncode == 0, confirmed.stderr
    auth = {"Authorization": f"Bearer {token}"}
    org = httpx.post(f"{ankra.server}/api/v1/orgs", json={"name": "Acme"}, headers=auth).json()
    r = httpx.patch(
        f"{ankra.server}/api/v1/orgs/{org['id']}", json={"require_two_factor": True}, headers=auth
    )
    assert r.status_code == 200, r.text
    clock.advance(660)
    stderr = _fails(
        ankra.run("profile", "auth", "disable", "--yes"),
        "Two-factor authentication is required by: Acme",
    )
    assert_nothing_asked(stderr)


# ------------------------------------------------------ a code's form, before an attempt


MALFORMED = ["12345", "1234567", "12345a", "ABCDE-FGHI", "ABCDE-FGHIJK", "ABCDE-UUUUU", "٣٤٥٦٧٨"]


def test_malformed_codes_are_asked_again_and_spend_no_attempt(ankra: Ankra) -> None:
    account = enroll_totp(sign_up(ankra.server))
    # More malformed codes than the pending login's 5 attempts, then a right one.
    typed = "\n".join([PASSWORD, *MALFORMED, account.next_code()]) + "\n"
    result = ankra.run("login", "--email", account.email, "--no-browser", "--json", input=typed)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("Nothing was sent; try again.") == len(MALFORMED)
    assert "neither an authenticator code (6 digits) nor a recovery code" in result.stderr
    assert json.loads(result.stdout)["status"] == "authenticated"
    assert "second_factor_failed" not in event_types(account)


def test_codes_are_forgiven_their_spaces_dashes_and_case(ankra: Ankra) -> None:
    account = enroll_totp(sign_up(ankra.server))
    spaced = account.next_code()
    spaced = f"{spaced[:3]} {spaced[3:]}"
    result = ankra.run(
        "login", "--email", account.email, "--no-browser", input=f"{PASSWORD}\n{spaced}\n"
    )
    assert result.returncode == 0, result.stderr
    code = account.recovery_codes[0].replace("-", " ").lower()
    result = ankra.run(
        "login", "--email", account.email, "--no-browser", "--json", input=f"{PASSWORD}\n{code}\n"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["recovery_codes_remaining"] == 9


def test_an_authenticator_code_is_refused_when_the_account_has_no_app(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    r = httpx.post(f"{ankra.server}/api/v1/profile/auth/passkeys/options", headers=account.auth)
    r = httpx.post(
        f"{ankra.server}/api/v1/profile/auth/passkeys",
        json={"name": "Key", "credential": SoftAuthenticator(origin=ankra.server).create(r.json())},
        headers=account.auth,
    )
    assert r.status_code == 201, r.text
    codes = r.json()["recovery_codes"]
    result = ankra.run(
        "login",
        "--email",
        account.email,
        "--no-browser",
        input=f"{PASSWORD}\n123456\n{codes[0]}\n",
    )
    assert result.returncode == 0, result.stderr
    assert "This account has no authenticator app: type a recovery code." in result.stderr
    assert "second_factor_failed" not in event_types(account)


def test_totp_confirm_refuses_a_malformed_code_without_sending_it(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    assert ankra.run("login", "--email", account.email, input=f"{PASSWORD}\n").returncode == 0
    setup = json.loads(_ok(ankra.run("profile", "auth", "totp", "start", "--json")))
    for code in ("12345", "abcdef", "1234567"):
        _fails(
            ankra.run("profile", "auth", "totp", "confirm", code),
            "An authenticator code is 6 digits",
        )
    right = pyotp.TOTP(setup["secret"]).now()
    _ok(ankra.run("profile", "auth", "totp", "confirm", f"{right[:3]} {right[3:]}"))
    token = json.loads(ankra.credentials_file.read_text())["access_token"]
    status = httpx.get(
        f"{ankra.server}/api/v1/profile/auth", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert status["totp_enabled"] is True
