"""The CLI hand-off page and "Secure your account to continue", in headless Chromium."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from ankra_auth.security.pkce import s256_challenge
from tests.browser.flows import (
    PROFILE,
    Account,
    Authenticator,
    Live,
    add_passkey,
    expect_profile,
    expect_second_factor_step,
    new_account,
    set_up_authenticator_app,
    sign_in_password,
    sign_out,
    status,
)
from tests.helpers import code_now, start_login
from tests.postgres_server import free_port
from tests.test_orgs import accept, invite

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]


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
    live: Live, page: Page, screenshot: Shot
) -> None:
    account = new_account(live, totp=True)
    callback = f"http://127.0.0.1:{free_port()}/callback"
    answer, verifier = cli_authorize(live, account, redirect_uri=callback)
    # Stand in for the CLI's loopback listener.
    page.route(
        f"{callback}*",
        lambda route: route.fulfill(body="<p>Signed in</p>", content_type="text/html"),
    )

    page.goto(answer["browser_url"])
    expect_second_factor_step(page)
    # The page names the account being signed in.
    expect(page.get_by_text(f"Signing in to the Ankra CLI as {account.email}")).to_be_visible()
    screenshot(page, "cli-login")
    page.get_by_label("Authenticator app code").fill("000000")
    page.get_by_role("button", name="Verify code").click()
    expect(status(page)).to_contain_text("attempts left")
    page.get_by_label("Authenticator app code").fill(code_now(account.totp_secret, live.clock))
    page.get_by_role("button", name="Verify code").click()

    page.wait_for_url(f"{callback}?*")
    query = parse_qs(urlsplit(page.url).query)
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


def type_user_code(page: Page, code: str) -> None:
    page.get_by_label("Code from your terminal").fill(code)
    page.get_by_role("button", name="Continue").click()


def expect_what_is_approved(page: Page, account: Account) -> None:
    """The email, the terminal's address and the warning, before any factor is asked."""
    check = page.get_by_role("region", name="Is this your sign-in?")
    expect(check).to_be_visible()
    expect(check.get_by_text(account.email)).to_be_visible()
    expect(check.get_by_text("127.0.0.1")).to_be_visible()
    expect(check.get_by_text("Requested")).to_be_visible()
    expect(check.get_by_text(WARNING)).to_be_visible()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_hidden()


def test_cli_device_hand_off_type_the_code_then_totp(
    live: Live, page: Page, screenshot: Shot
) -> None:
    account = new_account(live, totp=True)
    answer, verifier = cli_authorize(live, account)
    assert answer["browser_url"] == f"{live.url}/cli/device"
    page.goto(answer["browser_url"])
    # Nothing about the sign-in shows before the code is typed.
    expect(page.get_by_label("Code from your terminal")).to_be_visible()
    expect(page.get_by_text(account.email)).to_have_count(0)
    screenshot(page, "cli-device-code")

    type_user_code(page, "0000-0000" if answer["user_code"] != "0000-0000" else "1111-1111")
    expect(status(page)).to_contain_text("That code is not valid")
    expect(page.get_by_text(WARNING)).to_be_hidden()

    # Typed as a person might: lower case, a space for the dash.
    type_user_code(page, answer["user_code"].lower().replace("-", " "))
    expect_what_is_approved(page, account)
    screenshot(page, "cli-device-check")
    page.get_by_role("button", name="Continue").click()
    expect_second_factor_step(page)
    page.get_by_label("Authenticator app code").fill(code_now(account.totp_secret, live.clock))
    page.get_by_role("button", name="Verify code").click()
    expect(
        page.get_by_text("You can close this window and return to your terminal")
    ).to_be_visible()
    expect(page.get_by_text(WARNING)).to_be_hidden()
    assert "approval" not in page.url and page.url == f"{live.url}/cli/device"
    screenshot(page, "cli-device-done")

    live.clock.advance(5)
    with live.api() as api:
        r = api.post(
            "/api/v1/auth/cli/token",
            json={"device_code": answer["device_code"], "code_verifier": verifier},
        )
    assert r.status_code == 200, r.text


def test_cli_device_hand_off_with_passkey(
    live: Live,
    page: Page,
    add_authenticator: Callable[[str], Authenticator],
) -> None:
    account = new_account(live)
    add_authenticator("internal")
    sign_in_password(page, account)
    add_passkey(page, "Laptop")
    sign_out(page, live)

    answer, verifier = cli_authorize(live, account)
    page.goto(answer["browser_url"])
    type_user_code(page, answer["user_code"])
    expect_what_is_approved(page, account)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Use a passkey").click()
    expect(
        page.get_by_text("You can close this window and return to your terminal")
    ).to_be_visible()

    live.clock.advance(5)
    with live.api() as api:
        r = api.post(
            "/api/v1/auth/cli/token",
            json={"device_code": answer["device_code"], "code_verifier": verifier},
        )
    assert r.status_code == 200, r.text


def test_cli_page_with_an_unknown_link_says_so(live: Live, page: Page) -> None:
    page.goto("/cli/login/not-a-real-token")
    expect(status(page)).to_contain_text("ankra login")
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_hidden()


def test_organisation_requirement_shows_secure_your_account_until_enrolled(
    live: Live, page: Page, screenshot: Shot
) -> None:
    owner = new_account(live, "owner@example.com", totp=True)
    member = new_account(live, "bob@example.com")
    with live.api() as api:
        r = api.post("/api/v1/orgs", json={"name": "Acme Corp"}, headers=owner.auth)
        assert r.status_code == 201, r.text
        org = r.json()["id"]
        invite(api, owner, org, member)  # type: ignore[arg-type]  # httpx.Client, same calls
        accept(api, member, org)  # type: ignore[arg-type]
        r = api.patch(f"/api/v1/orgs/{org}", json={"require_two_factor": True}, headers=owner.auth)
        assert r.status_code == 200, r.text

    sign_in_password(page, member)
    expect(page).to_have_url(f"{live.url}/secure-account?next=/profile/authentication")
    expect(page.get_by_role("heading", name="Secure your account to continue")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="Acme Corp")).to_be_visible()
    screenshot(page, "secure-account")

    page.goto(PROFILE)  # every other page sends them back here
    expect(page).to_have_url(f"{live.url}/secure-account?next=/profile/authentication")

    set_up_authenticator_app(page, live)
    page.get_by_role("button", name="I have saved my codes, continue").click()
    expect_profile(page, live)
    expect(page.get_by_text("Required by Acme Corp")).to_be_visible()
    expect(page.get_by_role("button", name="Turn off two-factor authentication")).to_be_hidden()
