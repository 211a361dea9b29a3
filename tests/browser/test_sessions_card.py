"""The "Where you're signed in" card, and "Sign out everywhere else" when 2FA turns on, in
Chromium, Firefox and WebKit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.browser.axe import check_accessibility
from tests.browser.drivers import Driver, expect
from tests.browser.flows import Live, new_account
from tests.browser.steps import expect_profile, set_up_authenticator_app, sign_in_password
from tests.helpers import Account

pytestmark = pytest.mark.browser

Shot = Callable[[Driver, str], Path]
# Not a browser under test, so its row can't be mistaken for "This device".
EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0"
)
CLI = "ankra-cli/0.1.0 (Darwin; Python 3.11.7)"
CARD = "Where you're signed in"
ROWS = "Your sessions"


def sign_in_elsewhere(live: Live, account: Account, user_agent: str) -> str:
    with live.api() as api:
        r = api.post(
            "/api/v1/auth/login",
            json={"email": account.email, "password": account.password},
            headers={"User-Agent": user_agent},
        )
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def alive(live: Live, token: str) -> bool:
    r = httpx.get(f"{live.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    return r.status_code == 200


def test_the_card_lists_sessions_and_signs_them_out(
    live: Live, browser: Driver, screenshot: Shot
) -> None:
    account = new_account(live)  # its sign-up session is one more
    edge = sign_in_elsewhere(live, account, EDGE)
    live.clock.advance(60)
    cli = sign_in_elsewhere(live, account, CLI)
    live.clock.advance(60)
    sign_in_password(browser, account)
    expect_profile(browser)

    rows = browser.expect_items(ROWS, 4)
    assert "This device" in rows[0] and "Signed in with password" in rows[0], rows
    browser.expect_text("Edge on Windows", within=CARD)
    browser.expect_text("ankra CLI on macOS", within=CARD)
    browser.expect_text("from 127.0.0.1", within=CARD)
    screenshot(browser, "profile-sessions")
    check_accessibility(browser, "profile-sessions")

    browser.click("Sign out Edge on Windows", within=CARD)
    browser.expect_status("Signed out Edge on Windows")
    browser.expect_items(ROWS, 3)
    assert not alive(live, edge) and alive(live, cli)

    browser.click("Sign out everywhere else", within=CARD)
    browser.click("Sign out other sessions", within="Sign out everywhere else?")
    browser.expect_status("Signed out everywhere else")
    browser.expect_items(ROWS, 1)
    browser.expect_hidden("button", "Sign out everywhere else", within=CARD)
    assert not alive(live, cli)
    browser.goto("/profile/authentication")
    expect_profile(browser)  # this browser's own session lives on


def test_turning_two_factor_on_signs_out_everywhere_else_by_default(
    live: Live, browser: Driver
) -> None:
    account = new_account(live)
    elsewhere = sign_in_elsewhere(live, account, EDGE)
    sign_in_password(browser, account)
    expect_profile(browser)

    set_up_authenticator_app(browser, live)
    assert browser.checked("Sign out everywhere else")
    browser.click("I have saved my codes")
    browser.expect_status("Signed out everywhere else")
    assert not alive(live, elsewhere)
    browser.expect_items(ROWS, 1)


def test_unticking_keeps_the_other_sessions(live: Live, browser: Driver) -> None:
    # In the Playwright-shaped subset, as the Chromium-only test read.
    account = new_account(live)
    elsewhere = sign_in_elsewhere(live, account, EDGE)
    sign_in_password(browser, account)
    expect_profile(browser)

    set_up_authenticator_app(browser, live)
    offer = browser.get_by_label("Sign out everywhere else")
    expect(offer).to_be_checked()
    offer.uncheck()
    browser.get_by_role("button", name="I have saved my codes").click()
    expect(browser.get_by_role("status")).to_contain_text("Keep your recovery codes somewhere safe")
    card = browser.get_by_role("region", name=CARD)
    expect(card.get_by_role("list", name=ROWS).get_by_role("listitem")).to_have_count(3)
    expect(card).to_contain_text("Edge on Windows")
    expect(browser.get_by_text("Save your recovery codes")).to_be_hidden()
    assert alive(live, elsewhere)
