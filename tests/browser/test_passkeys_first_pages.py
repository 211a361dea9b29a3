"""Passkeys first in the pages: `/login` offers passkeys in the email field's autofill and
with "Sign in with a passkey" (one abort controller for both) and reports an unknown passkey
to the password manager (`signalUnknownCredential`); the profile names each passkey's
provider and kind and keeps the password manager in step (`signalAllAcceptedCredentials`);
after a sign-in with a code, "Sign in faster next time: add a passkey" is offered once.

Chromium (CDP virtual authenticators) and Firefox (Marionette's WebAuthn soft token); WebKitGTK
has no WebAuthn and keeps the password form only. Chromium's virtual authenticator answers an
autofill request at once when it holds a passkey for the site (the person picking it), and
honours the Signal API (it drops what the page says is gone); Firefox's soft token never
answers an autofill request (the person ignoring it) and Firefox has no Signal API. So the
autofill and the Signal API are shown in Chromium (the calls observed with an init script
that wraps the functions), the button and the pages' words in both.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from ankra_auth.security.pkce import s256_challenge
from tests.browser import steps
from tests.browser.axe import check_accessibility
from tests.browser.drivers import ENGINES, PASSKEY_ENGINES, Driver
from tests.browser.flows import Authenticator, Live, new_account, wait_until
from tests.helpers import Account, code_now, enroll_totp
from tests.soft_authenticator import SoftAuthenticator, SoftCredential, b64url, unb64url

pytestmark = pytest.mark.browser

Shot = Callable[[Any, str], Path]
AddAuthenticator = Callable[[str], Authenticator]
GOOGLE = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"  # "Google Password Manager" in the AAGUID list

# Wraps the Signal API's functions (where the browser has them) to record each call, then
# calls the real one: the test sees what the page told the password manager.
WATCH_SIGNALS = """
window.__ankraSignals = [];
if (window.PublicKeyCredential) {
  for (const name of ['signalUnknownCredential', 'signalAllAcceptedCredentials']) {
    const real = PublicKeyCredential[name];
    if (typeof real !== 'function') continue;
    PublicKeyCredential[name] = function (options) {
      window.__ankraSignals.push({ name, options: JSON.parse(JSON.stringify(options)) });
      return real.call(PublicKeyCredential, options);
    };
  }
}
"""


def chromium_page(browser: Driver) -> Page | None:
    return getattr(browser, "page", None) if browser.engine == "chromium" else None


def signals(browser: Driver | Page, name: str) -> list[dict[str, Any]]:
    script = "window.__ankraSignals || []"
    calls = (
        browser.evaluate(script) if isinstance(browser, Page) else browser.js(f"return {script}")
    )
    return [call["options"] for call in calls if call["name"] == name]


def user_id_of(live: Live, account: Account) -> str:
    with live.api() as api:
        return str(api.get("/api/v1/me", headers=account.auth).json()["id"])


def listed(live: Live, account: Account) -> list[dict[str, Any]]:
    with live.api() as api:
        passkeys: list[dict[str, Any]] = api.get(
            "/api/v1/profile/auth/passkeys", headers=account.auth
        ).json()
    return passkeys


def register(
    live: Live, account: Account, name: str, key: SoftAuthenticator
) -> tuple[dict[str, Any], SoftCredential]:
    """A passkey made by a software authenticator, registered through the API."""
    with live.api() as api:
        options = api.post("/api/v1/profile/auth/passkeys/options", headers=account.auth).json()
        created = key.create(options, origin=live.url)
        r = api.post(
            "/api/v1/profile/auth/passkeys",
            json={"name": name, "credential": created},
            headers=account.auth,
        )
        assert r.status_code == 201, r.text
    return r.json()["passkey"], key.credentials[unb64url(created["rawId"])]


def hold(authenticator: Authenticator, credential: SoftCredential) -> None:
    """Chromium: ``credential`` (made by a software authenticator) held as a discoverable
    passkey by the page's virtual authenticator, as a synced passkey arrives on a device."""
    authenticator.send("addCredential", credential=credential.for_chromium())


def held_ids(authenticator: Authenticator) -> list[str]:
    return [b64url(base64.b64decode(c["credentialId"])) for c in authenticator.credentials()]


def a_stranger() -> SoftCredential:
    """A passkey for this site that no account here has (removed, or made elsewhere)."""
    key = SoftAuthenticator()
    key.create(
        {
            "rp": {"id": "localhost", "name": "Ankra"},
            "user": {"id": b64url(b"someone-gone"), "name": "x", "displayName": "x"},
            "challenge": b64url(b"c" * 32),
        }
    )
    (credential,) = key.credentials.values()
    return credential


def add_first_passkey(browser: Driver, account: Account, name: str) -> None:
    """Signed in with the password: the account's first factor, a passkey made in this
    browser's authenticator; then signed out (at /login)."""
    steps.sign_in_password(browser, account)
    steps.expect_profile(browser)
    steps.add_passkey(browser, name)
    browser.set_checked("Sign out everywhere else", False)  # the API's session stays
    browser.click("I have saved my codes")
    browser.expect_text("Two-factor authentication is on", within="Two-factor authentication")
    steps.sign_out(browser)


# ---------------------------------------------------------------- /login


@pytest.mark.parametrize("browser_engine", ENGINES, indirect=True, scope="session")
def test_login_offers_passkeys_where_the_browser_can(
    live: Live, browser: Driver, screenshot: Shot
) -> None:
    account = new_account(live)
    browser.goto("/login")
    email = browser.find("field", "Email", exact=True)
    assert browser.js("return arguments[0].autocomplete", email) == "username webauthn"
    browser.expect_focused("Email")  # the autofill offer belongs to the field in focus
    if browser.engine == "webkit":
        # No WebAuthn: neither the autofill request nor the button; the password form works.
        assert browser.js("return typeof window.PublicKeyCredential") == "undefined"
        browser.expect_hidden("button", "Sign in with a passkey")
        check_accessibility(browser, "login-without-webauthn")
    else:
        browser.expect_visible("button", "Sign in with a passkey")
        screenshot(browser, "login-passkeys")
        check_accessibility(browser, "login-passkeys")
    steps.sign_in_password(browser, account)
    steps.expect_profile(browser)


@pytest.mark.parametrize("browser_engine", PASSKEY_ENGINES, indirect=True, scope="session")
def test_the_button_signs_in_without_a_password(live: Live, browser: Driver) -> None:
    account = new_account(live)
    browser.add_virtual_authenticator("internal")  # WebKit: unavailable
    steps.ignore_passkey_autofill(browser)  # Chromium: the person ignores the autofill offer
    add_first_passkey(browser, account, "Laptop")

    browser.click("Sign in with a passkey")  # nothing typed
    steps.expect_profile(browser)
    # A sign-in like any other: the session cookie, `next`, and the log says how.
    browser.expect_text("Passkey · passwordless", within="Security log")
    steps.sign_out(browser)
    browser.goto("/login?next=/secure-account")  # not restricted: on to the profile
    browser.click("Sign in with a passkey")
    steps.expect_profile(browser)


def test_the_button_cancels_the_autofill_request(
    live: Live, page: Page, add_authenticator: AddAuthenticator
) -> None:
    """One abort controller: the modal request cancels the autofill one first; cancelled,
    the autofill offer comes back."""
    account = new_account(live)
    _, credential = register(live, account, "Phone", SoftAuthenticator())
    steps.ignore_passkey_autofill(page)
    authenticator = add_authenticator("internal")  # holds nothing yet
    page.goto("/login")
    wait_until(page, lambda: page.evaluate("window.__ankraAutofill.length") == 1, "autofill")
    assert page.evaluate("window.__ankraAutofill[0].aborted") is False
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("status")).to_contain_text("No passkey was used")
    assert page.evaluate("window.__ankraAutofill[0].aborted") is True
    wait_until(page, lambda: page.evaluate("window.__ankraAutofill.length") == 2, "again")
    assert page.evaluate("window.__ankraAutofill[1].aborted") is False
    expect(page.get_by_label("Email")).to_be_focused()
    check_accessibility(page, "login-passkey-cancelled")

    hold(authenticator, credential)  # now this device has the passkey
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url(f"{live.url}/profile/authentication")


def test_choosing_a_passkey_in_the_autofill_signs_in_at_once(
    live: Live, page: Page, add_authenticator: AddAuthenticator
) -> None:
    """Chromium's virtual authenticator picks its passkey in the autofill as soon as the
    page asks: /login signs in by itself, to `next`, as after a password."""
    account = new_account(live)
    _, credential = register(live, account, "Phone", SoftAuthenticator())
    hold(add_authenticator("internal"), credential)
    page.goto("/login?next=/profile/authentication%3Ffrom%3Dautofill")
    expect(page).to_have_url(f"{live.url}/profile/authentication?from=autofill")
    expect(page.get_by_role("heading", name="Authentication", exact=True)).to_be_visible()
    with live.api() as api:
        events = api.get("/api/v1/profile/auth/events", headers=account.auth).json()["events"]
    assert (events[0]["type"], events[0]["method"], events[0]["detail"]) == (
        "sign_in",
        "passkey",
        {"passwordless": True},
    )


def test_an_unknown_passkey_in_the_autofill_is_reported_and_forgotten(
    live: Live, page: Page, add_authenticator: AddAuthenticator, screenshot: Shot
) -> None:
    new_account(live)
    page.add_init_script(WATCH_SIGNALS)
    authenticator = add_authenticator("internal")
    stranger = a_stranger()
    hold(authenticator, stranger)
    page.goto("/login")  # the authenticator offers it at once: no account has it
    expect(page.get_by_role("status")).to_contain_text("No account has this passkey")
    expect(page.get_by_label("Email")).to_be_focused()
    expect(page).to_have_url(f"{live.url}/login")
    assert signals(page, "signalUnknownCredential") == [
        {"rpId": "localhost", "credentialId": b64url(stranger.credential_id)}
    ]
    assert authenticator.credentials() == []  # the password manager forgot it
    screenshot(page, "login-unknown-passkey")
    check_accessibility(page, "login-unknown-passkey")


@pytest.mark.parametrize("browser_engine", PASSKEY_ENGINES, indirect=True, scope="session")
def test_the_button_reports_an_unknown_passkey(live: Live, browser: Driver) -> None:
    account = new_account(live)
    browser.add_virtual_authenticator("internal")  # WebKit: unavailable
    steps.ignore_passkey_autofill(browser)
    chromium = chromium_page(browser)
    if chromium is not None:
        chromium.add_init_script(WATCH_SIGNALS)
    add_first_passkey(browser, account, "Old phone")
    [gone] = listed(live, account)
    with live.api() as api:  # removed elsewhere (an app added first): unknown here now
        enroll_totp(api, account, live.clock)  # type: ignore[arg-type]  # httpx.Client
        r = api.delete(f"/api/v1/profile/auth/passkeys/{gone['id']}", headers=account.auth)
        assert r.status_code == 204, r.text

    browser.click("Sign in with a passkey")
    browser.expect_status("No account has this passkey")
    browser.expect_focused("Email")
    browser.expect_url("/login")
    check_accessibility(browser, "login-unknown-passkey-button")
    if chromium is None:
        assert browser.js("return typeof PublicKeyCredential.signalUnknownCredential") == (
            "undefined"
        )  # Firefox: no Signal API to tell
        return
    assert signals(browser, "signalUnknownCredential") == [
        {"rpId": "localhost", "credentialId": gone["credential_id"]}
    ]


# ---------------------------------------------------------------- /profile/authentication


@pytest.mark.parametrize("browser_engine", ENGINES, indirect=True, scope="session")
def test_the_profile_names_each_passkey_and_keeps_the_password_manager_in_step(
    live: Live, browser: Driver, screenshot: Shot
) -> None:
    account = new_account(live, totp=True)
    google, google_key = register(
        live,
        account,
        "Pixel",
        SoftAuthenticator(aaguid=bytes.fromhex(GOOGLE.replace("-", "")), backup_eligible=True),
    )
    old_key, old_credential = register(
        live, account, "Old key", SoftAuthenticator(user_verifies=False, resident=None)
    )
    chromium = chromium_page(browser)
    phone = roaming = None
    if chromium is not None:
        # This browser knows both (one discoverable passkey per account and authenticator):
        # the profile keeps them in step.
        phone = browser.add_virtual_authenticator("internal")
        roaming = browser.add_virtual_authenticator("usb")
        hold(phone, google_key)
        hold(roaming, old_credential)
        steps.ignore_passkey_autofill(browser)
        chromium.add_init_script(WATCH_SIGNALS)
    steps.sign_in_with_totp(browser, live, account)

    items = browser.expect_items("Your passkeys", 2)
    pixel = next(item for item in items if item.startswith("Pixel"))
    old = next(item for item in items if item.startswith("Old key"))
    assert "Google Password Manager" in pixel and "Synced · Signs you in by itself" in pixel
    assert "Google Password Manager" not in old  # an AAGUID the list does not know
    assert "This device only · Second step only" in old
    icons = browser.js(
        "return [...document.querySelectorAll('[data-field=passkeys] img')]"
        ".map((img) => img.complete && img.naturalWidth > 0 && img.getAttribute('src'))"
    )
    assert icons == [f"/passkey-icons/{GOOGLE}"]  # the list's icon, from our own origin
    screenshot(browser, "profile-passkeys-providers")
    check_accessibility(browser, "profile-passkeys-providers")
    if chromium is None:
        return  # Firefox has no Signal API; WebKitGTK no WebAuthn at all

    user_id = b64url(user_id_of(live, account).encode())
    both = {
        "rpId": "localhost",
        "userId": user_id,
        "allAcceptedCredentialIds": [p["credential_id"] for p in listed(live, account)],
    }
    assert set(both["allAcceptedCredentialIds"]) == {
        google["credential_id"],
        old_key["credential_id"],
    }
    browser.wait_for(
        lambda: signals(browser, "signalAllAcceptedCredentials") == [both], "the list's signal"
    )
    browser.click("Remove Old key")
    browser.click("Remove passkey", within="Remove the passkey “Old key”?")
    browser.expect_status("Passkey “Old key” removed")
    left = {**both, "allAcceptedCredentialIds": [google["credential_id"]]}
    browser.wait_for(
        lambda: signals(browser, "signalAllAcceptedCredentials")[-1] == left, "the signal"
    )
    assert phone is not None and roaming is not None
    assert held_ids(phone) == [google["credential_id"]]
    assert held_ids(roaming) == []  # gone from this browser too

    browser.click("Rename Pixel")
    browser.fill("New name for Pixel", "Phone")
    browser.press_enter("New name for Pixel")
    browser.expect_status("Passkey renamed to “Phone”")
    browser.wait_for(
        lambda: len(signals(browser, "signalAllAcceptedCredentials")) == 3, "the rename's signal"
    )
    assert signals(browser, "signalAllAcceptedCredentials")[-1] == left


def test_passkey_icons_come_from_our_origin(live: Live) -> None:
    with httpx.Client(base_url=live.url) as http:
        r = http.get(f"/passkey-icons/{GOOGLE}")
        assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
        assert "sandbox" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert http.get(f"/passkey-icons/{GOOGLE}?scheme=dark").status_code == 200
        for unknown in ("00000000-0000-0000-0000-000000000000", GOOGLE.upper(), "../static"):
            assert http.get(f"/passkey-icons/{unknown}").status_code in (404, 422)


# ---------------------------------------------------------------- the offer


def sign_in_with_code(browser: Driver, live: Live, account: Account) -> None:
    steps.sign_in_password(browser, account)
    browser.fill("Authenticator app code", code_now(account.totp_secret, live.clock))
    browser.click("Verify code")
    steps.expect_profile(browser)
    live.clock.advance(30)  # that step is spent


@pytest.mark.parametrize("browser_engine", ENGINES, indirect=True, scope="session")
def test_the_offer_to_add_a_passkey_appears_once_and_not_now_is_remembered(
    live: Live, browser: Driver, screenshot: Shot
) -> None:
    offer = "Sign in faster next time: add a passkey"
    account = new_account(live, totp=True)
    sign_in_with_code(browser, live, account)
    if browser.engine == "webkit":  # no WebAuthn: nothing to offer
        browser.expect_no_text(offer)
        return
    browser.expect_visible("heading", offer)
    browser.expect_visible("button", "Not now")
    screenshot(browser, "profile-passkey-offer")
    check_accessibility(browser, "profile-passkey-offer")

    browser.goto(steps.PROFILE)  # once: not again on the next page
    steps.expect_profile(browser)
    browser.expect_hidden("heading", offer)

    steps.sign_out(browser)
    sign_in_with_code(browser, live, account)  # offered again: "Not now" was not said
    browser.click("Not now")
    browser.expect_hidden("heading", offer)
    browser.expect_status("this device won’t ask again for 30 days")
    until = browser.js(
        "return Number(localStorage.getItem('ankra.passkeyNudge.notNowUntil')) - Date.now()"
    )
    assert 29.9 * 86400_000 < until <= 30 * 86400_000

    steps.sign_out(browser)
    sign_in_with_code(browser, live, account)
    browser.expect_hidden("heading", offer)  # remembered on this device

    # Thirty days on, it is offered again.
    browser.js("localStorage.setItem('ankra.passkeyNudge.notNowUntil', String(Date.now() - 1))")
    steps.sign_out(browser)
    sign_in_with_code(browser, live, account)
    browser.expect_visible("heading", offer)


@pytest.mark.parametrize("browser_engine", PASSKEY_ENGINES, indirect=True, scope="session")
def test_the_offer_adds_a_passkey_in_one_click(live: Live, browser: Driver) -> None:
    account = new_account(live, totp=True)
    authenticator = browser.add_virtual_authenticator("internal")  # WebKit: unavailable
    sign_in_with_code(browser, live, account)
    browser.click("Add passkey", within="Sign in faster next time: add a passkey")
    name = "Chrome on Linux" if browser.engine == "chromium" else "Firefox on Linux"
    browser.expect_status(f"Passkey “{name}” added")
    browser.expect_hidden("heading", "Sign in faster next time: add a passkey")
    [entry] = browser.expect_items("Your passkeys", 1)
    assert name in entry and "Signs you in by itself" in entry
    assert len(authenticator.credentials()) == 1
    # No recovery codes: two-factor authentication was on already.
    browser.expect_hidden("list", "Recovery codes")


# ---------------------------------------------------------------- the CLI hand-off pages


def authorize_passkey(live: Live, redirect_uri: str | None = None) -> tuple[dict[str, Any], str]:
    """What `ankra login --passkey` sends first: the answer and the PKCE verifier."""
    verifier = secrets.token_urlsafe(48)
    body: dict[str, Any] = {
        "passkey": True,
        "code_challenge": s256_challenge(verifier),
        "code_challenge_method": "S256",
    }
    if redirect_uri:
        body |= {"redirect_uri": redirect_uri, "state": "state-1234"}
    with live.api() as api:
        r = api.post("/api/v1/auth/cli/authorize", json=body)
    assert r.status_code == 201, r.text
    answer: dict[str, Any] = r.json()
    return answer, verifier


@pytest.mark.parametrize("browser_engine", ENGINES, indirect=True, scope="session")
def test_the_loopback_page_signs_the_terminal_in_with_a_passkey_alone(
    live: Live, browser: Driver
) -> None:
    account = new_account(live)
    if browser.engine != "webkit":
        browser.add_virtual_authenticator("internal")
        steps.ignore_passkey_autofill(browser)
        add_first_passkey(browser, account, "Laptop")
    with steps.loopback_listener() as listener:  # stands in for the CLI's
        answer, verifier = authorize_passkey(live, listener.url)
        browser.goto(answer["browser_url"])
        browser.expect_visible("heading", "Sign in without a password")
        if browser.engine == "webkit":  # no WebAuthn: said so, no dead button
            browser.expect_text("This browser can’t use passkeys")
            browser.expect_hidden("button", "Sign in with a passkey")
            check_accessibility(browser, "cli-login-passkey-unavailable")
            return
        browser.expect_focused("Sign in with a passkey")
        check_accessibility(browser, "cli-login-passkey")
        browser.click("Sign in with a passkey")
        browser.wait_for(lambda: browser.url.startswith(f"{listener.url}?"), "the loopback")
        browser.expect_text("Signed in")
    code = parse_qs(urlsplit(browser.url).query)["code"][0]
    with live.api() as api:
        r = api.post("/api/v1/auth/cli/token", json={"code": code, "code_verifier": verifier})
        assert r.status_code == 200, r.text
        me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.json()["email"] == account.email


@pytest.mark.parametrize("browser_engine", PASSKEY_ENGINES, indirect=True, scope="session")
def test_the_device_page_asks_before_a_passkey_sign_in_counts(
    live: Live, browser: Driver, screenshot: Shot
) -> None:
    account = new_account(live)
    browser.add_virtual_authenticator("internal")  # WebKit: unavailable
    steps.ignore_passkey_autofill(browser)
    add_first_passkey(browser, account, "Laptop")
    answer, verifier = authorize_passkey(live)
    browser.goto(answer["browser_url"])
    browser.fill("Code from your terminal", answer["user_code"])
    browser.click("Continue", exact=True)
    browser.expect_text("Only continue if you started this sign-in yourself in a terminal.")
    browser.expect_no_text(account.email)  # the passkey names the account, not the code
    screenshot(browser, "cli-device-passkey-check")
    browser.click("Sign in with a passkey")
    browser.expect_text(f"Approve sign-in to ankra CLI for {account.email}?")
    browser.expect_focused(f"Approve sign-in to ankra CLI for {account.email}?")
    check_accessibility(browser, "cli-device-passkey-approve")

    def poll() -> httpx.Response:
        live.clock.advance(5)
        with live.api() as api:
            return api.post(
                "/api/v1/auth/cli/token",
                json={"device_code": answer["device_code"], "code_verifier": verifier},
            )

    assert poll().json()["code"] == "authorization_pending"  # the passkey approved nothing
    browser.click("Approve", exact=True)
    browser.expect_text("You can close this window and return to your terminal")
    assert poll().status_code == 200
