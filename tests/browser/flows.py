"""Steps the browser tests share: accounts through the API, sign-in and set-up through pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from playwright.sync_api import CDPSession, Locator, Page, expect

from ankra_auth.clock import FrozenClock
from tests.helpers import Account, code_now, enroll_totp, sign_up, verify_email
from tests.soft_authenticator import SoftAuthenticator

PROFILE = "/profile/authentication"
CODE_SHAPE = re.compile(r"[0-9A-Z]{5}-[0-9A-Z]{5}")


@dataclass
class Live:
    """The in-process service: its URL, the clock it runs on, the app itself."""

    url: str
    clock: FrozenClock
    app: FastAPI

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)


@dataclass
class Authenticator:
    """A virtual WebAuthn authenticator attached to one page."""

    cdp: CDPSession
    id: str

    def credentials(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.cdp.send(
            "WebAuthn.getCredentials", {"authenticatorId": self.id}
        )["credentials"]
        return result

    def send(self, method: str, **params: Any) -> None:
        self.cdp.send(f"WebAuthn.{method}", {"authenticatorId": self.id, **params})


def new_account(
    live: Live, email: str = "alice@example.com", *, totp: bool = False, verified: bool = False
) -> Account:
    """An account through the API; ``verified``: its address proved with its mail's link."""
    with live.api() as api:
        account = sign_up(api, email)  # type: ignore[arg-type]  # httpx.Client, same calls
        if verified:
            with live.app.state.session_factory() as db:
                verify_email(api, account, db=db, secret=live.app.state.settings.secret)
        if totp:
            enroll_totp(api, account, live.clock)  # type: ignore[arg-type]
    return account


def register_passkey_through_the_api(
    live: Live, account: Account, name: str = "Phone"
) -> dict[str, Any]:
    """A passkey made by a software authenticator, registered through the API; its record."""
    with live.api() as api:
        options = api.post("/api/v1/profile/auth/passkeys/options", headers=account.auth).json()
        credential = SoftAuthenticator().create(options, origin=live.url)
        r = api.post(
            "/api/v1/profile/auth/passkeys",
            json={"name": name, "credential": credential},
            headers=account.auth,
        )
        assert r.status_code == 201, r.text
    passkey: dict[str, Any] = r.json()["passkey"]
    return passkey


def status(page: Page) -> Locator:
    return page.get_by_role("status")


def two_factor_card(page: Page) -> Locator:
    return page.get_by_role("region", name="Two-factor authentication", exact=True)


def sign_in_password(page: Page, account: Account, path: str = "/login") -> None:
    page.goto(path)
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def expect_profile(page: Page, live: Live) -> None:
    expect(page).to_have_url(f"{live.url}{PROFILE}")
    expect(page.get_by_role("heading", name="Authentication", exact=True)).to_be_visible()


def expect_second_factor_step(page: Page) -> None:
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()


def set_up_authenticator_app(
    page: Page, live: Live, *, first_factor: bool = True
) -> tuple[str, list[str]]:
    """From the profile (or enrollment) page: returns the secret and the recovery codes shown
    (only the enrollment that turns 2FA on issues codes)."""
    page.get_by_role("button", name="Set up authenticator app").click()
    secret_field = page.get_by_label("enter this secret key")
    expect(secret_field).not_to_have_value("")
    secret = secret_field.input_value().replace(" ", "")
    page.get_by_label("Code from your authenticator app").fill(code_now(secret, live.clock))
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(status(page)).to_contain_text("Authenticator app set up")
    live.clock.advance(30)  # the confirming step is spent
    if not first_factor:
        expect(page.get_by_role("list", name="Recovery codes")).to_be_hidden()
        return secret, []
    items = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(items).to_have_count(10)
    codes = items.all_inner_texts()
    assert all(CODE_SHAPE.fullmatch(code) for code in codes), codes
    return secret, codes


def add_passkey(page: Page, name: str) -> None:
    page.get_by_label("Passkey name").fill(name)
    page.get_by_role("button", name="Add passkey").click()
    expect(status(page)).to_contain_text(f"Passkey “{name}” added")
    expect(page.get_by_role("button", name=f"Rename {name}")).to_be_visible()


def sign_out(page: Page, live: Live) -> None:
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(f"{live.url}/login")


def wait_until(page: Page, done: Callable[[], bool], failure: str) -> None:
    """Wait for ``done()`` in the page: Playwright's route handlers run while it waits,
    which they would not during a ``time.sleep``."""
    for _ in range(100):
        if done():
            return
        page.wait_for_timeout(20)
    raise AssertionError(failure)
