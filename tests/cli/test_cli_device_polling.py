"""The CLI's polling loop (``ankra_cli.handoff.on_other_device``) against an in-process
server whose clock moves only when the CLI "sleeps"."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from ankra_auth.clock import FrozenClock
from ankra_cli import handoff
from ankra_cli.client import AnkraClient
from ankra_cli.errors import CliError
from ankra_cli.output import Output
from tests.cli.handoff_steps import handoff_token
from tests.cli.live_accounts import LiveAccount, sign_up, start_login
from tests.helpers import code_now
from tests.live_server import threaded_server


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    with threaded_server(app) as base:
        yield base


def _enrolled(base: str, clock: FrozenClock) -> LiveAccount:
    account = sign_up(base)
    secret = httpx.post(f"{base}/api/v1/profile/auth/totp", headers=account.auth).json()["secret"]
    r = httpx.post(
        f"{base}/api/v1/profile/auth/totp/confirm",
        json={"code": code_now(secret, clock)},
        headers=account.auth,
    )
    assert r.status_code == 200, r.text
    account.totp_secret = secret
    clock.advance(30)
    return account


class Browser:
    """Reads the URL the CLI prints; approves the hand-off on the Nth poll."""

    def __init__(self, base: str, account: LiveAccount, clock: FrozenClock) -> None:
        self.base, self.account, self.clock = base, account, clock
        self.messages: list[str] = []

    def approve(self) -> None:
        url = next(m for m in self.messages if "/cli/login/" in m).split()
        link = next(part for part in url if "/cli/login/" in part)
        r = httpx.post(
            f"{self.base}/api/v1/auth/cli/handoff/{handoff_token(link)}/totp",
            json={"code": code_now(self.account.totp_secret, self.clock)},
        )
        assert r.status_code == 200, r.text


def _output(browser: Browser) -> Output:
    out = Output(json_mode=True)
    out.info = browser.messages.append  # type: ignore[method-assign]
    return out


def test_polls_until_approved_and_backs_off_on_slow_down(server: str, clock: FrozenClock) -> None:
    account = _enrolled(server, clock)
    browser = Browser(server, account, clock)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        # The second wait is cut short (a hurried client): the server must say slow_down.
        clock.advance(0 if len(waits) == 2 else seconds)
        if len(waits) == 3:
            browser.approve()

    with AnkraClient(server) as client:
        answer = handoff.on_other_device(
            client,
            mfa_token=start_login(account),
            out=_output(browser),
            sleep=sleep,
            monotonic=lambda: clock.now().timestamp(),
        )
    assert answer["status"] == "authenticated"
    # 1st poll pending, 2nd too soon: slow_down, so 5 s more; approved before the 3rd.
    assert waits == [5, 5, 10]
    me = httpx.get(
        f"{server}/api/v1/me", headers={"Authorization": f"Bearer {answer['access_token']}"}
    )
    assert me.status_code == 200


def test_gives_up_when_the_hand_off_expires(server: str, clock: FrozenClock) -> None:
    account = _enrolled(server, clock)
    browser = Browser(server, account, clock)
    with AnkraClient(server) as client, pytest.raises(CliError, match="expired"):
        handoff.on_other_device(
            client,
            mfa_token=start_login(account),
            out=_output(browser),
            sleep=clock.advance,
            monotonic=lambda: clock.now().timestamp(),
        )
    assert any("shows the code" in m for m in browser.messages)
