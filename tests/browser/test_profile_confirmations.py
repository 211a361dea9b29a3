"""The profile asks before a change that cannot be undone (regenerating recovery codes,
removing a passkey or the authenticator app, turning 2FA off, signing out everywhere else):
a modal dialog naming the consequence, "Cancel" focused; Cancel or Escape changes nothing.
In Chromium, Firefox and WebKit (the passkey is registered through the API, so WebKitGTK,
which cannot create one, still lists it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.axe import check_accessibility
from tests.browser.drivers import Driver
from tests.browser.flows import Live, new_account, register_passkey_through_the_api
from tests.browser.steps import sign_in_with_totp
from tests.helpers import Account

pytestmark = pytest.mark.browser

Shot = Callable[..., Path]

# Every call the page's script makes, as "METHOD path": cancelling must send nothing but reads.
RECORD_CALLS = """
if (!window.__ankraCalls) {
  window.__ankraCalls = [];
  const real = window.fetch;
  window.fetch = (input, init = {}) => {
    window.__ankraCalls.push(`${init.method || 'GET'} ${input}`);
    return real(input, init);
  };
}
"""

# (the button, the dialog's question, its confirming button, the screenshot's name)
CONFIRMATIONS = [
    (
        "Regenerate recovery codes",
        "Regenerate your recovery codes?",
        "Regenerate codes",
        "profile-confirm-regenerate-codes",
    ),
    (
        "Remove Phone",
        "Remove the passkey “Phone”?",
        "Remove passkey",
        "profile-confirm-remove-passkey",
    ),
    (
        "Remove authenticator app",
        "Remove your authenticator app?",
        "Remove app",
        "profile-confirm-remove-totp",
    ),
    (
        "Turn off two-factor authentication",
        "Turn off two-factor authentication?",
        "Turn it off",
        "profile-confirm-turn-off",
    ),
    (
        "Sign out everywhere else",
        "Sign out everywhere else?",
        "Sign out other sessions",
        "profile-confirm-sign-out-everywhere",
    ),
]


def security_log(live: Live, account: Account) -> list[dict[str, Any]]:
    with live.api() as api:
        r = api.get("/api/v1/profile/auth/events?limit=100", headers=account.auth)
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()["events"]
    return events


def alive(live: Live, token: str) -> bool:
    r = httpx.get(f"{live.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    return r.status_code == 200


def test_each_change_asks_first_and_cancel_changes_nothing(
    live: Live, browser: Driver, screenshot: Shot
) -> None:
    account = new_account(live, totp=True)  # its sign-up session stays signed in elsewhere
    register_passkey_through_the_api(live, account, "Phone")
    sign_in_with_totp(browser, live, account)
    browser.expect_visible("button", "Remove Phone")
    browser.expect_visible("button", "Sign out everywhere else")
    browser.js(RECORD_CALLS)
    before = security_log(live, account)

    for index, (opener, question, action, shot) in enumerate(CONFIRMATIONS):
        browser.click(opener, exact=True)
        browser.expect_visible("dialog", question)
        browser.expect_focused("Cancel")  # the safe answer is the default
        browser.expect_visible("button", action, exact=True, within=question)
        screenshot(browser, shot, window_only=True)
        if index in (0, 4):
            check_accessibility(browser, shot)
        if index % 2:
            browser.press("Escape")
        else:
            browser.click("Cancel", exact=True, within=question)
        browser.expect_hidden("dialog", question)
        browser.expect_focused(opener)  # back where the keyboard was

    calls = browser.js("return window.__ankraCalls")
    assert all(call.startswith("GET ") for call in calls), calls
    assert security_log(live, account) == before  # nothing happened, so nothing was logged
    assert alive(live, account.token)
    browser.expect_text("Two-factor authentication is on", within="Two-factor authentication")
    browser.expect_text("10 of 10", within="Two-factor authentication")
    browser.expect_visible("button", "Remove authenticator app")
    browser.expect_visible("button", "Remove Phone")

    # Confirmed, each does what it said.
    browser.click("Regenerate recovery codes")
    browser.click("Regenerate codes", within="Regenerate your recovery codes?")
    browser.expect_status("New recovery codes created")
    codes = browser.expect_items("Recovery codes", 10)
    assert not set(codes) & set(account.recovery_codes)
    # The recorder sees the page's changes (so its silence above meant something).
    assert "POST /api/v1/profile/auth/recovery-codes" in browser.js("return window.__ankraCalls")
    browser.click("I have saved my codes")

    browser.click("Remove authenticator app")
    browser.click("Remove app", within="Remove your authenticator app?")
    browser.expect_status("Authenticator app removed")
    browser.expect_visible("button", "Set up authenticator app")

    # The passkey is now the last second factor: said at once, nothing asked.
    browser.click("Remove Phone")
    browser.expect_status("last second factor")
    browser.expect_hidden("dialog", "Remove the passkey “Phone”?")
    browser.expect_visible("button", "Remove Phone")

    browser.click("Turn off two-factor authentication")
    browser.click("Turn it off", within="Turn off two-factor authentication?")
    browser.expect_status("Two-factor authentication is off")
    browser.expect_text("Two-factor authentication is off", within="Two-factor authentication")

    browser.click("Sign out everywhere else")
    browser.expect_text("Your other session ends at once", within="Sign out everywhere else?")
    browser.click("Sign out other sessions", within="Sign out everywhere else?")
    browser.expect_status("Signed out everywhere else")
    assert not alive(live, account.token)
    for logged in ("Recovery codes regenerated", "Authenticator app removed", "turned off"):
        browser.expect_text(logged, within="Security log")


# Cancel, then the same button again in one go (a quick keyboard does it in two key
# presses): the first dialog's "close" event arrives after the second question is open.
CANCEL_AND_ASK_AGAIN = """
document.querySelector('[data-action="confirm-cancel"]').click();
document.querySelector('[data-action="regenerate-codes"]').click();
setTimeout(() => {
  window.__askedAgain = document.querySelector('#confirm').open ? 'open' : 'closed';
}, 200);
"""


def test_a_question_asked_again_at_once_stays_open(live: Live, browser: Driver) -> None:
    account = new_account(live, totp=True)
    sign_in_with_totp(browser, live, account)
    browser.click("Regenerate recovery codes")
    browser.expect_visible("dialog", "Regenerate your recovery codes?")
    browser.js(CANCEL_AND_ASK_AGAIN)
    asked = browser.wait_for(lambda: browser.js("return window.__askedAgain || null"), "a look")
    assert asked == "open"  # the late close event of the first question did not close it
    browser.expect_focused("Cancel")
    browser.press("Escape")  # and Escape still answers it
    browser.expect_hidden("dialog", "Regenerate your recovery codes?")
    browser.expect_focused("Regenerate recovery codes")
