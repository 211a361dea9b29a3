"""The single-use sign-in link that `ankra profile auth passkeys open` opens, in every engine."""

from __future__ import annotations

import pytest

from tests.browser.drivers import Driver
from tests.browser.flows import Live, new_account
from tests.browser.steps import expect_profile

pytestmark = pytest.mark.browser


def test_the_link_opens_the_profile_signed_in_once(browser: Driver, live: Live) -> None:
    account = new_account(live)
    with live.api() as api:
        url = api.post("/api/v1/auth/sign-in-links", json={}, headers=account.auth).json()["url"]
    browser.goto(url)
    browser.click(f"Continue as {account.email}")
    expect_profile(browser)
    browser.goto(url)
    browser.expect_visible("heading", "This link has expired or was already used")
