"""Changes that cannot be undone ask ``[y/N]`` first: at a terminal (a real pseudo-terminal
here), piped (refused without ``--yes``), and with ``--yes``/``-y`` (scripts)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.cli.conftest import Ankra
from tests.cli.live_accounts import PASSWORD, LiveAccount, enroll_totp, sign_up
from tests.cli.terminal import spawn
from tests.cli.test_cli_commands import _register_passkey
from tests.soft_authenticator import SoftAuthenticator


def use_session(ankra: Ankra, account: LiveAccount) -> None:
    """Save ``account``'s fresh session (its password was checked just now) for the CLI."""
    ankra.config_dir.mkdir(parents=True, exist_ok=True)
    ankra.credentials_file.write_text(
        json.dumps({"server": ankra.server, "access_token": account.token, "email": account.email})
    )


def event_types(account: LiveAccount) -> list[str]:
    return [e["type"] for e in account.get("/api/v1/profile/auth/events?limit=100")["events"]]


def with_passkey(account: LiveAccount) -> str:
    return _register_passkey(account, SoftAuthenticator(origin=account.base), "Laptop")


def others_alive(account: LiveAccount) -> int:
    return sum(not s["current"] for s in account.get("/api/v1/profile/sessions"))


FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@dataclass
class Case:
    """One command that asks: how to get there, what it asks, and whether it happened."""

    args: list[str]
    prepare: Callable[[LiveAccount], Any]
    question: str
    action: str
    done: Callable[[LiveAccount], bool]


def _sign_in_elsewhere(account: LiveAccount) -> None:
    r = httpx.post(
        f"{account.base}/api/v1/auth/login",
        json={"email": account.email, "password": PASSWORD},
        headers={"User-Agent": FIREFOX},
    )
    assert r.status_code == 200, r.text


CASES = {
    "recovery-codes regenerate": Case(
        args=["recovery-codes", "regenerate"],
        prepare=enroll_totp,
        question="Your 10 current recovery codes will stop working. Continue? [y/N]",
        action="add --yes to regenerate your recovery codes",
        done=lambda a: "recovery_codes_regenerated" in event_types(a),
    ),
    "disable": Case(
        args=["disable"],
        prepare=lambda a: with_passkey(enroll_totp(a)),
        question=(
            "Two-factor authentication will be turned off: your authenticator app, 1 passkey "
            "and 10 recovery codes will be removed. Continue? [y/N]"
        ),
        action="add --yes to turn two-factor authentication off",
        done=lambda a: not a.get("/api/v1/profile/auth")["two_factor_enabled"],
    ),
    "totp remove": Case(
        args=["totp", "remove"],
        prepare=lambda a: with_passkey(enroll_totp(a)),
        question=(
            "Your authenticator app will be removed: its codes will no longer sign you in. "
            "Continue? [y/N]"
        ),
        action="add --yes to remove the authenticator app",
        done=lambda a: not a.get("/api/v1/profile/auth")["totp_enabled"],
    ),
    "passkeys remove": Case(
        args=["passkeys", "remove", "{passkey}"],
        prepare=lambda a: with_passkey(enroll_totp(a)),
        question="Passkey 'Laptop' ({short}) will be removed: it will no longer sign you in. "
        "Continue? [y/N]",
        action="add --yes to remove the passkey",
        done=lambda a: a.get("/api/v1/profile/auth")["passkey_count"] == 0,
    ),
    "sessions revoke --all-others": Case(
        args=["sessions", "revoke", "--all-others"],
        prepare=lambda a: [_sign_in_elsewhere(a) for _ in range(2)],
        question="Your 2 other sessions (Firefox on Linux) will be signed out at once; "
        "this one stays signed in. Continue? [y/N]",
        action="add --yes to sign out every other session",
        done=lambda a: others_alive(a) == 0,
    ),
}


def _ready(ankra: Ankra, case: Case) -> tuple[LiveAccount, list[str], str]:
    account = sign_up(ankra.server)
    prepared = case.prepare(account)
    use_session(ankra, account)
    passkey = prepared if isinstance(prepared, str) else ""
    args = ["profile", "auth", *(a.replace("{passkey}", passkey) for a in case.args)]
    return account, args, case.question.replace("{short}", passkey[:8])


@pytest.mark.parametrize("name", list(CASES))
def test_piped_without_yes_is_refused_and_changes_nothing(ankra: Ankra, name: str) -> None:
    case = CASES[name]
    account, args, _question = _ready(ankra, case)
    result = ankra.run(*args, input="y\n")  # a "y" in a pipe is not a person's answer
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1, result.stderr  # one line
    assert result.stderr.startswith("Error: Standard input is not a terminal")
    assert case.action in result.stderr and "Nothing was changed." in result.stderr
    assert result.stdout == ""
    assert not case.done(account)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("answer", ["n", ""])
def test_at_a_terminal_no_is_the_default(ankra: Ankra, name: str, answer: str) -> None:
    case = CASES[name]
    account, args, question = _ready(ankra, case)
    terminal = spawn(ankra, *args, columns=200)
    terminal.expect(question)
    terminal.send(answer)
    assert terminal.finish() == 1
    assert "Cancelled: nothing was changed." in terminal.screen
    assert "Error" not in terminal.screen
    assert not case.done(account)


@pytest.mark.parametrize("name", list(CASES))
def test_at_a_terminal_yes_goes_ahead(ankra: Ankra, name: str) -> None:
    case = CASES[name]
    account, args, question = _ready(ankra, case)
    terminal = spawn(ankra, *args, columns=200)
    terminal.expect(question)
    terminal.send("y")
    assert terminal.finish() == 0, terminal.screen
    assert case.done(account)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("flag", ["--yes", "-y"])
def test_yes_answers_for_scripts(ankra: Ankra, name: str, flag: str) -> None:
    case = CASES[name]
    account, args, question = _ready(ankra, case)
    result = ankra.run(*args, flag)
    assert result.returncode == 0, result.stderr
    assert "[y/N]" not in result.stderr
    assert case.done(account)
