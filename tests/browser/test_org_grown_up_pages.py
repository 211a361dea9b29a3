"""Organisations, grown up, on the pages (issue 24): ``/orgs/{id}`` for an owner and for a
member, the grace banner while a requirement is due (the service's frozen clock moved past
``due_at`` restricts), and "Secure your account" asking for a passkey. Chromium, Firefox
and WebKit; the passkey sign-in on the restricted page in Chromium and Firefox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser import steps
from tests.browser.axe import check_accessibility
from tests.browser.drivers import PASSKEY_ENGINES, Driver
from tests.browser.drivers.chromium import ChromiumDriver
from tests.browser.flows import (
    PROFILE,
    Account,
    Live,
    new_account,
    register_passkey_through_the_api,
)
from tests.helpers import code_now

pytestmark = pytest.mark.browser

Shot = Callable[[Driver, str], Path]
GRACE_DAYS = 14
# The frozen clock's T0 (2026-11-27 12:00 UTC) plus 14 days, as the pages write it.
DUE = "11 December 2026"
MEMBERS = "Members"
POLICY = "What Acme Corp requires"
EVENTS = "Events"


def api_call(live: Live, account: Account, method: str, path: str, **body: Any) -> Any:
    with live.api() as api:
        r = api.request(method, path, json=body or None, headers=account.auth)
    assert r.status_code < 300, r.text
    return r.json() if r.content else None


def org_with_member(live: Live, owner: Account, member: Account) -> dict[str, Any]:
    """ "Acme Corp", owned by ``owner``; ``member`` invited and accepted (address verified)."""
    org: dict[str, Any] = api_call(live, owner, "POST", "/api/v1/orgs", name="Acme Corp")
    api_call(live, owner, "POST", f"/api/v1/orgs/{org['id']}/members", email=member.email)
    [invitation] = api_call(live, member, "GET", "/api/v1/invitations")
    api_call(live, member, "POST", f"/api/v1/invitations/{invitation['id']}/accept")
    return org


def require_passkey(live: Live, owner: Account, org: dict[str, Any], grace_days: int) -> None:
    api_call(
        live,
        owner,
        "PATCH",
        f"/api/v1/orgs/{org['id']}",
        require_passkey=True,
        grace_days=grace_days,
    )


def sign_in_with_totp(browser: Driver, live: Live, account: Account, path: str = "/login") -> None:
    steps.sign_in_password(browser, account, path)
    browser.fill("Authenticator app code", code_now(account.totp_secret, live.clock))
    browser.click("Verify code")
    live.clock.advance(30)  # each step signs in once


def test_org_page_for_an_owner(live: Live, browser: Driver, screenshot: Shot) -> None:
    owner = new_account(live, "owner@example.com", totp=True)
    bob = new_account(live, "bob@example.com", verified=True)
    new_account(live, "carol@example.com")
    org = org_with_member(live, owner, bob)

    sign_in_with_totp(browser, live, owner)
    steps.expect_profile(browser)
    browser.click("Acme Corp", role="link", within="Your organisations")
    browser.expect_url(f"/orgs/{org['id']}")
    browser.expect_visible("heading", "Acme Corp", exact=True)
    browser.expect_text("Acme Corp doesn’t require two-factor authentication", within=POLICY)
    browser.expect_text("bob@example.com", within=MEMBERS)
    browser.expect_text("Authenticator app", within=MEMBERS)  # the owner's own factor
    browser.expect_text("Organisation created", within=EVENTS)

    # requiring a passkey without one of your own: said plainly, with the way to add one
    browser.set_checked("A passkey, and signing in with it", True)
    browser.fill("Grace days", str(GRACE_DAYS))
    browser.click("Save policy")
    browser.expect_status("You need a passkey of your own before Acme Corp can require one")
    browser.expect_visible("link", "Add a passkey on your profile")
    check_accessibility(browser, "org-owner-passkey-needed")
    assert api_call(live, owner, "GET", "/api/v1/orgs")[0]["require_two_factor"] is False

    # grace days are checked before anything is sent
    browser.set_checked("Two-factor authentication: an authenticator app or a passkey", True)
    browser.fill("Grace days", "91")
    browser.click("Save policy")
    browser.expect_status("Grace days must be a whole number from 0 to 90")

    browser.fill("Grace days", str(GRACE_DAYS))
    browser.click("Save policy")
    browser.expect_status("Policy saved")
    browser.expect_text(
        "Acme Corp requires two-factor authentication of every member", within=POLICY
    )
    browser.expect_text(DUE, within=MEMBERS)  # bob has until then
    browser.expect_text("off → two-factor, 14 days' grace", within=EVENTS)
    [saved] = api_call(live, owner, "GET", "/api/v1/orgs")
    assert saved["require_two_factor"] and saved["grace_days"] == GRACE_DAYS

    # invitations: invite, shown, withdrawn
    browser.fill("Email address to invite", "carol@example.com")
    browser.click("Invite", exact=True)
    browser.expect_status("Invitation sent to carol@example.com")
    browser.expect_items("Open invitations", 1)
    browser.expect_text("Member invited", within=EVENTS)
    screenshot(browser, "org-owner")
    check_accessibility(browser, "org-owner")
    browser.click("Withdraw invitation to carol@example.com")
    browser.expect_status("Invitation to carol@example.com withdrawn")
    browser.expect_text("No open invitations")
    browser.expect_text("Invitation withdrawn", within=EVENTS)


def test_org_events_show_more(live: Live, browser: Driver) -> None:
    owner = new_account(live, "owner@example.com", totp=True)
    bob = new_account(live, "bob@example.com", verified=True)
    org = org_with_member(live, owner, bob)
    for days in range(1, 23):  # with its creation, invitation and joining: 25 events
        api_call(live, owner, "PATCH", f"/api/v1/orgs/{org['id']}", grace_days=days)
    sign_in_with_totp(browser, live, owner, f"/login?next=/orgs/{org['id']}")
    browser.expect_url(f"/orgs/{org['id']}")
    browser.expect_visible("button", "Show more events")
    browser.click("Show more events")
    browser.expect_status("5 more events shown. That is all of them.")
    browser.expect_hidden("button", "Show more events")
    browser.expect_text("Organisation created", within=EVENTS)


def test_member_sees_the_policy_their_date_and_the_banner_until_it_is_due(
    live: Live, browser: Driver, screenshot: Shot
) -> None:
    owner = new_account(live, "owner@example.com", totp=True)
    register_passkey_through_the_api(live, owner)
    bob = new_account(live, "bob@example.com", verified=True, totp=True)
    org = org_with_member(live, owner, bob)
    require_passkey(live, owner, org, GRACE_DAYS)
    stranger = api_call(live, owner, "POST", "/api/v1/orgs", name="Umbrella")

    sign_in_with_totp(browser, live, bob)
    steps.expect_profile(browser)  # in grace: not restricted
    banner = f"Acme Corp requires a passkey from {DUE}. Add one now."
    browser.expect_text(banner)
    browser.expect_visible("link", "Add one now.")
    assert (
        browser.js(
            "return document.querySelector('[data-field=\"grace-banner\"] a').getAttribute('href')"
        )
        == f"{PROFILE}#passkeys-card"
    )
    screenshot(browser, "profile-grace-banner")
    check_accessibility(browser, "profile-grace-banner")

    browser.click("Acme Corp", role="link", within="Your organisations")
    browser.expect_url(f"/orgs/{org['id']}")
    browser.expect_text("Acme Corp requires a passkey of every member", within=POLICY)
    browser.expect_text(f"You have until {DUE} to add a passkey.", within=POLICY)
    browser.expect_text(banner)  # every signed-in page
    browser.expect_hidden("heading", MEMBERS, exact=True)  # owners only
    browser.expect_hidden("button", "Save policy")
    screenshot(browser, "org-member")
    check_accessibility(browser, "org-member")

    # an organisation bob is not in: the same 404 as one that does not exist
    browser.goto(f"/orgs/{stranger['id']}")
    browser.expect_visible("heading", "Page not found")
    check_accessibility(browser, "org-not-found")

    # past the due date (a new sign-in: sessions live 12 hours) bob is restricted, and the
    # page asks for a passkey
    live.clock.advance((GRACE_DAYS + 1) * 86400)
    sign_in_with_totp(browser, live, bob)
    browser.expect_url("/secure-account?next=/profile/authentication")
    browser.expect_visible("heading", "A passkey is required")
    browser.expect_text("Acme Corp requires a passkey. Add one on this device.")
    browser.expect_hidden("button", "Set up authenticator app")  # an app doesn't meet it
    if browser.engine == "webkit":
        browser.expect_text("This browser can’t use passkeys")
    check_accessibility(browser, "secure-account-passkey-needed")


@pytest.mark.parametrize("browser_engine", PASSKEY_ENGINES, indirect=True, scope="session")
def test_restricted_page_asks_for_the_passkey_and_a_passkey_sign_in_lifts_it(
    live: Live, browser: Driver, screenshot: Shot
) -> None:
    owner = new_account(live, "owner@example.com", totp=True)
    register_passkey_through_the_api(live, owner)
    bob = new_account(live, "bob@example.com", verified=True, totp=True)
    org = org_with_member(live, owner, bob)
    steps.ignore_passkey_autofill(browser)  # bob types his password
    browser.add_virtual_authenticator("internal")  # WebKit: unavailable

    sign_in_with_totp(browser, live, bob)
    steps.expect_profile(browser)
    browser.click("Not now")  # the offer after a code; the card's form names the passkey
    steps.add_passkey(browser, "This laptop")
    steps.sign_out(browser)
    require_passkey(live, owner, org, 0)

    # a password and an authenticator code, though bob has a passkey: restricted
    sign_in_with_totp(browser, live, bob)
    browser.expect_url("/secure-account?next=/profile/authentication")
    browser.expect_text(
        "Acme Corp requires a passkey. Use your passkey, or add one on this device."
    )
    browser.expect_visible("button", "Sign in with your passkey")
    screenshot(browser, "secure-account-use-passkey")
    check_accessibility(browser, "secure-account-use-passkey")
    with live.api() as api:
        r = api.get("/api/v1/profile/sessions", headers=bob.auth)
        before = {s["id"] for s in r.json()}

    browser.click("Sign in with your passkey")
    steps.expect_profile(browser)
    browser.expect_no_text("Secure your account to continue")
    with live.api() as api:
        sessions = api.get("/api/v1/profile/sessions", headers=bob.auth).json()
    # the restricted session was replaced: the passkey's is new, the TOTP one is gone
    assert [s["method"] for s in sessions if s["id"] not in before] == ["passkey"], sessions
    assert sum(s["method"] == "totp" for s in sessions) == 0, sessions


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_org_page_at_a_phones_width(live: Live, page: Page, scheme: str) -> None:
    """320 CSS px (Chromium): the page reflows, its tables scroll in boxes that then join
    the Tab path, and axe-core finds nothing in either colour scheme."""
    page.set_viewport_size({"width": 320, "height": 640})
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    browser = ChromiumDriver(page, live.url)
    owner = new_account(live, "a.rather.long.owner.address@example.com", totp=True)
    bob = new_account(live, "bob@example.com", verified=True)
    org = org_with_member(live, owner, bob)
    api_call(
        live, owner, "PATCH", f"/api/v1/orgs/{org['id']}", require_two_factor=True, grace_days=30
    )

    sign_in_with_totp(browser, live, owner, f"/login?next=/orgs/{org['id']}")
    browser.expect_url(f"/orgs/{org['id']}")
    browser.expect_text("Policy changed", within=EVENTS)
    assert not browser.js(
        "return document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    assert browser.js(
        "const box = document.querySelector('#org-events-card .table-wrap');"
        "return box.scrollWidth <= box.clientWidth || box.tabIndex === 0"
    )
    check_accessibility(browser, f"narrow-org-owner-{scheme}")


@pytest.mark.parametrize("browser_engine", PASSKEY_ENGINES, indirect=True, scope="session")
def test_an_owner_who_requires_passkeys_from_a_code_session_uses_theirs_and_comes_back(
    live: Live, browser: Driver
) -> None:
    """The policy binds its owner too: saved from a session signed in with a code, the
    page asks for the owner's passkey, and comes back to the organisation after it."""
    owner = new_account(live, "owner@example.com", totp=True)
    bob = new_account(live, "bob@example.com", verified=True)
    org = org_with_member(live, owner, bob)
    steps.ignore_passkey_autofill(browser)
    browser.add_virtual_authenticator("internal")  # WebKit: unavailable
    sign_in_with_totp(browser, live, owner)
    steps.expect_profile(browser)
    browser.click("Not now")
    steps.add_passkey(browser, "This laptop")
    steps.sign_out(browser)

    sign_in_with_totp(browser, live, owner, f"/login?next=/orgs/{org['id']}")
    browser.expect_url(f"/orgs/{org['id']}")
    browser.set_checked("A passkey, and signing in with it", True)
    browser.fill("Grace days", "7")
    browser.click("Save policy")
    browser.expect_url(f"/secure-account?next=/orgs/{org['id']}")
    browser.expect_text(
        "Acme Corp requires a passkey. Use your passkey, or add one on this device."
    )
    browser.click("Sign in with your passkey")
    browser.expect_url(f"/orgs/{org['id']}")
    browser.expect_text("Acme Corp requires a passkey of every member", within=POLICY)
    browser.expect_text("You meet it: you have a passkey.", within=POLICY)
    browser.expect_text("4 December 2026", within=MEMBERS)  # bob: 7 days from T0


@pytest.mark.parametrize("browser_engine", PASSKEY_ENGINES, indirect=True, scope="session")
def test_restricted_page_adds_the_first_passkey_and_continues(live: Live, browser: Driver) -> None:
    owner = new_account(live, "owner@example.com", totp=True)
    register_passkey_through_the_api(live, owner)
    bob = new_account(live, "bob@example.com", verified=True, totp=True)
    org = org_with_member(live, owner, bob)
    require_passkey(live, owner, org, 0)  # no grace: restricted at once
    steps.ignore_passkey_autofill(browser)
    browser.add_virtual_authenticator("internal")  # WebKit: unavailable

    sign_in_with_totp(browser, live, bob, f"/login?next=/orgs/{org['id']}")
    browser.expect_url(f"/secure-account?next=/orgs/{org['id']}")
    browser.expect_text("Acme Corp requires a passkey. Add one on this device.")
    browser.expect_hidden("button", "Sign in with your passkey")  # bob has none yet
    check_accessibility(browser, "secure-account-add-passkey")
    browser.fill("Passkey name", "This laptop")
    browser.click("Add passkey")
    browser.expect_url(f"/orgs/{org['id']}")  # bob had 2FA: no new codes, on at once
    browser.expect_text("You meet it: you have a passkey.", within=POLICY)
