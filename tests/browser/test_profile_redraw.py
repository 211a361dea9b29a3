"""After a change the profile is drawn again in one go, once every answer is in: nothing
moves under the pointer while the answers arrive one by one. (A click meant for "Sign out
everywhere else" once landed on the button that had just slid into its place.)"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Route

from tests.browser import steps
from tests.browser.drivers import Driver
from tests.browser.drivers.chromium import ChromiumDriver
from tests.browser.flows import Live, new_account, register_passkey_through_the_api

pytestmark = pytest.mark.browser

# The reads the redraw after a change waits for; the log's is held back.
READS = (
    "GET /api/v1/profile/auth",
    "GET /api/v1/profile/auth/passkeys",
    "GET /api/v1/profile/sessions",
)


@pytest.mark.parametrize("browser_engine", ["chromium"], indirect=True, scope="session")
def test_turning_2fa_off_redraws_the_whole_page_at_once(live: Live, browser: Driver) -> None:
    assert isinstance(browser, ChromiumDriver)
    page = browser.page
    account = new_account(live, totp=True)
    register_passkey_through_the_api(live, account, "Phone")
    steps.sign_in_with_totp(browser, live, account)
    browser.expect_visible("button", "Remove Phone")

    held: list[Route] = []
    answered: list[str] = []
    page.route("**/api/v1/profile/auth/events*", lambda route: held.append(route))
    page.on(
        "response",
        lambda answer: answered.append(f"{answer.request.method} {urlsplit(answer.url).path}"),
    )
    browser.click("Turn off two-factor authentication")
    browser.click("Turn it off", within="Turn off two-factor authentication?")
    browser.expect_status("Two-factor authentication is off")
    browser.wait_for(
        lambda: held and all(path in answered for path in READS), "the redraw's other reads"
    )
    # A frame for anything those answers would draw.
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => setTimeout(done)))")

    # Every other answer is in, the log's is not: the page still shows what it showed.
    browser.expect_text("Two-factor authentication is on", within="Two-factor authentication")
    browser.expect_visible("button", "Remove Phone")

    held[0].continue_()
    browser.expect_text("Two-factor authentication is off", within="Two-factor authentication")
    browser.expect_text("You have no passkeys yet")
    browser.expect_hidden("button", "Remove Phone")
