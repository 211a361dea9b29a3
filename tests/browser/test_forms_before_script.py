"""A form on screen before its page's script has run cannot be sent natively.

A person (or a test) can click or press Enter while the page's modules are still loading.
Sent natively, the form would reload the page with its fields in the URL (the passkey's
name, the terminal's code) or POST a password to a route that takes none. The submit
button is rendered disabled and enabled by the script that handles it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.flows import PROFILE, Live, new_account, sign_in_password, status, wait_until

pytestmark = pytest.mark.browser


@contextmanager
def script_held(page: Page, live: Live, path: str, script: str) -> Iterator[None]:
    """Open ``path`` with its page script held back, and let the script load on leaving.

    Inside, the server-rendered page is on screen and nothing of ours has run."""
    held: list[Route] = []
    pattern = f"**/static/{script}*"
    page.route(pattern, lambda route: held.append(route))
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.goto(f"{live.url}{path}", wait_until="commit")
    wait_until(page, lambda: bool(held), f"{script} was never requested")
    yield
    page.wait_for_timeout(100)  # where a native submission would start
    assert navigations == [f"{live.url}{path}"], navigations
    held[0].continue_()
    page.unroute(pattern)


def test_the_sign_in_form_waits_for_its_script(live: Live, page: Page) -> None:
    account = new_account(live)
    with script_held(page, live, "/login", "login.js"):
        button = page.get_by_role("button", name="Sign in")
        expect(button).to_be_disabled()
        page.get_by_label("Email").fill(account.email)
        page.get_by_label("Password").fill("not the password")
        page.get_by_label("Password").press("Enter")
        button.click(force=True)
    expect(button).to_be_enabled()
    button.click()
    expect(status(page)).to_contain_text("Wrong email or password")


def test_the_device_code_form_waits_for_its_script(live: Live, page: Page) -> None:
    with script_held(page, live, "/cli/device", "cli-device.js"):
        button = page.get_by_role("button", name="Continue")
        expect(button).to_be_disabled()
        page.get_by_label("Code from your terminal").fill("ABCD-1234")
        page.get_by_label("Code from your terminal").press("Enter")
        button.click(force=True)
    expect(button).to_be_enabled()
    button.click()
    expect(status(page)).to_contain_text("code")


def test_the_add_passkey_form_waits_for_its_script(live: Live, page: Page) -> None:
    sign_in_password(page, new_account(live))
    expect(page).to_have_url(f"{live.url}{PROFILE}")
    with script_held(page, live, PROFILE, "profile.js"):
        button = page.get_by_role("button", name="Add passkey")
        expect(button).to_be_disabled()
        page.get_by_label("Passkey name").fill("Phone")
        page.get_by_label("Passkey name").press("Enter")
        button.click(force=True)
    expect(button).to_be_enabled()
