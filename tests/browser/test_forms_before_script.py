"""A form on screen before its page's script has run cannot be sent natively.

A person (or a test) can click or press Enter while the page's modules are still loading.
Sent natively, the form would reload the page with its fields in the URL (the passkey's
name, the terminal's code) or POST a password to a route that takes none. The submit
button is rendered disabled and enabled by the script that handles it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Locator, Page, Route, expect

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


def sent_early(page: Page, button_name: str, fields: dict[str, str]) -> Locator:
    """Inside :func:`script_held`: the submit button is disabled; fill ``fields``, press
    Enter in the last one and click the button anyway. Returns the button."""
    button = page.get_by_role("button", name=button_name, exact=True)
    expect(button).to_be_disabled()
    for label, value in fields.items():
        page.get_by_label(label).fill(value)
    page.get_by_label(label).press("Enter")
    button.click(force=True)
    return button


def test_the_sign_in_form_waits_for_its_script(live: Live, page: Page) -> None:
    account = new_account(live)
    with script_held(page, live, "/login", "login.js"):
        fields = {"Email": account.email, "Password": "not the password"}
        button = sent_early(page, "Sign in", fields)
    expect(button).to_be_enabled()
    button.click()
    expect(status(page)).to_contain_text("Wrong email or password")


def test_the_device_code_form_waits_for_its_script(live: Live, page: Page) -> None:
    with script_held(page, live, "/cli/device", "cli-device.js"):
        button = sent_early(page, "Continue", {"Code from your terminal": "ABCD-1234"})
    expect(button).to_be_enabled()
    button.click()
    expect(status(page)).to_contain_text("code")


def test_the_add_passkey_form_waits_for_its_script(live: Live, page: Page) -> None:
    sign_in_password(page, new_account(live))
    expect(page).to_have_url(f"{live.url}{PROFILE}")
    with script_held(page, live, PROFILE, "profile.js"):
        button = sent_early(page, "Add passkey", {"Passkey name": "Phone"})
    expect(button).to_be_enabled()
