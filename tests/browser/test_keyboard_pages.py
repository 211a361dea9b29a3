"""Keyboard only: signing in (password, then the authenticator code), setting up the
authenticator app and adding a passkey, with Tab, Shift+Tab, Enter, Space and Escape as real
key events and no clicks. At every stop the focus is where it should be, drawn
(``:focus-visible`` with an outline) and not covered. Sign-in and set-up in Chromium, Firefox
and WebKit; the passkey where there is WebAuthn (virtual authenticators)."""

from __future__ import annotations

import pytest

from tests.browser.axe import check_accessibility
from tests.browser.drivers import PASSKEY_ENGINES, Driver
from tests.browser.flows import Live, new_account
from tests.browser.keyboard import expect_keyboard_focus, tab_to
from tests.browser.steps import (
    expect_profile,
    expect_second_factor_step,
    sign_in_password,
)
from tests.helpers import code_now

pytestmark = pytest.mark.browser


def test_sign_in_with_password_then_authenticator_code(live: Live, browser: Driver) -> None:
    account = new_account(live, totp=True)
    browser.goto("/login")
    expect_keyboard_focus(browser, "Email", exact=True)  # the page starts where you type
    # The skip link is the first stop, and shows when it has the focus.
    tab_to(browser, "Skip to content", backwards=True)
    tab_to(browser, "Email", exact=True)
    browser.type_text(account.email)
    tab_to(browser, "Password", exact=True)
    browser.type_text("not the password")
    browser.press("Enter")
    browser.expect_status("Wrong email or password")
    expect_keyboard_focus(browser, "Password", exact=True)  # ready to try again
    check_accessibility(browser, "login-wrong-password")

    browser.js("document.activeElement.select()")  # as a person would select what they typed
    browser.type_text(account.password)
    tab_to(browser, "Sign in", exact=True)
    browser.press("Space")
    expect_second_factor_step(browser)
    expect_keyboard_focus(browser, "Authenticator app code")
    tab_to(browser, "Use a recovery code instead")  # the other way in is one Tab on
    tab_to(browser, "Authenticator app code", backwards=True)
    browser.type_text(code_now(account.totp_secret, live.clock))
    browser.press("Enter")
    expect_profile(browser)


def test_set_up_authenticator_app(live: Live, browser: Driver) -> None:
    account = new_account(live)
    sign_in_password(browser, account)
    expect_profile(browser)
    # From the top of the page: the skip link, "Sign out", then the profile's controls.
    passed = tab_to(browser, "Set up authenticator app")
    assert passed[:2] == ["Skip to content", "Sign out"], passed
    browser.press("Enter")
    expect_keyboard_focus(browser, "Code from your authenticator app")
    secret = browser.value("enter this secret key").replace(" ", "")
    # The secret is one Shift+Tab back, to copy by hand; then on to the code again.
    tab_to(browser, "enter this secret key", backwards=True)
    tab_to(browser, "Code from your authenticator app")
    browser.type_text(code_now(secret, live.clock))
    browser.press("Enter")

    expect_keyboard_focus(browser, "Save your recovery codes")  # the codes, shown once
    browser.expect_items("Recovery codes", 10)
    tab_to(browser, "Sign out everywhere else")
    browser.press("Space")  # untick: keep the other session
    assert not browser.checked("Sign out everywhere else")
    tab_to(browser, "I have saved my codes")
    browser.press("Enter")
    browser.expect_status("Keep your recovery codes somewhere safe")
    expect_keyboard_focus(browser, "Two-factor authentication")
    browser.expect_text("Two-factor authentication is on", within="Two-factor authentication")

    # A change that cannot be undone asks first; Enter on the default answer keeps it.
    tab_to(browser, "Regenerate recovery codes")
    browser.press("Enter")
    browser.expect_visible("dialog", "Regenerate your recovery codes?")
    expect_keyboard_focus(browser, "Cancel", exact=True)
    browser.press("Enter")
    browser.expect_hidden("dialog", "Regenerate your recovery codes?")
    expect_keyboard_focus(browser, "Regenerate recovery codes")
    browser.press("Space")
    expect_keyboard_focus(browser, "Cancel", exact=True)
    tab_to(browser, "Regenerate codes", exact=True)
    browser.press("Escape")
    browser.expect_hidden("dialog", "Regenerate your recovery codes?")
    expect_keyboard_focus(browser, "Regenerate recovery codes")
    browser.expect_text("10 of 10", within="Two-factor authentication")


@pytest.mark.parametrize("browser_engine", PASSKEY_ENGINES, indirect=True, scope="session")
def test_add_a_passkey(live: Live, browser: Driver) -> None:
    account = new_account(live)
    browser.add_virtual_authenticator("internal")  # WebKit: unavailable
    sign_in_password(browser, account)
    expect_profile(browser)
    tab_to(browser, "Passkey name")
    browser.type_text("Work laptop")
    browser.press("Enter")
    browser.expect_status("Passkey “Work laptop” added")
    expect_keyboard_focus(browser, "Save your recovery codes")
    tab_to(browser, "I have saved my codes")
    browser.press("Enter")
    expect_keyboard_focus(browser, "Two-factor authentication")

    # Rename it by keyboard too: the field takes the focus, Enter saves, focus comes back.
    tab_to(browser, "Rename Work laptop")
    browser.press("Enter")
    expect_keyboard_focus(browser, "New name for Work laptop")
    browser.type_text("Laptop")  # the old name is selected: typing replaces it
    browser.press("Enter")
    browser.expect_status("Passkey renamed to “Laptop”")
    expect_keyboard_focus(browser, "Rename Laptop")
    browser.expect_items("Your passkeys", 1)
