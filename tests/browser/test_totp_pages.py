"""Authenticator app and recovery codes through the pages, in Chromium, Firefox and WebKit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.browser.axe import check_accessibility
from tests.browser.drivers import Driver
from tests.browser.flows import CODE_SHAPE, Live, new_account
from tests.browser.steps import (
    expect_profile,
    expect_second_factor_step,
    freeze_page_clock,
    sign_in_password,
    sign_out,
)
from tests.helpers import code_now, start_login

pytestmark = pytest.mark.browser

Shot = Callable[..., Path]
TWO_FACTOR = "Two-factor authentication"


def test_set_up_authenticator_app_then_save_recovery_codes(
    live: Live, browser: Driver, screenshot: Shot
) -> None:
    account = new_account(live)
    browser.goto("/login")
    browser.expect_visible("button", "Sign in")
    screenshot(browser, "login")
    check_accessibility(browser, "login")
    sign_in_password(browser, account)
    expect_profile(browser)
    browser.expect_text("Two-factor authentication is off", within=TWO_FACTOR)
    check_accessibility(browser, "profile-2fa-off")

    browser.click("Set up authenticator app")
    browser.wait_for(
        lambda: browser.js(
            "const img = document.querySelector('[aria-label=\"QR code for your authenticator app\"]');"
            "return img && img.getClientRects().length > 0"
        ),
        "the QR code",
    )
    secret = browser.wait_for(
        lambda: browser.value("enter this secret key").replace(" ", ""), "the secret key"
    )
    assert len(secret) == 32
    screenshot(browser, "profile-set-up-authenticator-app")
    check_accessibility(browser, "profile-set-up-authenticator-app")
    browser.fill("Code from your authenticator app", code_now(secret, live.clock))
    browser.click("Confirm", exact=True)

    codes = browser.expect_items("Recovery codes", 10)
    assert all(CODE_SHAPE.fullmatch(code) for code in codes)
    browser.expect_text("Two-factor authentication is on", within=TWO_FACTOR)
    screenshot(browser, "profile-recovery-codes")
    check_accessibility(browser, "profile-recovery-codes")

    # The file is dated by the browser's calendar: make it follow the service's frozen clock.
    freeze_page_clock(browser, live.clock.now())
    name, text = browser.download("Download codes")
    assert name.endswith("2026-11-27.txt"), name
    assert f"Account: {account.email}" in text
    assert f"Site: {live.url}" in text
    assert "Date: 2026-11-27" in text
    assert all(code in text for code in codes)
    browser.expect_status("Recovery codes downloaded")

    assert browser.copy("Copy codes").split() == codes
    browser.expect_status("Recovery codes copied")

    browser.click("I have saved my codes")
    browser.expect_hidden("list", "Recovery codes")
    browser.expect_visible("button", "Remove authenticator app")
    browser.expect_text("Authenticator app set up", within="Security log")
    screenshot(browser, "profile-authentication")
    check_accessibility(browser, "profile-2fa-on")

    # What the page showed is what the service stored: a shown code signs in.
    live.clock.advance(30)
    with live.api() as api:
        pending = start_login(api, account)  # type: ignore[arg-type]
        r = api.post(
            "/api/v1/auth/mfa/recovery-code",
            json={"mfa_token": pending["mfa_token"], "code": codes[0]},
        )
    assert r.status_code == 200, r.text


def test_wrong_authenticator_code_shows_attempts_left_then_starts_over(
    live: Live, browser: Driver, screenshot: Shot
) -> None:
    account = new_account(live, totp=True)
    right = code_now(account.totp_secret, live.clock)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    sign_in_password(browser, account)
    expect_second_factor_step(browser)
    browser.expect_hidden("button", "Use a passkey")  # no passkeys
    screenshot(browser, "login-second-factor")
    check_accessibility(browser, "login-second-factor")
    browser.expect_focused("Authenticator app code")
    browser.fill("Authenticator app code", wrong)
    browser.press_enter("Authenticator app code")
    browser.expect_status("4 attempts left")
    screenshot(browser, "login-wrong-code")
    check_accessibility(browser, "login-wrong-code")

    for left in (3, 2, 1):
        browser.fill("Authenticator app code", wrong)
        browser.click("Verify code")
        browser.expect_status(f"{left} attempt")
    browser.fill("Authenticator app code", wrong)
    browser.click("Verify code")
    # The pending login is spent: back to the password step, with the reason.
    browser.expect_status("Too many failed attempts")
    browser.expect_visible("field", "Password")
    browser.expect_focused("Password")

    browser.fill("Password", account.password)
    browser.click("Sign in")
    browser.fill("Authenticator app code", right)
    browser.click("Verify code")
    expect_profile(browser)


def test_sign_in_with_a_recovery_code_instead(live: Live, browser: Driver) -> None:
    account = new_account(live, totp=True)
    sign_in_password(browser, account, path="/login?next=/profile/authentication%3Ffrom%3Dtest")
    expect_second_factor_step(browser)
    browser.click("Use a recovery code instead")
    browser.expect_hidden("field", "Authenticator app code")
    browser.expect_focused("Recovery code")
    check_accessibility(browser, "login-recovery-code")

    browser.fill("Recovery code", "AAAAA-AAAAA")
    browser.click("Verify recovery code")
    browser.expect_status("4 attempts left")

    # Case and dashes are forgiven.
    browser.fill("Recovery code", account.recovery_codes[0].lower().replace("-", ""))
    browser.click("Verify recovery code")
    expect_profile(browser, "/profile/authentication?from=test")
    browser.expect_text("9 of 10", within=TWO_FACTOR)
    browser.expect_text("Recovery code used", within="Security log")

    # The used code is spent.
    sign_out(browser)
    sign_in_password(browser, account)
    browser.click("Use a recovery code instead")
    browser.fill("Recovery code", account.recovery_codes[0])
    browser.click("Verify recovery code")
    browser.expect_status("attempts left")
    browser.click("Use your authenticator app instead")
    browser.fill("Authenticator app code", code_now(account.totp_secret, live.clock))
    browser.click("Verify code")
    expect_profile(browser)


def test_low_recovery_codes_warning_and_regenerate_after_reauthentication(
    live: Live, browser: Driver, screenshot: Shot
) -> None:
    account = new_account(live, totp=True)
    with live.api() as api:
        for code in account.recovery_codes[:7]:  # 3 left
            pending = start_login(api, account)  # type: ignore[arg-type]
            r = api.post(
                "/api/v1/auth/mfa/recovery-code",
                json={"mfa_token": pending["mfa_token"], "code": code},
            )
            assert r.status_code == 200, r.text
    sign_in_password(browser, account)
    browser.fill("Authenticator app code", code_now(account.totp_secret, live.clock))
    browser.click("Verify code")
    expect_profile(browser)
    browser.expect_text("Only 3 recovery codes left")
    check_accessibility(browser, "profile-few-recovery-codes")

    live.clock.advance(11 * 60)  # the sign-in no longer counts as a recent check
    browser.click("Regenerate recovery codes")
    browser.click("Regenerate codes", within="Regenerate your recovery codes?")
    dialog = "Confirm your password"
    browser.expect_visible("dialog", dialog)
    browser.fill("Password", "not my password", within=dialog)
    browser.click("Confirm password", within=dialog)
    # Only a password was typed: the words say so.
    browser.expect_text("Wrong password", within=dialog)
    assert "email" not in browser.text(dialog).lower()
    check_accessibility(browser, "profile-reauthenticate-wrong-password")
    screenshot(browser, "profile-reauthenticate-wrong-password", window_only=True)
    browser.fill("Password", account.password, within=dialog)
    browser.click("Confirm password", within=dialog)
    browser.expect_hidden("dialog", dialog)

    browser.expect_items("Recovery codes", 10)
    browser.expect_no_text("Only 3 recovery codes left")
    browser.expect_text("10 of 10", within=TWO_FACTOR)


def test_turning_two_factor_off_asks_for_the_password_again(live: Live, browser: Driver) -> None:
    account = new_account(live, totp=True)
    sign_in_password(browser, account)
    browser.fill("Authenticator app code", code_now(account.totp_secret, live.clock))
    browser.click("Verify code")
    expect_profile(browser)

    browser.click("Remove authenticator app")
    browser.expect_status("last second factor")  # codes alone are no second factor
    browser.expect_hidden("dialog", "Remove your authenticator app?")  # nothing to ask

    live.clock.advance(11 * 60)  # the sign-in no longer counts as a recent check
    browser.click("Turn off two-factor authentication")
    browser.click("Turn it off", within="Turn off two-factor authentication?")
    dialog = "Confirm your password"
    browser.fill("Password", account.password, within=dialog)
    browser.click("Confirm password", within=dialog)
    browser.expect_hidden("dialog", dialog)
    browser.expect_status("Two-factor authentication is off")
    browser.expect_text("Two-factor authentication is off", within=TWO_FACTOR)
    browser.expect_visible("button", "Set up authenticator app")
