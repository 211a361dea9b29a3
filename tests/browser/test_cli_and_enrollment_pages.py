"""The CLI hand-off page and "Secure your account to continue", in Chromium, Firefox and WebKit
(the passkey hand-off in the engines with WebAuthn)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ankra_auth.security.pkce import s256_challenge
from tests.browser.axe import check_accessibility
from tests.browser.drivers import PASSKEY_ENGINES, Driver
from tests.browser.flows import PROFILE, Account, Live, new_account
from tests.browser.steps import (
    add_passkey,
    expect_profile,
    expect_second_factor_step,
    ignore_passkey_autofill,
    loopback_listener,
    set_up_authenticator_app,
    sign_in_password,
    sign_out,
)
from tests.helpers import code_now, start_login
from tests.test_orgs import accept, invite

pytestmark = pytest.mark.browser

Shot = Callable[[Driver, str], Path]


def cli_authorize(
    live: Live, account: Account, *, redirect_uri: str | None = None
) -> tuple[dict[str, Any], str]:
    """What `ankra login` does after the password: returns the answer and the PKCE verifier."""
    verifier = secrets.token_urlsafe(48)
    body: dict[str, Any] = {
        "code_challenge": s256_challenge(verifier),
        "code_challenge_method": "S256",
    }
    if redirect_uri:
        body |= {"redirect_uri": redirect_uri, "state": "state-1234"}
    with live.api() as api:
        body["mfa_token"] = start_login(api, account)["mfa_token"]  # type: ignore[arg-type]
        r = api.post("/api/v1/auth/cli/authorize", json=body)
    assert r.status_code == 201, r.text
    answer: dict[str, Any] = r.json()
    return answer, verifier


def test_cli_loopback_hand_off_with_authenticator_code(
    live: Live, browser: Driver, screenshot: Shot
) -> None:
    account = new_account(live, totp=True)
    with loopback_listener() as listener:  # stands in for the CLI's
        answer, verifier = cli_authorize(live, account, redirect_uri=listener.url)
        browser.goto(answer["browser_url"])
        expect_second_factor_step(browser)
        # The page names the account being signed in.
        browser.expect_text(f"Signing in to the Ankra CLI as {account.email}")
        screenshot(browser, "cli-login")
        check_accessibility(browser, "cli-login")
        browser.fill("Authenticator app code", "000000")
        browser.click("Verify code")
        browser.expect_status("attempts left")
        browser.fill("Authenticator app code", code_now(account.totp_secret, live.clock))
        browser.click("Verify code")

        browser.wait_for(lambda: browser.url.startswith(f"{listener.url}?"), "the loopback")
        browser.expect_text("Signed in")
    query = parse_qs(urlsplit(browser.url).query)
    assert query["state"] == ["state-1234"]
    with live.api() as api:
        r = api.post(
            "/api/v1/auth/cli/token", json={"code": query["code"][0], "code_verifier": verifier}
        )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "authenticated"


WARNING = (
    "Only continue if you started this sign-in yourself in a terminal. "
    "Never enter a code that someone sent you."
)


def type_user_code(browser: Driver, code: str) -> None:
    browser.fill("Code from your terminal", code)
    browser.click("Continue", exact=True)


def expect_what_is_approved(browser: Driver, account: Account) -> None:
    """The email, the terminal's address and the warning, before any factor is asked."""
    region = "Is this your sign-in?"
    browser.expect_text(account.email, within=region)
    browser.expect_text("127.0.0.1", within=region)
    browser.expect_text("Requested", within=region)
    browser.expect_text(WARNING, within=region)
    browser.expect_hidden("heading", "Confirm it's you")


def test_cli_device_hand_off_type_the_code_then_totp(
    live: Live, browser: Driver, screenshot: Shot
) -> None:
    account = new_account(live, totp=True)
    answer, verifier = cli_authorize(live, account)
    assert answer["browser_url"] == f"{live.url}/cli/device"
    browser.goto(answer["browser_url"])
    # Nothing about the sign-in shows before the code is typed.
    browser.expect_visible("field", "Code from your terminal")
    browser.expect_no_text(account.email)
    screenshot(browser, "cli-device-code")
    check_accessibility(browser, "cli-device-code")

    type_user_code(browser, "0000-0000" if answer["user_code"] != "0000-0000" else "1111-1111")
    browser.expect_status("That code is not valid")
    browser.expect_no_text(WARNING)
    check_accessibility(browser, "cli-device-wrong-code")

    # Typed as a person might: lower case, a space for the dash.
    type_user_code(browser, answer["user_code"].lower().replace("-", " "))
    expect_what_is_approved(browser, account)
    screenshot(browser, "cli-device-check")
    check_accessibility(browser, "cli-device-check")
    browser.click("Continue", exact=True)
    expect_second_factor_step(browser)
    browser.fill("Authenticator app code", code_now(account.totp_secret, live.clock))
    browser.click("Verify code")
    browser.expect_text("You can close this window and return to your terminal")
    browser.expect_no_text(WARNING)
    assert "approval" not in browser.url and browser.url == f"{live.url}/cli/device"
    screenshot(browser, "cli-device-done")
    check_accessibility(browser, "cli-device-done")

    live.clock.advance(5)
    with live.api() as api:
        r = api.post(
            "/api/v1/auth/cli/token",
            json={"device_code": answer["device_code"], "code_verifier": verifier},
        )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("browser_engine", PASSKEY_ENGINES, indirect=True, scope="session")
def test_cli_device_hand_off_with_passkey(live: Live, browser: Driver, screenshot: Shot) -> None:
    account = new_account(live)
    browser.add_virtual_authenticator("internal")
    ignore_passkey_autofill(browser)  # signed out: no passkey sign-in at /login meanwhile
    sign_in_password(browser, account)
    expect_profile(browser)
    add_passkey(browser, "Laptop")
    sign_out(browser)

    answer, verifier = cli_authorize(live, account)
    browser.goto(answer["browser_url"])
    type_user_code(browser, answer["user_code"])
    expect_what_is_approved(browser, account)
    browser.click("Continue", exact=True)
    browser.click("Use a passkey")
    browser.expect_text("You can close this window and return to your terminal")
    screenshot(browser, "cli-device-passkey-done")

    live.clock.advance(5)
    with live.api() as api:
        r = api.post(
            "/api/v1/auth/cli/token",
            json={"device_code": answer["device_code"], "code_verifier": verifier},
        )
    assert r.status_code == 200, r.text


def test_cli_page_with_an_unknown_link_says_so(live: Live, browser: Driver) -> None:
    browser.goto("/cli/login/not-a-real-token")
    browser.expect_status("ankra login")
    browser.expect_hidden("heading", "Confirm it's you")


def test_organisation_requirement_shows_secure_your_account_until_enrolled(
    live: Live, browser: Driver, screenshot: Shot
) -> None:
    owner = new_account(live, "owner@example.com", totp=True)
    member = new_account(live, "bob@example.com", verified=True)
    with live.api() as api:
        r = api.post("/api/v1/orgs", json={"name": "Acme Corp"}, headers=owner.auth)
        assert r.status_code == 201, r.text
        org = r.json()["id"]
        invite(api, owner, org, member)  # type: ignore[arg-type]  # httpx.Client, same calls
        accept(api, member, org)  # type: ignore[arg-type]
        r = api.patch(f"/api/v1/orgs/{org}", json={"require_two_factor": True}, headers=owner.auth)
        assert r.status_code == 200, r.text

    sign_in_password(browser, member)
    browser.expect_url("/secure-account?next=/profile/authentication")
    browser.expect_visible("heading", "Secure your account to continue")
    browser.expect_text("Acme Corp")
    if browser.engine == "webkit":  # no WebAuthn: the authenticator app is the way offered
        browser.expect_text("This browser can’t create passkeys")
        browser.expect_hidden("button", "Add passkey")
    else:
        browser.expect_visible("button", "Add passkey")
    screenshot(browser, "secure-account")
    check_accessibility(browser, "secure-account")

    browser.goto(PROFILE)  # every other page sends them back here
    browser.expect_url("/secure-account?next=/profile/authentication")

    set_up_authenticator_app(browser, live)
    check_accessibility(browser, "secure-account-recovery-codes")
    browser.click("I have saved my codes, continue")
    expect_profile(browser)
    browser.expect_text("Required by Acme Corp")
    browser.expect_hidden("button", "Turn off two-factor authentication")
