"""The address on the pages, in Chromium: the profile's "Email address" card (Not verified,
"Send the link again", then Verified), the mailed link opened while signed out (sign in,
back, verified, the token gone from the address bar), a link that cannot verify, the
security log's "Emailed to you", and a notification mail as its HTML part renders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, expect

from ankra_auth.mail import render
from tests.browser.axe import check_accessibility
from tests.browser.flows import (
    PROFILE,
    Live,
    expect_profile,
    new_account,
    sign_in_password,
    sign_out,
    status,
)
from tests.helpers import verification_token

pytestmark = pytest.mark.browser

Shot = Callable[..., Path]
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def token_of(live: Live, email: str) -> str:
    with live.app.state.session_factory() as db:
        return verification_token(db, email, live.app.state.settings.secret)


def test_the_mailed_link_verifies_after_signing_in(
    live: Live, page: Page, screenshot: Shot
) -> None:
    account = new_account(live, "ada@example.com")
    sign_in_password(page, account)
    expect_profile(page, live)
    card = page.get_by_role("region", name="Email address")
    expect(card).to_contain_text("ada@example.com Not verified")
    expect(card).to_contain_text("no security mail reaches you")
    again = card.get_by_role("button", name="Send the link again")
    again.click()
    expect(status(page)).to_contain_text("We sent a new link to ada@example.com")
    card.scroll_into_view_if_needed()
    screenshot(page, "profile-email-unverified")
    again.click()  # at most one a minute
    expect(status(page)).to_contain_text("A link was sent a moment ago")
    sign_out(page, live)

    # The mail's link, opened in a browser that is not signed in: sign in, then back.
    page.goto(f"/verify-email?token={token_of(live, account.email)}")
    expect(page.get_by_label("Email")).to_be_visible()
    assert page.url.startswith(f"{live.url}/login?next=")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Your email address is verified")).to_be_visible()
    expect(page).to_have_url(f"{live.url}/verify-email")  # the token left the address bar
    expect(page.get_by_role("heading", name="Your email address is verified")).to_be_focused()
    screenshot(page, "verify-email")
    check_accessibility(page, "verify-email")

    # Something the owner is told about: a sign-in from a device this account never saw.
    with live.api() as api:
        r = api.post(
            "/api/v1/auth/login",
            json={"email": account.email, "password": account.password},
            headers={"User-Agent": FIREFOX},
        )
        assert r.status_code == 200, r.text
    page.goto(PROFILE)
    expect(card).to_contain_text("ada@example.com Verified")
    expect(card.get_by_role("button", name="Send the link again")).to_be_hidden()
    log = page.get_by_role("region", name="Security log")
    newest = log.get_by_role("row").nth(1)
    expect(newest).to_contain_text("Signed in")
    expect(newest).to_contain_text("Emailed to you")
    expect(newest).to_contain_text("Firefox on Linux")
    expect(log).to_contain_text("Email address verified")
    card.scroll_into_view_if_needed()
    screenshot(page, "profile-email-verified")
    # Every mail's "Wasn't you?" link lands on this card
    page.goto(f"{PROFILE}#sessions")
    expect(page.locator("#sessions")).to_have_text("Where you're signed in")


def test_a_link_that_cannot_verify_says_so_and_offers_a_new_one(live: Live, page: Page) -> None:
    account = new_account(live, "grace@example.com")
    sign_in_password(page, account)
    expect_profile(page, live)
    page.goto("/verify-email?token=not-the-link-we-sent")
    expect(page.get_by_role("heading", name="This link cannot verify your address")).to_be_visible()
    expect(page).to_have_url(f"{live.url}/verify-email")
    page.get_by_role("button", name="Send the link again").click()
    expect(status(page)).to_contain_text("We sent a new link to grace@example.com")
    check_accessibility(page, "verify-email-invalid")
    page.goto(f"/verify-email?token={token_of(live, account.email)}")  # the newest link works
    expect(page.get_by_role("heading", name="Your email address is verified")).to_be_visible()


def test_a_notification_mail_renders_and_fetches_nothing(page: Page, screenshot: Shot) -> None:
    at = datetime(2026, 11, 27, 12, 0, 15, tzinfo=UTC)
    first = {"at": at.isoformat(), "ip": "203.0.113.7", "user_agent": FIREFOX, "method": "totp"}
    latest = {**first, "at": "2026-11-27T12:00:41+00:00", "ip": "198.51.100.23"}
    told = render.Told(kind="sign_in", first=first, latest=latest, events=3)
    mail = render.notification(told, public_url="https://auth.example.com", to="ada@example.com")
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    page.set_content(mail.html)
    expect(page.get_by_role("heading", name="New sign-in to your Ankra account")).to_be_visible()
    expect(page.get_by_text("signed in to 3 times")).to_be_visible()
    expect(page.get_by_role("cell", name="Firefox on Linux")).to_be_visible()
    link = page.get_by_role("link", name="https://auth.example.com/profile/authentication#sessions")
    expect(link).to_be_visible()
    page.set_viewport_size({"width": 640, "height": 800})
    screenshot(page, "mail-new-sign-in")
    assert requests == []  # no image, font, stylesheet or pixel: nothing is fetched
