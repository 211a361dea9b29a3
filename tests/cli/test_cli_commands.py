"""Every ``ankra`` command as a subprocess against a real ``ankra-auth serve`` process."""

from __future__ import annotations

import json
import re
import stat
from typing import Any

import httpx
import pyotp

from tests.cli.conftest import Ankra
from tests.cli.live_accounts import PASSWORD, LiveAccount, enroll_totp, sign_up, verify_email
from tests.soft_authenticator import SoftAuthenticator


def _ok(result: Any) -> str:
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return str(result.stdout)


def _fails(result: Any, message: str) -> str:
    assert result.returncode == 1, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    assert f"Error: {message}" in result.stderr, result.stderr
    return str(result.stderr)


def _login(ankra: Ankra, account: LiveAccount) -> dict[str, Any]:
    out = _ok(ankra.run("login", "--email", account.email, "--json", input=f"{PASSWORD}\n"))
    answer: dict[str, Any] = json.loads(out)
    return answer


def _saved_token(ankra: Ankra) -> str:
    return str(json.loads(ankra.credentials_file.read_text())["access_token"])


def test_login_saves_a_private_session(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    result = ankra.run("login", "--email", account.email, input=f"{PASSWORD}\n")
    assert f"Signed in to {ankra.server} as {account.email}" in _ok(result)
    assert "Password:" in result.stderr and PASSWORD not in result.stderr + result.stdout

    mode = stat.S_IMODE(ankra.credentials_file.stat().st_mode)
    assert mode == 0o600, oct(mode)
    assert stat.S_IMODE(ankra.config_dir.stat().st_mode) & 0o077 == 0
    saved = json.loads(ankra.credentials_file.read_text())
    assert saved["server"] == ankra.server and saved["email"] == account.email

    status = json.loads(_ok(ankra.run("profile", "auth", "status", "--json")))
    account.token = saved["access_token"]
    assert status == account.get("/api/v1/profile/auth")
    assert status["two_factor_enabled"] is False
    human = _ok(ankra.run("profile", "auth", "status"))
    assert "Two-factor authentication" in human and "off" in human


def test_status_says_whether_the_address_is_verified(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    _login(ankra, account)
    assert (
        json.loads(_ok(ankra.run("profile", "auth", "status", "--json")))["email_verified"] is False
    )
    human = _ok(ankra.run("profile", "auth", "status"))
    assert re.search(r"Email address\s+not verified", human), human
    assert "Open the link we mailed you" in human
    account.token = _saved_token(ankra)
    verify_email(account)
    assert (
        json.loads(_ok(ankra.run("profile", "auth", "status", "--json")))["email_verified"] is True
    )
    human = _ok(ankra.run("profile", "auth", "status"))
    assert re.search(r"Email address\s+verified", human) and "Open the link" not in human, human


def test_login_from_environment_and_prompts(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    result = ankra.run("login", "--json", input=f"{account.email}\n", ANKRA_PASSWORD=PASSWORD)
    answer = json.loads(_ok(result))
    assert answer["status"] == "authenticated" and answer["access_token"] == _saved_token(ankra)
    assert "Email:" in result.stderr


def test_failures_print_the_problem_detail(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    _fails(
        ankra.run("login", "--email", account.email, input="wrong password\n"),
        "Wrong email or password",
    )
    assert not ankra.credentials_file.exists()
    _fails(ankra.run("profile", "auth", "status"), f"Not signed in to {ankra.server}")
    stderr = _fails(
        ankra.run(
            "login", "--email", account.email, "--server", "http://127.0.0.1:9", input="pw\n"
        ),
        "Could not connect to http://127.0.0.1:9",
    )
    assert "--server" in stderr
    _fails(ankra.run("login", "--server", "ftp://example"), "The server address must start")
    _fails(ankra.run("login", "--email", account.email), "Standard input ended")


def test_authenticator_app_from_the_terminal(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    _login(ankra, account)
    human = _ok(ankra.run("profile", "auth", "totp", "start"))
    assert "▄" in human or "█" in human  # the QR code, drawn with block characters
    assert "otpauth://totp/" in human and "profile auth totp confirm" in human

    setup = json.loads(_ok(ankra.run("profile", "auth", "totp", "start", "--json")))
    assert set(setup) == {"secret", "otpauth_uri", "qr_svg"}
    grouped = " ".join(setup["secret"][i : i + 4] for i in range(0, 8, 4))
    assert grouped not in human  # starting again replaced the secret

    _fails(ankra.run("profile", "auth", "totp", "confirm", "000000"), "That code did not match")
    code = pyotp.TOTP(setup["secret"]).now()
    result = json.loads(_ok(ankra.run("profile", "auth", "totp", "confirm", code, "--json")))
    assert len(result["recovery_codes"]) == 10

    human = _ok(ankra.run("profile", "auth", "status"))
    assert "on" in human and "set up" in human and "10" in human
    page = json.loads(_ok(ankra.run("profile", "auth", "events", "--limit", "2", "--json")))
    assert [e["type"] for e in page["events"]] == ["recovery_codes_issued", "totp_enabled"]
    assert page["next_cursor"]
    table = _ok(ankra.run("profile", "auth", "events"))
    assert "Authenticator app set up" in table and "Signed in" in table  # the page's words
    assert "totp_enabled" not in table and "sign_in" not in table
    bad_limit = ankra.run("profile", "auth", "events", "--limit", "0")
    assert bad_limit.returncode == 2 and "Traceback" not in bad_limit.stderr


def test_totp_confirm_prints_recovery_codes(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    _login(ankra, account)
    setup = json.loads(_ok(ankra.run("profile", "auth", "totp", "start", "--json")))
    human = _ok(ankra.run("profile", "auth", "totp", "confirm", pyotp.TOTP(setup["secret"]).now()))
    codes = [line.strip() for line in human.splitlines() if len(line.strip()) == 11]
    assert len(codes) == 10 and all(c[5] == "-" for c in codes)
    assert "will not be shown again" in human


def test_recovery_codes_and_disable(ankra: Ankra) -> None:
    account = enroll_totp(sign_up(ankra.server))
    account.token = ""
    # Sign in through the terminal with a recovery code (no browser).
    result = ankra.run(
        "login",
        "--email",
        account.email,
        "--no-browser",
        "--json",
        input=f"{PASSWORD}\n{account.recovery_codes[0]}\n",
    )
    answer = json.loads(_ok(result))
    assert answer["recovery_codes_remaining"] == 9
    account.token = answer["access_token"]

    fresh = json.loads(
        _ok(ankra.run("profile", "auth", "recovery-codes", "regenerate", "--yes", "--json"))
    )
    assert len(fresh["recovery_codes"]) == 10
    assert not set(fresh["recovery_codes"]) & set(account.recovery_codes)
    human = _ok(ankra.run("profile", "auth", "recovery-codes", "regenerate", "-y"))
    assert "no longer work" in human

    assert json.loads(_ok(ankra.run("profile", "auth", "disable", "--yes", "--json"))) == {}
    assert account.get("/api/v1/profile/auth")["two_factor_enabled"] is False
    _fails(
        ankra.run("profile", "auth", "recovery-codes", "regenerate"),
        "Turn on two-factor authentication first",
    )


def _register_passkey(account: LiveAccount, authenticator: SoftAuthenticator, name: str) -> str:
    r = httpx.post(f"{account.base}/api/v1/profile/auth/passkeys/options", headers=account.auth)
    assert r.status_code == 200, r.text
    r = httpx.post(
        f"{account.base}/api/v1/profile/auth/passkeys",
        json={"name": name, "credential": authenticator.create(r.json())},
        headers=account.auth,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["passkey"]["id"])


def test_passkey_commands(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    account.token = _login(ankra, account)["access_token"]
    assert json.loads(_ok(ankra.run("profile", "auth", "passkeys", "list", "--json"))) == []
    assert "No passkeys yet" in _ok(ankra.run("profile", "auth", "passkeys", "list"))

    authenticator = SoftAuthenticator(origin=ankra.server)
    passkey_id = _register_passkey(account, authenticator, "Laptop")
    listed = json.loads(_ok(ankra.run("profile", "auth", "passkeys", "list", "--json")))
    assert [p["id"] for p in listed] == [passkey_id] and listed[0]["name"] == "Laptop"
    table = _ok(ankra.run("profile", "auth", "passkeys", "list"))
    # tables show a short unique prefix of the id (the commands take it back; --json has it whole)
    assert f"│ {passkey_id[:8]} │ Laptop" in table

    renamed = json.loads(
        _ok(ankra.run("profile", "auth", "passkeys", "rename", passkey_id, "Work key", "--json"))
    )
    assert renamed["name"] == "Work key"
    _fails(ankra.run("profile", "auth", "passkeys", "rename", "nope", "x"), "No such passkey")
    odd = "[/b] [bold]Yubi[/bold]"  # printed as typed, never read as terminal markup
    assert odd in _ok(ankra.run("profile", "auth", "passkeys", "rename", passkey_id, odd))
    assert odd in _ok(ankra.run("profile", "auth", "passkeys", "list"))

    stderr = _fails(
        ankra.run("profile", "auth", "passkeys", "remove", passkey_id),
        "This passkey is your last second factor",
    )
    assert "ankra profile auth disable" in stderr
    second = _register_passkey(account, SoftAuthenticator(origin=ankra.server), "Spare")
    assert f"Removed passkey {passkey_id}" in _ok(
        ankra.run("profile", "auth", "passkeys", "remove", passkey_id, "--yes")
    )
    listed = json.loads(_ok(ankra.run("profile", "auth", "passkeys", "list", "--json")))
    assert [p["id"] for p in listed] == [second]
    _fails(ankra.run("profile", "auth", "passkeys", "remove", "nope"), "No such passkey")


def test_passkeys_open_without_a_session_opens_the_profile_page(ankra: Ankra) -> None:
    result = ankra.run("profile", "auth", "passkeys", "open", "--json")
    url = f"{ankra.server}/profile/authentication"
    assert json.loads(_ok(result)) == {"url": url}
    assert url in result.stderr
    assert ankra.browser_log.read_text().split() == [url]


def test_passkeys_open_signs_the_browser_in_through_a_single_use_link(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    _login(ankra, account)
    result = ankra.run("profile", "auth", "passkeys", "open", "--json")
    url = json.loads(_ok(result))["url"]
    assert url.startswith(f"{ankra.server}/auth/link/") and url in result.stderr
    assert ankra.browser_log.read_text().split() == [url]
    with httpx.Client() as browser:
        page = browser.get(url)
        assert page.status_code == 200 and f"Continue as {account.email}" in page.text
        done = browser.post(url, headers={"Origin": ankra.server})
        assert done.status_code == 303 and done.headers["location"] == "/profile/authentication"
        assert browser.get(f"{ankra.server}/api/v1/me").json()["email"] == account.email
        assert (
            "expired or was already used"
            in browser.post(url, headers={"Origin": ankra.server}).text
        )


def test_totp_remove_is_refused_for_the_last_factor(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    _login(ankra, account)
    setup = json.loads(_ok(ankra.run("profile", "auth", "totp", "start", "--json")))
    code = pyotp.TOTP(setup["secret"]).now()
    _ok(ankra.run("profile", "auth", "totp", "confirm", code))
    _fails(ankra.run("profile", "auth", "totp", "remove"), "The authenticator app is your last")
    account.token = _saved_token(ankra)
    _register_passkey(account, SoftAuthenticator(origin=ankra.server), "Key")
    assert "Authenticator app removed" in _ok(
        ankra.run("profile", "auth", "totp", "remove", "--yes")
    )
    assert account.get("/api/v1/profile/auth")["totp_enabled"] is False


def test_logout_revokes_and_forgets_the_session(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    token = _login(ankra, account)["access_token"]
    assert f"Signed out of {ankra.server}" in _ok(ankra.run("logout"))
    assert not ankra.credentials_file.exists()
    r = httpx.get(f"{ankra.server}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert "Not signed in" in _ok(ankra.run("logout"))
    assert json.loads(_ok(ankra.run("logout", "--json"))) == {}


def test_saved_token_goes_only_to_its_own_server(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    _login(ankra, account)
    other = "http://127.0.0.1:9"
    _fails(ankra.run("profile", "auth", "status", "--server", other), f"Not signed in to {other}")
    _fails(ankra.run("profile", "auth", "status", ANKRA_SERVER=other), f"Not signed in to {other}")
    # Without --server or ANKRA_SERVER, the saved sign-in names the server.
    env_less = {k: v for k, v in ankra.env.items() if k != "ANKRA_SERVER"}
    plain = Ankra(ankra.server, ankra.config_dir, ankra.browser_log, env_less)
    assert json.loads(_ok(plain.run("profile", "auth", "status", "--json")))["passkey_count"] == 0


def test_status_names_the_organisations_that_require_two_factor(ankra: Ankra) -> None:
    owner = enroll_totp(sign_up(ankra.server))
    r = httpx.post(f"{ankra.server}/api/v1/orgs", json={"name": "Acme Ltd"}, headers=owner.auth)
    assert r.status_code == 201, r.text
    org = r.json()["id"]
    member = verify_email(sign_up(ankra.server))  # accepting needs a verified address
    r = httpx.post(
        f"{ankra.server}/api/v1/orgs/{org}/members",
        json={"email": member.email, "role": "member"},
        headers=owner.auth,
    )
    assert r.status_code == 201, r.text
    # an invitation: the member joins by accepting it
    [invitation] = httpx.get(f"{ankra.server}/api/v1/invitations", headers=member.auth).json()
    r = httpx.post(
        f"{ankra.server}/api/v1/invitations/{invitation['id']}/accept", headers=member.auth
    )
    assert r.status_code == 200, r.text
    r = httpx.patch(
        f"{ankra.server}/api/v1/orgs/{org}",
        json={"require_two_factor": True},
        headers=owner.auth,
    )
    assert r.status_code == 200, r.text

    login = ankra.run("login", "--email", member.email, input=f"{PASSWORD}\n")
    assert "requires two-factor authentication" in _ok(login)
    status = json.loads(_ok(ankra.run("profile", "auth", "status", "--json")))
    assert status["enrollment_required"] is True
    assert [o["name"] for o in status["enforced_by"]] == ["Acme Ltd"]
    human = _ok(ankra.run("profile", "auth", "status"))
    assert "Acme Ltd" in human and "Secure your account to continue" in human
    # Only enrollment works meanwhile; the CLI says what to do.
    stderr = _fails(ankra.run("profile", "auth", "events"), "Secure your account to continue")
    assert "ankra profile auth totp start" in stderr
    setup = json.loads(_ok(ankra.run("profile", "auth", "totp", "start", "--json")))
    _ok(ankra.run("profile", "auth", "totp", "confirm", pyotp.TOTP(setup["secret"]).now()))
    assert (
        json.loads(_ok(ankra.run("profile", "auth", "status", "--json")))["enrollment_required"]
        is False
    )
    _ok(ankra.run("profile", "auth", "events"))
