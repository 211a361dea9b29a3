"""``ankra profile auth sessions`` against a real service process."""

from __future__ import annotations

import json
import platform

import httpx

from tests.cli.conftest import Ankra
from tests.cli.live_accounts import PASSWORD, sign_up
from tests.cli.test_cli_commands import _fails, _login, _ok


def _alive(server: str, token: str) -> bool:
    r = httpx.get(f"{server}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    return r.status_code == 200


def _sign_in_elsewhere(server: str, email: str) -> str:
    r = httpx.post(
        f"{server}/api/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        headers={
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
        },
    )
    token: str = r.json()["access_token"]
    return token


def test_list_shows_the_cli_itself_and_revoke_signs_out(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    _login(ankra, account)
    elsewhere = _sign_in_elsewhere(ankra.server, account.email)

    sessions = json.loads(_ok(ankra.run("profile", "auth", "sessions", "list", "--json")))
    current = next(s for s in sessions if s["current"])
    system = {"Darwin": "macOS"}.get(platform.system(), platform.system())
    assert current["device"] == f"ankra CLI on {system}"
    assert current["user_agent"].startswith("ankra-cli/")
    human = _ok(ankra.run("profile", "auth", "sessions", "list"))
    assert "Firefox on Linux" in human and "this session" in human

    firefox = next(s for s in sessions if s["device"] == "Firefox on Linux")
    out = _ok(ankra.run("profile", "auth", "sessions", "revoke", firefox["id"]))
    assert f"Session {firefox['id']} signed out" in out
    assert not _alive(ankra.server, elsewhere)
    _fails(ankra.run("profile", "auth", "sessions", "revoke", firefox["id"]), "No such session")


def test_revoke_all_others_keeps_the_cli_signed_in(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    _login(ankra, account)
    others = [_sign_in_elsewhere(ankra.server, account.email) for _ in range(2)]

    out = _ok(ankra.run("profile", "auth", "sessions", "revoke", "--all-others", "--yes"))
    assert "Signed out everywhere else" in out
    assert not any(_alive(ankra.server, token) for token in others)
    sessions = json.loads(_ok(ankra.run("profile", "auth", "sessions", "list", "--json")))
    assert [s["current"] for s in sessions] == [True]
    _fails(ankra.run("profile", "auth", "sessions", "revoke"), "Give a session ID or --all-others")
