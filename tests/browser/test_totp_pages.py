"""Authenticator app and recovery codes through the pages, in headless Chromium."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.flows import (
    CODE_SHAPE,
    Live,
    expect_profile,
    expect_second_factor_step,
    new_account,
    sign_in_password,
    sign_out,
    status,
    two_factor_card,
)
from tests.helpers import code_now, start_login

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]


def test_set_up_authenticator_app_then_save_recovery_codes(
    live: Live, context: BrowserContext, page: Page, screenshot: Shot
) -> None:
    account = new_account(live)
    # The browser's calendar follows the service's frozen clock (the file is dated).
    page.clock.set_fixed_time(live.clock.now())
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)

    page.goto("/login")
    screenshot(page, "login")
    sign_in_password(page, account)
    expect_profile(page, live)
    expect(two_factor_card(page)).to_contain_text("Two-factor authentication is off")

    page.get_by_role("button", name="Set up authenticator app").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = page.get_by_label("enter this secret key").input_value().replace(" ", "")
    assert len(secret) == 32
    screenshot(page, "profile-set-up-authenticator-app")
    page.get_by_label("Code from your authenticator app").fill(code_now(secret, live.clock))
    page.get_by_role("button", name="Confirm", exact=True).click()

    items = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(items).to_have_count(10)
    codes = items.all_inner_texts()
    assert all(CODE_SHAPE.fullmatch(code) for code in codes)
    expect(two_factor_card(page)).to_contain_text("Two-factor authentication is on")
    screenshot(page, "profile-recovery-codes")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download codes").click()
    download = download_info.value
    assert download.suggested_filename.endswith("2026-11-27.txt")
    text = Path(download.path()).read_text()
    assert f"Account: {account.email}" in text
    assert f"Site: {live.url}" in text
    assert "Date: 2026-11-27" in text
    assert all(code in text for code in codes)

    page.get_by_role("button", name="Copy codes").click()
    expect(status(page)).to_contain_text("Recovery codes copied")
    assert page.evaluate("navigator.clipboard.readText()").split() == codes

    page.get_by_role("button", name="I have saved my codes").click()
    expect(page.get_by_role("list", name="Recovery codes")).to_be_hidden()
    expect(page.get_by_role("button", name="Remove authenticator app")).to_be_visible()
    expect(page.get_by_role("cell", name="Authenticator app set up")).to_be_visible()
    screenshot(page, "profile-authentication")

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
    live: Live, page: Page, screenshot: Shot
) -> None:
    account = new_account(live, totp=True)
    right = code_now(account.totp_secret, live.clock)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    sign_in_password(page, account)
    expect_second_factor_step(page)
    expect(page.get_by_role("button", name="Use a passkey")).to_be_hidden()  # no passkeys
    screenshot(page, "login-second-factor")
    code_field = page.get_by_label("Authenticator app code")
    expect(code_field).to_be_focused()
    code_field.fill(wrong)
    code_field.press("Enter")
    expect(status(page)).to_contain_text("4 attempts left")
    screenshot(page, "login-wrong-code")

    for left in (3, 2, 1):
        code_field.fill(wrong)
        page.get_by_role("button", name="Verify code").click()
        expect(status(page)).to_contain_text(f"{left} attempt")
    code_field.fill(wrong)
    page.get_by_role("button", name="Verify code").click()
    # The pending login is spent: back to the password step, with the reason.
    expect(status(page)).to_contain_text("Too many failed attempts")
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_focused()

    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Authenticator app code").fill(right)
    page.get_by_role("button", name="Verify code").click()
    expect_profile(page, live)


def test_sign_in_with_a_recovery_code_instead(live: Live, page: Page) -> None:
    account = new_account(live, totp=True)
    sign_in_password(page, account, path="/login?next=/profile/authentication%3Ffrom%3Dtest")
    expect_second_factor_step(page)
    page.get_by_role("button", name="Use a recovery code instead").click()
    expect(page.get_by_label("Authenticator app code")).to_be_hidden()
    recovery = page.get_by_label("Recovery code")
    expect(recovery).to_be_focused()

    recovery.fill("AAAAA-AAAAA")
    page.get_by_role("button", name="Verify recovery code").click()
    expect(status(page)).to_contain_text("4 attempts left")

    # Case and dashes are forgiven.
    recovery.fill(account.recovery_codes[0].lower().replace("-", ""))
    page.get_by_role("button", name="Verify recovery code").click()
    expect(page).to_have_url(f"{live.url}/profile/authentication?from=test")
    expect(two_factor_card(page)).to_contain_text("9 of 10")
    expect(page.get_by_role("cell", name="Recovery code used")).to_be_visible()

    # The used code is spent.
    sign_out(page, live)
    sign_in_password(page, account)
    page.get_by_role("button", name="Use a recovery code instead").click()
    page.get_by_label("Recovery code").fill(account.recovery_codes[0])
    page.get_by_role("button", name="Verify recovery code").click()
    expect(status(page)).to_contain_text("attempts left")
    page.get_by_role("button", name="Use your authenticator app instead").click()
    page.get_by_label("Authenticator app code").fill(code_now(account.totp_secret, live.clock))
    page.get_by_role("button", name="Verify code").click()
    expect_profile(page, live)


def test_low_recovery_codes_warning_and_regenerate_after_reauthentication(
    live: Live, page: Page
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
    sign_in_password(page, account)
    page.get_by_label("Authenticator app code").fill(code_now(account.totp_secret, live.clock))
    page.get_by_role("button", name="Verify code").click()
    expect_profile(page, live)
    expect(page.get_by_text("Only 3 recovery codes left")).to_be_visible()

    live.clock.advance(11 * 60)  # the sign-in no longer counts as a recent check
    page.get_by_role("button", name="Regenerate recovery codes").click()
    dialog = page.get_by_role("dialog", name="Confirm your password")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Password").fill("not my password")
    dialog.get_by_role("button", name="Confirm password").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Wrong email or password")
    dialog.get_by_label("Password").fill(account.password)
    dialog.get_by_role("button", name="Confirm password").click()
    expect(dialog).to_be_hidden()

    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(
        10
    )
    expect(page.get_by_text("Only 3 recovery codes left")).to_be_hidden()
    expect(two_factor_card(page)).to_contain_text("10 of 10")
