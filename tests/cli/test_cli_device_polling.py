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
from tests.cli.handoff_steps import device_factor, enter_user_code
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
    """Reads the URL and code the CLI prints; types the code and approves on the Nth poll."""

    def __init__(self, base: str, account: LiveAccount, clock: FrozenClock) -> None:
        self.base, self.account, self.clock = base, account, clock
        self.messages: list[str] = []

    def shown(self) -> tuple[str, str]:
        """The page URL and the user code, as the CLI printed them."""
        message = next(m for m in self.messages if "enter the code" in m)
        url = next(part for part in message.split() if part.startswith("http"))
        code = message.split("enter the code", 1)[1].split()[0]
        return url, code

    def approve(self) -> None:
        url, user_code = self.shown()
        assert url.endswith("/cli/device")  # the one fixed page
        with httpx.Client(base_url=self.base) as http:
            r = enter_user_code(http, user_code)
            assert r.status_code == 200, r.text
            r = device_factor(
                http,
                r.json()["approval_token"],
                "totp",
                code_now(self.account.totp_secret, self.clock),
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
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        # First poll pending; then the 10 minutes pass: the server says expired_token.
        clock.advance(seconds if len(waits) == 1 else 600)

    with AnkraClient(server) as client, pytest.raises(CliError, match="expired") as raised:
        handoff.on_other_device(
            client, mfa_token=start_login(account), out=_output(browser), sleep=sleep
        )
    assert waits == [5, 5] and raised.value.hint and "ankra login" in raised.value.hint
    url, code = browser.shown()
    assert url.endswith("/cli/device") and len(code) == 9 and code[4] == "-"


def test_gives_up_at_its_own_deadline(server: str, clock: FrozenClock) -> None:
    account = _enrolled(server, clock)
    browser = Browser(server, account, clock)
    with AnkraClient(server) as client, pytest.raises(CliError, match="expired"):
        handoff.on_other_device(
            client,
            mfa_token=start_login(account),
            out=_output(browser),
            sleep=lambda seconds: clock.advance(seconds * 10),
            monotonic=lambda: clock.now().timestamp(),
        )
