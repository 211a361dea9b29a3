"""The "Where you're signed in" card, and "Sign out everywhere else" when 2FA turns on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.flows import (
    Live,
    expect_profile,
    new_account,
    set_up_authenticator_app,
    sign_in_password,
    status,
)
from tests.helpers import Account

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CLI = "ankra-cli/0.1.0 (Darwin; Python 3.11.7)"


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


def sessions_card(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("region", name="Where you're signed in")


def test_the_card_lists_sessions_and_signs_them_out(
    live: Live, page: Page, screenshot: Shot
) -> None:
    account = new_account(live)  # its sign-up session is one more
    firefox = sign_in_elsewhere(live, account, FIREFOX)
    live.clock.advance(60)
    cli = sign_in_elsewhere(live, account, CLI)
    live.clock.advance(60)
    sign_in_password(page, account)
    expect_profile(page, live)

    card = sessions_card(page)
    rows = card.get_by_role("list", name="Your sessions").get_by_role("listitem")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("This device")
    expect(rows.first).to_contain_text("Signed in with password")
    expect(card).to_contain_text("Firefox on Linux")
    expect(card).to_contain_text("ankra CLI on macOS")
    expect(card).to_contain_text("from 127.0.0.1")
    screenshot(page, "profile-sessions")

    card.get_by_role("button", name="Sign out Firefox on Linux").click()
    expect(status(page)).to_contain_text("Signed out Firefox on Linux")
    expect(rows).to_have_count(3)
    assert not alive(live, firefox) and alive(live, cli)

    card.get_by_role("button", name="Sign out everywhere else").click()
    expect(status(page)).to_contain_text("Signed out everywhere else")
    expect(rows).to_have_count(1)
    expect(card.get_by_role("button", name="Sign out everywhere else")).to_be_hidden()
    assert not alive(live, cli)
    page.reload()
    expect_profile(page, live)  # this browser's own session lives on


def test_turning_two_factor_on_signs_out_everywhere_else_by_default(live: Live, page: Page) -> None:
    account = new_account(live)
    elsewhere = sign_in_elsewhere(live, account, FIREFOX)
    sign_in_password(page, account)
    expect_profile(page, live)

    set_up_authenticator_app(page, live)
    offer = page.get_by_label("Sign out everywhere else")
    expect(offer).to_be_checked()
    page.get_by_role("button", name="I have saved my codes").click()
    expect(status(page)).to_contain_text("Signed out everywhere else")
    assert not alive(live, elsewhere)
    expect(sessions_card(page).get_by_role("listitem")).to_have_count(1)


def test_unticking_keeps_the_other_sessions(live: Live, page: Page) -> None:
    account = new_account(live)
    elsewhere = sign_in_elsewhere(live, account, FIREFOX)
    sign_in_password(page, account)
    expect_profile(page, live)

    set_up_authenticator_app(page, live)
    page.get_by_label("Sign out everywhere else").uncheck()
    page.get_by_role("button", name="I have saved my codes").click()
    expect(status(page)).to_contain_text("Keep your recovery codes somewhere safe")
    assert alive(live, elsewhere)
