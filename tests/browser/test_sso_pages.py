"""Single sign-on through the pages in headless Chromium, against the real OpenID provider:
the "Sign in with" button, the provider's form, Ankra's second factor, the profile's card."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ankra_auth.app import create_app
from ankra_auth.clock import FrozenClock
from ankra_auth.config import Settings
from ankra_auth.security import totp
from ankra_auth.sso.config import SsoProvider
from tests.browser.axe import check_accessibility
from tests.browser.conftest import SECRET
from tests.browser.drivers import Driver
from tests.browser.flows import (
    Live,
    expect_profile,
    expect_second_factor_step,
    new_account,
    status,
)
from tests.live_server import threaded_server
from tests.openid_provider import OpenIdProvider, ProviderUser, openid_provider  # noqa: F401
from tests.postgres_server import free_port
from tests.sso_browser import SsoBrowser

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], Path]
PASSWORD = "correct horse battery"


@pytest.fixture
def clock() -> FrozenClock:
    # The provider signs with the wall clock: start ours there.
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def live(
    tmp_path: Path,
    template_db: Path,
    clock: FrozenClock,
    openid_provider: OpenIdProvider,  # noqa: F811
) -> Iterator[Live]:
    db_file = tmp_path / "ankra.db"
    shutil.copy(template_db, db_file)
    port = free_port()
    base = f"http://localhost:{port}"
    client_id, secret = openid_provider.add_client([f"{base}/auth/sso/corp/callback"])
    provider = SsoProvider(
        id="corp",
        name="Acme SSO",
        issuer=openid_provider.issuer,
        client_id=client_id,
        client_secret=secret,
    )
    settings = Settings(
        database_url=f"sqlite:///{db_file}",
        secret_key=SECRET,
        public_url=base,
        password_hash_concurrency=4,
        sso_providers=[provider],
    )
    app = create_app(settings, clock)
    try:
        with threaded_server(app, port) as url:
            yield Live(url, clock, app)
    finally:
        app.state.engine.dispose()


def _code(live: Live, secret: str) -> str:
    return totp.code_at_step(secret=secret, step=totp.time_step(live.clock.now()))


def _provider_login(page: Page, person: ProviderUser) -> None:
    expect(page.get_by_role("heading", name="Test provider")).to_be_visible()
    page.get_by_label("Username").fill(person.sub)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in to the provider").click()


def test_sso_sign_in_then_the_second_factor_on_the_page(
    live: Live,
    page: Page,
    openid_provider: OpenIdProvider,  # noqa: F811
    screenshot: Shot,
) -> None:
    person = openid_provider.add_user(email="sso.page@example.com", name="Sam Page")
    # The account exists already (a first SSO sign-in) and has an authenticator app.
    api = SsoBrowser(live.url)
    assert api.sign_in(openid_provider, person).status_code == 303
    secret = api.api("POST", "/api/v1/profile/auth/totp").json()["secret"]
    r = api.api("POST", "/api/v1/profile/auth/totp/confirm", json={"code": _code(live, secret)})
    assert r.status_code == 200
    live.clock.advance(30)

    page.goto("/login")
    button = page.get_by_role("link", name="Sign in with Acme SSO")
    expect(button).to_be_visible()
    screenshot(page, "login-sso")
    check_accessibility(page, "login-sso")
    button.click()
    _provider_login(page, person)

    expect_second_factor_step(page)
    expect(status(page)).to_contain_text("Acme SSO signed you in")
    page.get_by_label("Authenticator app code").fill("000000")
    page.get_by_role("button", name="Verify code").click()
    expect(status(page)).to_contain_text("4 attempts left")
    check_accessibility(page, "sso-second-factor")
    page.get_by_label("Authenticator app code").fill(_code(live, secret))
    page.get_by_role("button", name="Verify code").click()
    expect_profile(page, live)

    card = page.get_by_role("region", name="Single sign-on")
    expect(card).to_contain_text("Acme SSO")
    expect(card).to_contain_text("sso.page@example.com")
    expect(card.get_by_role("button", name="Unlink Acme SSO")).to_be_visible()
    card.scroll_into_view_if_needed()
    screenshot(page, "profile-sso-card")
    check_accessibility(page, "profile-sso-card")
    # The account has no password: its last link stays.
    card.get_by_role("button", name="Unlink Acme SSO").click()
    expect(status(page)).to_contain_text("no password")


def test_email_collision_links_after_signing_in_to_the_local_account(
    live: Live,
    page: Page,
    openid_provider: OpenIdProvider,  # noqa: F811
    screenshot: Shot,
) -> None:
    email = "collide.page@example.com"
    # A verified local account (an unverified one would be closed for the identity's own)
    new_account(live, email, verified=True)
    person = openid_provider.add_user(email=email)

    page.goto("/login")
    page.get_by_role("link", name="Sign in with Acme SSO").click()
    _provider_login(page, person)
    message = f"An Ankra account already uses {email}. Sign in to it to link Acme SSO."
    expect(page.get_by_text(message)).to_be_visible()
    screenshot(page, "sso-link-awaits-sign-in")
    check_accessibility(page, "sso-message")

    page.get_by_role("link", name="Sign in to link Acme SSO").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect_profile(page, live)
    card = page.get_by_role("region", name="Single sign-on")
    expect(card.get_by_role("button", name="Unlink Acme SSO")).to_be_visible()

    # Link is offered for providers not linked; unlinking (recently signed in) works.
    card.get_by_role("button", name="Unlink Acme SSO").click()
    expect(status(page)).to_contain_text("no longer linked")
    # Linking again starts from the card's button, and asks on our page before it links.
    card.get_by_role("button", name="Link Acme SSO").click()
    question = f"Link Acme SSO account {email} to your Ankra account {email}?"
    expect(page.get_by_role("heading", name=question)).to_be_visible()
    screenshot(page, "sso-link-confirm")
    check_accessibility(page, "sso-link-confirm")
    page.get_by_role("button", name="Link Acme SSO").click()
    expect_profile(page, live)
    expect(card.get_by_role("button", name="Unlink Acme SSO")).to_be_visible()


def test_the_sign_in_page_offers_each_provider_in_every_engine(
    live: Live,
    browser: Driver,
    openid_provider: OpenIdProvider,  # noqa: F811
) -> None:
    """Chromium, Firefox and WebKit: "Sign in with NAME" is a link that starts the flow."""
    browser.goto("/login")
    browser.expect_visible("link", "Sign in with Acme SSO")
    check_accessibility(browser, "login-sso")
    browser.click("Sign in with Acme SSO", role="link")
    # The start route sent the browser to the provider with our client's request.
    browser.wait_for(lambda: browser.url.startswith(openid_provider.issuer), "the provider")
    assert "code_challenge_method=S256" in browser.url or "/interaction/" in browser.url
