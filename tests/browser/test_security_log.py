"""The profile's security log: which device, which passkey, which method (the event's
``method``, ``detail`` and user agent, named as the sessions card names devices), and
"Show more events" following ``next_cursor``. In Chromium, Firefox and WebKit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.browser.axe import check_accessibility
from tests.browser.drivers import Driver
from tests.browser.flows import Live, new_account, register_passkey_through_the_api
from tests.browser.steps import sign_in_with_totp
from tests.browser.test_sessions_card import EDGE, sign_in_elsewhere
from tests.helpers import enroll_totp

pytestmark = pytest.mark.browser

LOG = "Security log"
ROWS = """
return [...document.querySelectorAll('#events-card tbody tr')]
  .map((tr) => [...tr.cells].map((td) => td.innerText.replace(/\\s+/g, ' ').trim()));
"""
HEADERS = "return [...document.querySelectorAll('#events-card thead th')].map((th) => th.innerText)"


def test_the_log_names_devices_and_passkeys_and_shows_more(
    live: Live, browser: Driver, screenshot: Callable[..., Path]
) -> None:
    account = new_account(live)  # signed up (and in) through the API: python-httpx
    sign_in_elsewhere(live, account, EDGE)
    with live.api() as api:
        sessions = api.get("/api/v1/profile/sessions", headers=account.auth).json()
        [edge] = [s["id"] for s in sessions if s["device"] == "Edge on Windows"]
        r = api.delete(f"/api/v1/profile/sessions/{edge}", headers=account.auth)
        assert r.status_code == 204, r.text
        enroll_totp(api, account, live.clock)  # type: ignore[arg-type]  # httpx.Client
    passkey = register_passkey_through_the_api(live, account, "Phone")
    with live.api() as api:
        for n in range(1, 21):  # 20 renames from Edge: the log runs past one page
            r = api.patch(
                f"/api/v1/profile/auth/passkeys/{passkey['id']}",
                json={"name": f"Key {n}"},
                headers={**account.auth, "User-Agent": EDGE},
            )
            assert r.status_code == 200, r.text
    live.clock.advance(30)  # the enrolment's TOTP step is spent
    sign_in_with_totp(browser, live, account)

    assert browser.js(HEADERS) == ["When", "Event", "Details", "Device", "IP address"]
    rows = browser.wait_for(lambda: (r := browser.js(ROWS)) and len(r) == 20 and r, "20 events")
    this_device = browser.list_items("Your sessions")[0].split("This device")[0].strip()
    assert rows[0][1:4] == ["Signed in", "Authenticator app", this_device], rows[0]
    assert rows[1][1:4] == ["Passkey renamed", "Passkey “Key 20”", "Edge on Windows"], rows[1]
    assert rows[0][4] == "127.0.0.1"

    browser.click("Show more events", within=LOG)
    browser.expect_status("7 more events shown. That is the whole log.")
    rows = browser.wait_for(lambda: (r := browser.js(ROWS)) and len(r) == 27 and r, "27 events")
    browser.expect_hidden("button", "Show more events")
    browser.expect_focused(LOG)  # the button is gone: the keyboard stays in the card
    details = [row[1:4] for row in rows[20:]]
    assert ["Passkey renamed", "Passkey “Key 1”", "Edge on Windows"] in details, details
    [added] = [row for row in details if row[0] == "Passkey added"]
    assert added[1] == "Passkey “Phone”" and added[2].startswith("Unknown device python-httpx/")
    [revoked] = [row for row in details if row[0] == "Session signed out"]
    assert revoked[1] == "Edge on Windows", revoked  # which session was signed out
    assert ["Signed in", "Password", "Edge on Windows"] in details, details
    assert details[-1][:2] == ["Signed in", "Password"]  # the sign-up, oldest
    check_accessibility(browser, "profile-security-log-whole")
    screenshot(browser, "profile-security-log")
