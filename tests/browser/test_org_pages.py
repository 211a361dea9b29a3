"""Organisations on the pages: invitations on the profile, leaving on "Secure your account",
in Chromium, Firefox and WebKit (ported from the Playwright test onto tests/browser/drivers)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.axe import check_accessibility
from tests.browser.drivers import Driver
from tests.browser.flows import PROFILE, Account, Live, new_account
from tests.browser.steps import expect_profile, sign_in_password
from tests.test_orgs import accept, invite

pytestmark = pytest.mark.browser

SECURE = "/secure-account?next=/profile/authentication"
Shot = Callable[[Driver, str], Path]
INVITATIONS = "Organisation invitations"
ORGS = "Organisations that require two-factor authentication"


def org_of(live: Live, owner: Account, name: str, *, require: bool) -> dict[str, Any]:
    with live.api() as api:
        r = api.post("/api/v1/orgs", json={"name": name}, headers=owner.auth)
        assert r.status_code == 201, r.text
        org: dict[str, Any] = r.json()
        if require:
            r = api.patch(
                f"/api/v1/orgs/{org['id']}", json={"require_two_factor": True}, headers=owner.auth
            )
            assert r.status_code == 200, r.text
    return org


def test_accepting_an_invitation_on_the_profile_page(
    live: Live, browser: Driver, screenshot: Shot
) -> None:
    owner = new_account(live, "owner@example.com", totp=True)
    bob = new_account(live, "bob@example.com", verified=True)
    strict = org_of(live, owner, "Acme Corp", require=True)
    relaxed = org_of(live, owner, "Book Club", require=False)
    with live.api() as api:
        invite(api, owner, relaxed["id"], bob)  # type: ignore[arg-type]  # httpx.Client
        invite(api, owner, strict["id"], bob)  # type: ignore[arg-type]

    sign_in_password(browser, bob)
    expect_profile(browser)  # invited is not restricted
    items = browser.expect_items("Open invitations", 2)
    assert all("invited by owner@example.com" in item for item in items), items
    requiring = "Requires two-factor authentication of every member."
    assert sum(requiring in item for item in items) == 1, items
    screenshot(browser, "profile-invitations")
    check_accessibility(browser, "profile-invitations")

    browser.click("Decline invitation to Book Club", within=INVITATIONS)
    browser.expect_status("You declined the invitation to Book Club")
    browser.expect_items("Open invitations", 1)

    # joining an organisation that requires 2FA, without 2FA: secure the account next
    browser.click("Accept invitation to Acme Corp", within=INVITATIONS)
    browser.expect_url(SECURE)
    browser.expect_visible("heading", "Secure your account to continue")
    assert any("Acme Corp" in item for item in browser.expect_items(ORGS, 1))
    with live.api() as api:
        assert api.get("/api/v1/invitations", headers=bob.auth).json() == []
        assert [o["name"] for o in api.get("/api/v1/orgs", headers=bob.auth).json()] == [
            "Acme Corp"
        ]


def test_leaving_organisations_on_the_secure_account_page(
    live: Live, browser: Driver, screenshot: Shot
) -> None:
    owner = new_account(live, "owner@example.com", totp=True)
    bob = new_account(live, "bob@example.com", verified=True)
    for name in ("Acme Corp", "Umbrella"):
        org = org_of(live, owner, name, require=True)
        with live.api() as api:
            invite(api, owner, org["id"], bob)  # type: ignore[arg-type]  # httpx.Client
            accept(api, bob, org["id"])  # type: ignore[arg-type]

    sign_in_password(browser, bob)
    browser.expect_url(SECURE)
    browser.expect_items(ORGS, 2)

    # a confirmation first; "Stay" changes nothing
    browser.click("Leave Umbrella", exact=True)
    browser.expect_text("Leave Umbrella? You will no longer be a member")
    screenshot(browser, "secure-account-leave")
    check_accessibility(browser, "secure-account-leave")
    browser.click("Stay", exact=True)
    browser.expect_hidden("button", "Yes, leave Umbrella")
    browser.expect_focused("Leave Umbrella")

    browser.click("Leave Umbrella", exact=True)
    browser.click("Yes, leave Umbrella")
    browser.expect_status("You left Umbrella")
    browser.expect_items(ORGS, 1)
    browser.expect_url(SECURE)  # Acme Corp still requires 2FA

    # leaving the last one lifts the restriction at once: the page continues
    browser.click("Leave Acme Corp", exact=True)
    browser.click("Yes, leave Acme Corp")
    expect_profile(browser)
    browser.expect_text('Left an organisation: "Acme Corp"', within="Security log")
    browser.expect_text('Left an organisation: "Umbrella"', within="Security log")
    browser.goto(PROFILE)
    expect_profile(browser)
