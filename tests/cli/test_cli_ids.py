"""Ids are never cut across lines, and a short unique prefix is shown and taken back.

The tables are rendered in a real pseudo-terminal of 80 columns and piped (where rich
also takes 80 columns), and the lines are read as a person sees them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from ankra_auth import migrate
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from ankra_cli.errors import CliError
from ankra_cli.ids import resolve, short_ids
from tests.cli.conftest import Ankra, make_ankra
from tests.cli.live_accounts import PASSWORD, LiveAccount, sign_up
from tests.cli.terminal import run_in_terminal
from tests.cli.test_cli_commands import _register_passkey
from tests.cli.test_cli_confirmations import FIREFOX, use_session
from tests.live_server import service_process
from tests.soft_authenticator import SoftAuthenticator

LONG_NAME = "The security key on the keyring in the top drawer of the office desk"
# The first cell of a table row: a short id, or blank where a row goes on.
FIRST_CELL = re.compile(r"^[│┃] (\S*)\s*[│┃]")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A service process and its database URL (one test gives two ids a common start)."""
    directory = tmp_path_factory.mktemp("ids")
    url = f"sqlite:///{directory / 'ankra.db'}"
    migrate.upgrade(make_engine(Settings(database_url=url, secret_key="x")))
    with service_process(url, log_path=directory / "server.log") as base:
        yield base, url


@pytest.fixture
def ankra(live: tuple[str, str], tmp_path: Path) -> Ankra:
    return make_ankra(live[0], tmp_path)


def piped(ankra: Ankra, *args: str) -> subprocess.CompletedProcess[str]:
    """``ankra ARGS | cat``: stdout a pipe, no ``COLUMNS`` (rich then renders 80 wide)."""
    env = {k: v for k, v in ankra.env.items() if k != "COLUMNS"}
    return subprocess.run(
        [sys.executable, "-m", "ankra_cli", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def with_passkeys(ankra: Ankra, names: list[str]) -> tuple[LiveAccount, list[str]]:
    account = sign_up(ankra.server)
    ids = [_register_passkey(account, SoftAuthenticator(origin=ankra.server), n) for n in names]
    use_session(ankra, account)
    return account, ids


def first_cells(lines: list[str]) -> list[str]:
    """The id column of every table row, blank cells left out."""
    return [m.group(1) for line in lines if (m := FIRST_CELL.match(line)) and m.group(1)]


def assert_ids_whole(lines: list[str], ids: list[str]) -> None:
    assert all(len(line) <= 80 for line in lines), "\n".join(lines)
    shown = first_cells(lines)
    assert shown[0] == "ID"
    # each id once, whole (its short prefix), on one line; no piece of an id anywhere else
    assert sorted(shown[1:]) == sorted(short_ids(ids)), "\n".join(lines)
    for whole_id in ids:
        assert whole_id[8:16] not in "\n".join(lines)


def test_passkey_ids_stay_whole_at_80_columns_in_a_terminal(ankra: Ankra) -> None:
    _account, ids = with_passkeys(ankra, [LONG_NAME, "Phone", LONG_NAME + " (spare)"])
    code, screen = run_in_terminal(ankra, "profile", "auth", "passkeys", "list", columns=80)
    assert code == 0, screen
    assert_ids_whole(screen.splitlines(), ids)
    assert "Phone" in screen


def test_passkey_ids_stay_whole_when_piped(ankra: Ankra) -> None:
    _account, ids = with_passkeys(ankra, [LONG_NAME, "Phone"])
    result = piped(ankra, "profile", "auth", "passkeys", "list")
    assert result.returncode == 0, result.stderr
    assert_ids_whole(result.stdout.splitlines(), ids)


def _sessions(ankra: Ankra, account: LiveAccount) -> list[str]:
    for _ in range(2):
        r = httpx.post(
            f"{ankra.server}/api/v1/auth/login",
            json={"email": account.email, "password": PASSWORD},
            headers={"User-Agent": FIREFOX},
        )
        assert r.status_code == 200 and r.json()["status"] == "authenticated", r.text
    return [s["id"] for s in account.get("/api/v1/profile/sessions")]


def test_session_ids_stay_whole_at_80_columns_in_a_terminal_and_piped(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    use_session(ankra, account)
    ids = _sessions(ankra, account)
    code, screen = run_in_terminal(ankra, "profile", "auth", "sessions", "list", columns=80)
    assert code == 0, screen
    assert_ids_whole(screen.splitlines(), ids)
    result = piped(ankra, "profile", "auth", "sessions", "list")
    assert result.returncode == 0, result.stderr
    assert_ids_whole(result.stdout.splitlines(), ids)


def test_a_shown_prefix_is_taken_back(ankra: Ankra) -> None:
    account, [laptop, phone] = with_passkeys(ankra, ["Laptop", "Phone"])
    table = piped(ankra, "profile", "auth", "passkeys", "list").stdout
    shown = dict(zip(short_ids([laptop, phone]), [laptop, phone], strict=True))
    assert set(first_cells(table.splitlines())[1:]) == set(shown)

    renamed = ankra.run("profile", "auth", "passkeys", "rename", laptop[:8], "Work", "--json")
    assert renamed.returncode == 0, renamed.stderr
    assert json.loads(renamed.stdout)["id"] == laptop
    four = phone[:4] if not laptop.startswith(phone[:4]) else phone[:8]
    assert (
        ankra.run("profile", "auth", "passkeys", "rename", four.upper(), "Mobile").returncode == 0
    )
    names = {p["id"]: p["name"] for p in account.get("/api/v1/profile/auth/passkeys")}
    assert names == {laptop: "Work", phone: "Mobile"}

    removed = ankra.run("profile", "auth", "passkeys", "remove", laptop[:6], "--yes")
    assert removed.returncode == 0, removed.stderr
    assert f"Removed passkey {laptop} (Work)." in removed.stdout
    assert [p["id"] for p in account.get("/api/v1/profile/auth/passkeys")] == [phone]


def test_a_session_prefix_is_taken_back(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    use_session(ankra, account)
    [other, *_] = [s for s in _sessions(ankra, account) if s != _current(account)]
    revoked = ankra.run("profile", "auth", "sessions", "revoke", other[:5])
    assert revoked.returncode == 0, revoked.stderr
    assert f"Session {other} signed out." in revoked.stdout
    assert other not in [s["id"] for s in account.get("/api/v1/profile/sessions")]


def _current(account: LiveAccount) -> str:
    return str(next(s["id"] for s in account.get("/api/v1/profile/sessions") if s["current"]))


def test_short_unknown_and_shared_prefixes_are_refused(ankra: Ankra, live: tuple[str, str]) -> None:
    account, ids = with_passkeys(ankra, ["One", "Two", "Three"])
    # Two ids that share their first 12 characters (as they could, by chance).
    engine = make_engine(Settings(database_url=live[1], secret_key="x"))
    shared = ["abcdef0123450" + ids[0][13:], "abcdef0123451" + ids[1][13:]]
    with engine.begin() as connection:
        for old, new in zip(ids, shared, strict=False):
            connection.execute(
                text("UPDATE passkeys SET id = :new WHERE id = :old"), {"new": new, "old": old}
            )
    engine.dispose()
    before = account.get("/api/v1/profile/auth/passkeys")

    for args, message in [
        (["rename", "abc", "x"], "'abc' is too short: give at least 4 characters"),
        (["rename", "abcdef", "x"], "'abcdef' is the start of 2 passkey ids: give more"),
        (["remove", "abcd", "--yes"], "'abcd' is the start of 2 passkey ids"),
        (["rename", "fffff", "x"], "No such passkey: none of yours has an id starting with"),
    ]:
        result = ankra.run("profile", "auth", "passkeys", *args)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert f"Error: {message}" in result.stderr, result.stderr
        assert "ankra profile auth passkeys list" in result.stderr
        for whole_id in [*shared, ids[2]]:  # no id is named, not even a piece past the prefix
            assert whole_id[6:] not in result.stderr
    assert account.get("/api/v1/profile/auth/passkeys") == before

    # The table shows the shared ids long enough to tell them apart.
    cells = first_cells(piped(ankra, "profile", "auth", "passkeys", "list").stdout.splitlines())
    assert sorted(cells[1:]) == sorted([shared[0][:13], shared[1][:13], ids[2][:13]])
    done = ankra.run("profile", "auth", "passkeys", "rename", shared[1][:13], "Second")
    assert done.returncode == 0, done.stderr

    sessions = ankra.run("profile", "auth", "sessions", "revoke", "0000zz")
    assert sessions.returncode == 1
    assert "Error: No such session: none of yours has an id starting with '0000zz'" in (
        sessions.stderr
    )


def test_short_ids_are_the_shortest_unique_prefixes_from_eight() -> None:
    assert short_ids([]) == []
    assert short_ids(["a" * 32]) == ["a" * 8]
    assert short_ids(["abcdefgh1", "abcdefgh2", "zzzzzzzzz"]) == [
        "abcdefgh1",
        "abcdefgh2",
        "zzzzzzzzz",
    ]
    assert short_ids(["12345678ab", "12345678cd"]) == ["12345678a", "12345678c"]
    assert resolve("ABCD", ["abcd1234"], kind="x", list_command="l") == "abcd1234"
    assert resolve("exact", ["exact", "exactly"], kind="x", list_command="l") == "exact"
    with pytest.raises(CliError, match="start of 2 x ids"):
        resolve("exac", ["exact", "exactly"], kind="x", list_command="l")
