"""The pages' device token in headless Chromium: a known browser gets in during a flood."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.flows import Live, expect_profile, new_account, sign_in_password, sign_out

pytestmark = pytest.mark.browser


def test_a_known_browser_signs_in_while_the_email_backs_off(
    live: Live, playwright_browser: Browser, context: BrowserContext, page: Page
) -> None:
    account = new_account(live)
    sign_in_password(page, account)
    expect_profile(page, live)
    [device] = [c for c in context.cookies() if c["name"] == "ankra_device"]
    assert device["httpOnly"] is True
    assert device["sameSite"] == "Strict"
    assert device["path"] == "/"  # the single sign-on start reads it too
    assert page.evaluate("document.cookie").find("ankra_device") == -1  # not for scripts
    sign_out(page, live)

    # An attacker elsewhere floods the email: the 429 starts.
    with live.api() as api:
        for _ in range(10):
            api.post(
                "/api/v1/auth/login", json={"email": account.email, "password": "wrong-password"}
            )
        r = api.post(
            "/api/v1/auth/login", json={"email": account.email, "password": account.password}
        )
        assert r.status_code == 429

    # This browser kept its device cookie through the sign-out and gets in.
    sign_in_password(page, account)
    expect_profile(page, live)

    # A browser the account never used is throttled like the attacker.
    stranger = playwright_browser.new_context(base_url=live.url)
    try:
        other = stranger.new_page()
        sign_in_password(other, account)
        expect(other.get_by_role("status")).to_contain_text("Try again in")
        assert other.url.endswith("/login")
    finally:
        stranger.close()
