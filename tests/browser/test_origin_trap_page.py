"""The sign-in page opened at an address the service does not sign in from (headless
Chromium): the page says so and links to the right one, and nothing is created or spent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ankra_auth.accounts.models import AuthSession, Throttle
from ankra_auth.challenges.models import PendingLogin
from ankra_auth.events.models import SecurityEvent
from tests.browser.flows import (
    Live,
    expect_profile,
    expect_second_factor_step,
    new_account,
    sign_in_password,
    status,
)
from tests.helpers import code_now

pytestmark = pytest.mark.browser


def snapshot(app: FastAPI) -> dict[str, list[str]]:
    """Every row a sign-in writes: sessions, pending logins, throttle counts, events."""
    with app.state.session_factory() as db:
        return {
            model.__tablename__: sorted(map(repr, db.execute(select(model.__table__)).all()))
            for model in (AuthSession, PendingLogin, Throttle, SecurityEvent)
        }


def test_a_page_at_the_wrong_address_says_where_to_sign_in_and_signs_nobody_in(
    live: Live, page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    account = new_account(live, totp=True)
    wrong = live.url.replace("localhost", "127.0.0.1")  # what uvicorn's own line used to show
    before = snapshot(live.app)

    sign_in_password(page, account, path=f"{wrong}/login?next=/profile/authentication")
    message = status(page)
    expect(message).to_contain_text(f"This page was opened at {wrong}")
    expect(message).to_contain_text(f"Open {live.url}/login and sign in there.")
    link = message.get_by_role("link", name=f"Go to {live.url}/login")
    expect(link).to_be_focused()
    expect(link).to_have_attribute("href", f"{live.url}/login?next=/profile/authentication")
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_hidden()
    screenshot(page, "login-wrong-address")
    # Again, as a person would try: still nothing happens behind the page.
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(message).to_contain_text(f"This page was opened at {wrong}")
    assert page.context.cookies(wrong) == []
    assert snapshot(live.app) == before  # no session, no pending login, nothing counted

    # The link leads to the address that works, where the same code signs in.
    link.click()
    expect(page).to_have_url(f"{live.url}/login?next=/profile/authentication")
    sign_in_password(page, account, path="/login?next=/profile/authentication")
    expect_second_factor_step(page)
    page.get_by_label("Authenticator app code").fill(code_now(account.totp_secret, live.clock))
    page.get_by_role("button", name="Verify code").click()
    expect_profile(page, live)
