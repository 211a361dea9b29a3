"""The single-use sign-in link that `ankra profile auth passkeys open` opens, in every engine.

Written in the Playwright-shaped subset (tests/browser/drivers/locators.py): the original
Playwright test with ``page`` renamed ``browser`` and ``expect`` from the drivers package."""

from __future__ import annotations

import pytest

from tests.browser.axe import check_accessibility
from tests.browser.drivers import Driver, expect
from tests.browser.flows import PROFILE, Live, new_account

pytestmark = pytest.mark.browser


def test_the_link_opens_the_profile_signed_in_once(browser: Driver, live: Live) -> None:
    account = new_account(live)
    with live.api() as api:
        url = api.post("/api/v1/auth/sign-in-links", json={}, headers=account.auth).json()["url"]
    browser.goto(url)
    expect(browser.get_by_role("button", name=f"Continue as {account.email}")).to_be_visible()
    check_accessibility(browser, "sign-in-link")
    browser.get_by_role("button", name=f"Continue as {account.email}").click()
    expect(browser).to_have_url(f"{live.url}{PROFILE}")
    expect(browser.get_by_role("heading", name="Authentication", exact=True)).to_be_visible()
    browser.goto(url)
    expect(
        browser.get_by_role("heading", name="This link has expired or was already used")
    ).to_be_visible()
    check_accessibility(browser, "sign-in-link-used")
