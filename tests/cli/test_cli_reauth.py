"""Re-authentication from the terminal, against an in-process server whose clock we move
(on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from ankra_auth.clock import FrozenClock
from tests.cli.conftest import Ankra, make_ankra
from tests.cli.live_accounts import PASSWORD, sign_up
from tests.helpers import code_now
from tests.live_server import threaded_server


@pytest.fixture
def ankra_frozen(app: FastAPI, tmp_path: Path) -> Iterator[Ankra]:
    with threaded_server(app) as base:
        yield make_ankra(base, tmp_path)


def test_commands_ask_for_the_password_and_retry(ankra_frozen: Ankra, clock: FrozenClock) -> None:
    ankra = ankra_frozen
    account = sign_up(ankra.server)
    assert ankra.run("login", "--email", account.email, input=f"{PASSWORD}\n").returncode == 0
    setup = json.loads(ankra.run("profile", "auth", "totp", "start", "--json").stdout)
    confirmed = ankra.run("profile", "auth", "totp", "confirm", code_now(setup["secret"], clock))
    assert confirmed.returncode == 0, confirmed.stderr

    clock.advance(601)  # the sign-in's password check is now too old
    result = ankra.run(
        "profile", "auth", "recovery-codes", "regenerate", "--yes", "--json", input=f"{PASSWORD}\n"
    )
    assert result.returncode == 0, result.stderr
    assert "Confirm your password:" in result.stderr
    assert len(json.loads(result.stdout)["recovery_codes"]) == 10

    # Confirmed a moment ago: no question this time.
    again = ankra.run("profile", "auth", "recovery-codes", "regenerate", "--yes", "--json")
    assert again.returncode == 0 and "Confirm your password" not in again.stderr

    clock.advance(601)
    wrong = ankra.run("profile", "auth", "disable", "--yes", input="not my password\n")
    assert wrong.returncode == 1 and "Error: Wrong email or password" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    off = ankra.run("profile", "auth", "disable", "--yes", ANKRA_PASSWORD=PASSWORD)
    assert off.returncode == 0 and "Two-factor authentication is off" in off.stdout

    page = json.loads(ankra.run("profile", "auth", "events", "--limit", "100", "--json").stdout)
    types = [e["type"] for e in page["events"]]
    assert types.count("reauthenticated") == 2 and types[0] == "two_factor_disabled"
