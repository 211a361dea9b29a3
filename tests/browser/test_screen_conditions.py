"""Screens other than the default, in Chromium (Playwright emulates them): a phone's width
(320 CSS px, WCAG 1.4.10's reflow width), where the pages reflow without scrolling sideways
and the security log's table (a table may scroll) can be scrolled from the keyboard; and the
dark colour scheme, whose colours must keep their contrast. axe-core checks each."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.axe import check_accessibility
from tests.browser.drivers.chromium import ChromiumDriver
from tests.browser.flows import Live, new_account, register_passkey_through_the_api
from tests.browser.keyboard import tab_to
from tests.browser.steps import sign_in_with_totp
from tests.helpers import start_login

pytestmark = pytest.mark.browser

PAGE_SCROLLS_SIDEWAYS = (
    "return document.documentElement.scrollWidth > document.documentElement.clientWidth"
)
LOG_BOX = "#events-card .table-wrap"


def test_the_pages_reflow_at_320_pixels(live: Live, page: Page) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    browser = ChromiumDriver(page, live.url)
    account = new_account(live, "a.rather.long.address@example.com", totp=True)
    register_passkey_through_the_api(live, account, "YubiKey 5C NFC on the blue key ring")
    live.clock.advance(30)

    browser.goto("/login")
    browser.expect_visible("button", "Sign in")
    assert not browser.js(PAGE_SCROLLS_SIDEWAYS)
    check_accessibility(browser, "narrow-login")

    sign_in_with_totp(browser, live, account)
    assert not browser.js(PAGE_SCROLLS_SIDEWAYS)
    # The log is wider than the screen: its box scrolls, and so takes the keyboard's focus.
    assert browser.js(
        f"const box = document.querySelector('{LOG_BOX}');"
        "return box.scrollWidth > box.clientWidth && box.tabIndex === 0"
    )
    check_accessibility(browser, "narrow-profile")
    tab_to(browser, "Security events, newest first", exact=True, limit=80)
    browser.press("Shift+Tab")

    browser.click("Turn off two-factor authentication")
    browser.expect_visible("dialog", "Turn off two-factor authentication?")
    check_accessibility(browser, "narrow-profile-confirm")
    browser.press("Escape")

    # At a desktop's width the same table fits, and is no stop on the Tab path.
    page.set_viewport_size({"width": 1280, "height": 800})
    browser.wait_for(
        lambda: browser.js(f"return !document.querySelector('{LOG_BOX}').hasAttribute('tabindex')"),
        "the log's box to leave the Tab path",
    )


def test_the_dark_scheme_keeps_its_contrast(live: Live, page: Page) -> None:
    page.emulate_media(color_scheme="dark")
    browser = ChromiumDriver(page, live.url)
    account = new_account(live, totp=True)
    with live.api() as api:  # 7 codes spent: the low-codes warning shows
        for code in account.recovery_codes[:7]:
            pending = start_login(api, account)  # type: ignore[arg-type]  # httpx.Client
            r = api.post(
                "/api/v1/auth/mfa/recovery-code",
                json={"mfa_token": pending["mfa_token"], "code": code},
            )
            assert r.status_code == 200, r.text

    browser.goto("/login")
    browser.fill("Email", account.email)
    browser.fill("Password", "not the password")
    browser.click("Sign in")
    browser.expect_status("Wrong email or password")
    assert browser.js("return matchMedia('(prefers-color-scheme: dark)').matches")
    check_accessibility(browser, "dark-login-error")

    sign_in_with_totp(browser, live, account)
    browser.expect_text("Only 3 recovery codes left")
    check_accessibility(browser, "dark-profile")
    browser.click("Regenerate recovery codes")
    browser.expect_visible("dialog", "Regenerate your recovery codes?")
    check_accessibility(browser, "dark-profile-confirm")
    browser.click("Regenerate codes", within="Regenerate your recovery codes?")
    browser.expect_items("Recovery codes", 10)
    browser.expect_status("New recovery codes created")
    check_accessibility(browser, "dark-profile-recovery-codes")
