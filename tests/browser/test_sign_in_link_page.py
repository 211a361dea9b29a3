"""The single-use sign-in link that `ankra profile auth passkeys open` opens, in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.flows import Live, expect_profile, new_account

pytestmark = pytest.mark.browser


def test_the_link_opens_the_profile_signed_in_once(page: Page, live: Live) -> None:
    account = new_account(live)
    with live.api() as api:
        url = api.post("/api/v1/auth/sign-in-links", json={}, headers=account.auth).json()["url"]
    page.goto(url)
    page.get_by_role("button", name=f"Continue as {account.email}").click()
    expect_profile(page, live)
    page.goto(url)
    expect(
        page.get_by_role("heading", name="This link has expired or was already used")
    ).to_be_visible()
