"""Sign out in headless Chromium while the profile's own loads are still in flight."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.flows import PROFILE, Live, new_account, sign_in_password, wait_until

pytestmark = pytest.mark.browser


def test_sign_out_lands_on_the_sign_in_page_even_if_a_load_answers_401_after_it(
    live: Live, page: Page
) -> None:
    # The race a person meets by clicking "Sign out" as the page opens: a load that left
    # before the sign-out is answered 401 after it. That answer must not send them to
    # "/login?next=/profile/authentication" instead of the page they chose.
    account = new_account(live)
    held_sessions: list[Route] = []
    held_login: list[Route] = []
    page.route("**/api/v1/profile/sessions", lambda route: held_sessions.append(route))
    sign_in_password(page, account)
    expect(page).to_have_url(f"{live.url}{PROFILE}")
    expect(page.get_by_role("heading", name="Authentication", exact=True)).to_be_visible()
    wait_until(page, lambda: bool(held_sessions), "the sessions list never loaded")

    # Hold the navigation the sign-out starts.
    page.route("**/login", lambda route: held_login.append(route))
    with page.expect_response("**/api/v1/auth/logout") as logout:
        page.get_by_role("button", name="Sign out", exact=True).click()
    assert logout.value.status == 204
    wait_until(page, lambda: bool(held_login), "signing out did not go to /login")

    with page.expect_response("**/api/v1/profile/sessions") as late:
        held_sessions[0].continue_()
    assert late.value.status == 401  # the session is gone
    page.wait_for_timeout(100)  # the page's answer to that 401, if any
    page.unroute("**/login")
    held_login[0].continue_()
    expect(page).to_have_url(f"{live.url}/login")
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
