"""A second ``ankra login`` ends the session it replaces, and says so."""

from __future__ import annotations

import json

import httpx

from tests.cli.conftest import Ankra
from tests.cli.live_accounts import PASSWORD, sign_up
from tests.cli.test_cli_commands import _ok, _saved_token


def _alive(ankra: Ankra, token: str) -> bool:
    r = httpx.get(f"{ankra.server}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    return r.status_code == 200


def _login(ankra: Ankra, email: str, *flags: str) -> str:
    return _ok(ankra.run("login", "--email", email, *flags, input=f"{PASSWORD}\n"))


def test_signing_in_again_ends_the_previous_session(ankra: Ankra) -> None:
    alice, bob = sign_up(ankra.server), sign_up(ankra.server)
    first = _login(ankra, alice.email)
    assert "previous session" not in first  # nothing to end the first time
    old = _saved_token(ankra)

    again = _login(ankra, alice.email)
    assert f"Signed out the previous session ({alice.email} on {ankra.server})." in again
    new = _saved_token(ankra)
    assert new != old and _alive(ankra, new) and not _alive(ankra, old)

    # Another account: the saved session it replaces ends too.
    result = ankra.run("login", "--email", bob.email, "--json", input=f"{PASSWORD}\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["access_token"] == _saved_token(ankra)  # stdout stays JSON
    assert f"Signed out the previous session ({alice.email} on {ankra.server})." in result.stderr
    assert not _alive(ankra, new)
    sessions = httpx.get(f"{ankra.server}/api/v1/profile/sessions", headers=alice.auth).json()
    assert [s["current"] for s in sessions] == [True]  # only the one sign_up made is left


def test_a_previous_session_that_ended_already_is_no_failure(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    _login(ankra, account.email)
    old = _saved_token(ankra)
    r = httpx.post(f"{ankra.server}/api/v1/auth/logout", headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 204
    out = _login(ankra, account.email)
    assert "The previous session" in out and "had already ended" in out


def test_a_previous_session_on_a_server_that_is_gone_is_reported(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    ankra.config_dir.mkdir(parents=True)
    ankra.credentials_file.write_text(
        json.dumps({"server": "http://127.0.0.1:9", "access_token": "t", "email": "x@example.com"})
    )
    out = _login(ankra, account.email)  # ANKRA_SERVER names the live server
    assert "Signed in to" in out
    assert "The previous session (x@example.com on http://127.0.0.1:9) could not be signed out" in (
        out
    )
    assert json.loads(ankra.credentials_file.read_text())["server"] == ankra.server
