"""Organisations on the pages: invitations on the profile, leaving on "Secure your account"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.flows import (
    PROFILE,
    Account,
    Live,
    expect_profile,
    new_account,
    sign_in_password,
    status,
)
from tests.test_orgs import accept, invite

pytestmark = pytest.mark.browser

SECURE = "/secure-account?next=/profile/authentication"
Shot = Callable[[Page, str], Path]


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
    live: Live, page: Page, screenshot: Shot
) -> None:
    owner = new_account(live, "owner@example.com", totp=True)
    bob = new_account(live, "bob@example.com")
    strict = org_of(live, owner, "Acme Corp", require=True)
    relaxed = org_of(live, owner, "Book Club", require=False)
    with live.api() as api:
        invite(api, owner, relaxed["id"], bob)  # type: ignore[arg-type]  # httpx.Client
        invite(api, owner, strict["id"], bob)  # type: ignore[arg-type]

    sign_in_password(page, bob)
    expect_profile(page, live)  # invited is not restricted
    card = page.get_by_role("region", name="Organisation invitations")
    expect(card.get_by_role("listitem")).to_have_count(2)
    expect(card.get_by_text("invited by owner@example.com").first).to_be_visible()
    expect(card.get_by_text("Requires two-factor authentication of every member.")).to_have_count(1)
    screenshot(page, "profile-invitations")

    page.get_by_role("button", name="Decline invitation to Book Club").click()
    expect(status(page)).to_contain_text("You declined the invitation to Book Club")
    expect(card.get_by_role("listitem")).to_have_count(1)

    # joining an organisation that requires 2FA, without 2FA: secure the account next
    page.get_by_role("button", name="Accept invitation to Acme Corp").click()
    expect(page).to_have_url(f"{live.url}{SECURE}")
    expect(page.get_by_role("heading", name="Secure your account to continue")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="Acme Corp")).to_be_visible()
    with live.api() as api:
        assert api.get("/api/v1/invitations", headers=bob.auth).json() == []
        assert [o["name"] for o in api.get("/api/v1/orgs", headers=bob.auth).json()] == [
            "Acme Corp"
        ]


def test_leaving_organisations_on_the_secure_account_page(
    live: Live, page: Page, screenshot: Shot
) -> None:
    owner = new_account(live, "owner@example.com", totp=True)
    bob = new_account(live, "bob@example.com")
    for name in ("Acme Corp", "Umbrella"):
        org = org_of(live, owner, name, require=True)
        with live.api() as api:
            invite(api, owner, org["id"], bob)  # type: ignore[arg-type]  # httpx.Client
            accept(api, bob, org["id"])  # type: ignore[arg-type]

    sign_in_password(page, bob)
    expect(page).to_have_url(f"{live.url}{SECURE}")
    orgs = page.get_by_role("list", name="Organisations that require two-factor authentication")
    expect(orgs.get_by_role("listitem")).to_have_count(2)

    # a confirmation first; "Stay" changes nothing
    page.get_by_role("button", name="Leave Umbrella").click()
    expect(page.get_by_text("Leave Umbrella? You will no longer be a member")).to_be_visible()
    screenshot(page, "secure-account-leave")
    page.get_by_role("button", name="Stay").click()
    expect(page.get_by_role("button", name="Yes, leave Umbrella")).to_be_hidden()
    expect(page.get_by_role("button", name="Leave Umbrella")).to_be_focused()

    page.get_by_role("button", name="Leave Umbrella").click()
    page.get_by_role("button", name="Yes, leave Umbrella").click()
    expect(status(page)).to_contain_text("You left Umbrella")
    expect(orgs.get_by_role("listitem")).to_have_count(1)
    expect(page).to_have_url(f"{live.url}{SECURE}")  # Acme Corp still requires 2FA

    # leaving the last one lifts the restriction at once: the page continues
    page.get_by_role("button", name="Leave Acme Corp").click()
    page.get_by_role("button", name="Yes, leave Acme Corp").click()
    expect_profile(page, live)
    log = page.get_by_role("region", name="Security log")
    expect(log.get_by_text("Left an organisation: Acme Corp")).to_be_visible()
    expect(log.get_by_text("Left an organisation: Umbrella")).to_be_visible()
    page.goto(PROFILE)
    expect_profile(page, live)
