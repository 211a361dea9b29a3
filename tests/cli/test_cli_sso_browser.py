"""``ankra login --sso`` end to end: the CLI as a subprocess, ``ankra-auth serve`` with the
real OpenID provider, and headless Chromium signing in there, then giving the account's
authenticator code on the hand-off page, then back to the CLI's loopback listener; and
``ankra login --sso --no-browser``: the code typed on /cli/device, then the same steps,
while the CLI polls."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from ankra_auth import migrate
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from tests import screenshots
from tests.cli.conftest import Ankra, make_ankra
from tests.cli.in_browser import opened_url, shown_on_terminal
from tests.cli.live_accounts import LiveAccount, enroll_totp
from tests.live_server import service_process
from tests.openid_provider import OpenIdProvider, ProviderUser, openid_provider  # noqa: F401
from tests.postgres_server import free_port
from tests.sso_browser import SsoBrowser

pytestmark = pytest.mark.browser


@pytest.fixture
def sso_server(
    tmp_path: Path,
    openid_provider: OpenIdProvider,  # noqa: F811
) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'ankra.db'}"
    migrate.upgrade(make_engine(Settings(database_url=url, secret_key="x")))
    port = free_port()
    base = f"http://localhost:{port}"
    client_id, secret = openid_provider.add_client([f"{base}/auth/sso/corp/callback"])
    env = {"ANKRA_SSO_PROVIDERS": openid_provider.providers_env(client_id, secret)}
    with service_process(url, log_path=tmp_path / "server.log", extra_env=env, port=port) as b:
        yield b


def _sso_account_with_totp(base: str, op: OpenIdProvider) -> tuple[ProviderUser, LiveAccount]:
    """An account made by a first SSO sign-in, then TOTP turned on with its session."""
    person = op.add_user(email=f"cli-sso-{free_port()}@example.com")
    browser = SsoBrowser(base)
    assert browser.sign_in(op, person).status_code == 303
    token = browser.session_cookie()
    assert token is not None and person.email is not None
    browser.close()
    return person, enroll_totp(LiveAccount(base=base, email=person.email, token=token))


def _sign_in_at_provider(page: Page, person: ProviderUser) -> None:
    page.get_by_label("Username").fill(person.sub)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in to the provider").click()


def _assert_signed_in(
    ankra: Ankra,
    process: subprocess.Popen[str],
    stdout: str,
    stderr: str,
    *,
    server: str,
    email: str,
) -> None:
    """The login process ended well, saved the account, and its session is a CLI one."""
    assert process.returncode == 0, stderr
    assert f"Signed in to {server} as {email}" in stdout
    saved = json.loads(ankra.credentials_file.read_text())
    assert saved["email"] == email
    sessions = json.loads(ankra.run("profile", "auth", "sessions", "list", "--json").stdout)
    assert any(s["current"] and s["method"] == "cli" for s in sessions)


def test_ankra_login_sso_with_totp_in_chromium(
    sso_server: str,
    openid_provider: OpenIdProvider,  # noqa: F811
    browser: Browser,
    tmp_path: Path,
) -> None:
    person, account = _sso_account_with_totp(sso_server, openid_provider)
    ankra = make_ankra(sso_server, tmp_path)
    # One provider on the server: its name is optional.
    process = ankra.popen("login", "--sso")
    context = browser.new_context()
    try:
        url = opened_url(ankra, process)
        assert url.startswith(f"{sso_server}/auth/sso/corp/start?cli=")
        page = context.new_page()
        page.goto(url)
        _sign_in_at_provider(page, person)
        expect(page.get_by_text(f"Signing in to the Ankra CLI as {person.email}")).to_be_visible()
        page.get_by_label("Authenticator app code").fill("000000")
        page.get_by_role("button", name="Verify code").click()
        expect(page.get_by_role("status")).to_contain_text("4 attempts left")
        page.get_by_label("Authenticator app code").fill(account.next_code())
        page.get_by_role("button", name="Verify code").click()
        page.wait_for_url("http://127.0.0.1:*/callback?*", timeout=15000)
        assert "You can close this window" in page.content()
        # The start link was spent when the browser opened it.
        again = context.new_page()
        again.goto(url)
        expect(again.get_by_text("This sign-in link cannot be used")).to_be_visible()
        stdout, stderr = process.communicate(timeout=60)
    finally:
        context.close()
        if process.poll() is None:
            process.kill()
    _assert_signed_in(ankra, process, stdout, stderr, server=sso_server, email=person.email)
    status = ankra.run("profile", "auth", "status", "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["two_factor_enabled"] is True


def test_ankra_login_sso_refused_at_sign_in_exits_non_zero(
    sso_server: str,
    openid_provider: OpenIdProvider,  # noqa: F811
    browser: Browser,
    tmp_path: Path,
) -> None:
    person = openid_provider.add_user(email="cli-unverified@example.com", email_verified=False)
    ankra = make_ankra(sso_server, tmp_path)
    process = ankra.popen("login", "--sso", "corp")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(opened_url(ankra, process))
        _sign_in_at_provider(page, person)
        page.wait_for_url("http://127.0.0.1:*/callback?*", timeout=15000)
        expect(page.get_by_text("did not confirm your email address")).to_be_visible()
        stdout, stderr = process.communicate(timeout=60)
    finally:
        context.close()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1
    assert "did not confirm your email address" in stderr
    assert not ankra.credentials_file.exists()


def test_ankra_login_sso_names_the_providers_when_the_one_asked_is_unknown(
    sso_server: str, tmp_path: Path
) -> None:
    ankra = make_ankra(sso_server, tmp_path)
    r = ankra.run("login", "--sso", "nope")
    assert r.returncode == 1 and "corp (Acme SSO)" in r.stderr
    r = ankra.run("login", "--sso", "--email", "someone@example.com")
    assert r.returncode == 1 and "--email" in r.stderr


def test_ankra_login_sso_no_browser_with_totp_in_chromium(
    sso_server: str,
    openid_provider: OpenIdProvider,  # noqa: F811
    browser: Browser,
    tmp_path: Path,
) -> None:
    person, account = _sso_account_with_totp(sso_server, openid_provider)
    ankra = make_ankra(sso_server, tmp_path)
    process = ankra.popen("login", "--sso", "--no-browser")
    context = browser.new_context()
    try:
        url, user_code = shown_on_terminal(process)
        assert url == f"{sso_server}/cli/device"
        assert not ankra.browser_log.exists()  # no browser was opened here
        page = context.new_page()
        page.goto(url)
        page.get_by_label("Code from your terminal").fill(user_code.lower())
        page.get_by_role("button", name="Continue", exact=True).click()
        # Before anything is asked: the provider (the account is not known yet), the
        # terminal's address and time, and the warning.
        check = page.locator("#cli-device-check")
        expect(check.get_by_role("heading", name="Is this your sign-in?")).to_be_visible()
        expect(check.locator('dd[data-field="provider"]')).to_have_text("Acme SSO")
        expect(check.locator('dd[data-field="ip"]')).to_have_text("127.0.0.1")
        expect(check.locator('dd[data-field="email"]')).to_be_hidden()
        expect(check.get_by_text("Never enter a code that someone sent you.")).to_be_visible()
        screenshots.keep(page, "cli-device-sso", scratch=tmp_path / "screenshots")
        page.get_by_role("button", name="Continue with Acme SSO").click()
        _sign_in_at_provider(page, person)
        # Back from the provider: the account now, with the terminal's address and the
        # warning again, before the factor.
        facts = page.locator("#cli-device-facts")
        expect(facts.locator('dd[data-field="device-email"]')).to_have_text(str(person.email))
        expect(facts.locator('dd[data-field="ip"]')).to_have_text("127.0.0.1")
        expect(facts.get_by_text("Never enter a code that someone sent you.")).to_be_visible()
        page.get_by_label("Authenticator app code").fill("000000")
        page.get_by_role("button", name="Verify code").click()
        expect(page.get_by_role("status")).to_contain_text("4 attempts left")
        page.get_by_label("Authenticator app code").fill(account.next_code())
        page.get_by_role("button", name="Verify code").click()
        expect(
            page.get_by_text("You can close this window and return to your terminal.")
        ).to_be_visible()
        assert page.url.startswith(f"{sso_server}/auth/sso/corp/callback?")
        # The code was spent by the provider's sign-in starting: typed again, it opens nothing.
        again = context.new_page()
        again.goto(url)
        again.get_by_label("Code from your terminal").fill(user_code)
        again.get_by_role("button", name="Continue", exact=True).click()
        expect(again.get_by_role("status")).to_contain_text("That code is not valid")
        stdout, stderr = process.communicate(timeout=60)
    finally:
        context.close()
        if process.poll() is None:
            process.kill()
    _assert_signed_in(ankra, process, stdout, stderr, server=sso_server, email=person.email)


def test_ankra_login_sso_no_browser_refused_at_sign_in_exits_non_zero(
    sso_server: str,
    openid_provider: OpenIdProvider,  # noqa: F811
    browser: Browser,
    tmp_path: Path,
) -> None:
    person = openid_provider.add_user(
        email="cli-device-unverified@example.com", email_verified=False
    )
    ankra = make_ankra(sso_server, tmp_path)
    process = ankra.popen("login", "--sso", "corp", "--no-browser")
    context = browser.new_context()
    try:
        url, user_code = shown_on_terminal(process)
        page = context.new_page()
        page.goto(url)
        page.get_by_label("Code from your terminal").fill(user_code)
        page.get_by_role("button", name="Continue", exact=True).click()
        page.get_by_role("button", name="Continue with Acme SSO").click()
        _sign_in_at_provider(page, person)
        expect(page.get_by_text("did not confirm your email address").first).to_be_visible()
        stdout, stderr = process.communicate(timeout=60)
    finally:
        context.close()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1
    assert "did not confirm your email address" in stderr
    assert "ankra login --sso --no-browser" in stderr
    assert not ankra.credentials_file.exists()


def test_the_sso_start_link_of_a_device_hand_off_completes_nothing_elsewhere(
    sso_server: str,
    openid_provider: OpenIdProvider,  # noqa: F811
    browser: Browser,
    tmp_path: Path,
) -> None:
    """The phishing of `--sso --no-browser`: whoever typed the code sends its start link
    to someone signed in at the provider. In that browser it opens nothing; in the one that
    typed the code, it completes only with the person's Approve, after the account, the
    terminal's address and the warning were shown."""
    person = openid_provider.add_user(email=f"cli-bound-{free_port()}@example.com")
    victim = browser.new_context()
    typed_here = browser.new_context()
    ankra = make_ankra(sso_server, tmp_path)
    process = ankra.popen("login", "--sso", "--no-browser")
    try:
        # The other browser has a session at the provider (it would sign in silently).
        at_provider = victim.new_page()
        at_provider.goto(f"{sso_server}/auth/sso/corp/start")
        _sign_in_at_provider(at_provider, person)
        url, user_code = shown_on_terminal(process)
        page = typed_here.new_page()
        started: list[str] = []

        def hold(route: Route) -> None:  # the link is copied, not followed
            started.append(route.request.url)
            route.abort()

        page.route("**/auth/sso/corp/start?cli=*", hold)
        page.goto(url)
        page.get_by_label("Code from your terminal").fill(user_code)
        page.get_by_role("button", name="Continue", exact=True).click()
        page.get_by_role("button", name="Continue with Acme SSO").click()
        deadline = time.monotonic() + 15
        while not started and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        (link,) = started
        elsewhere = victim.new_page()
        elsewhere.goto(link)
        expect(elsewhere.get_by_text("cannot be used").first).to_be_visible()
        assert process.poll() is None  # the terminal still waits: nothing was approved

        page.unroute("**/auth/sso/corp/start?cli=*")
        page.goto(link)
        _sign_in_at_provider(page, person)
        facts = page.locator("#cli-device-facts")
        expect(facts.get_by_role("heading", name="Is this your sign-in?")).to_be_visible()
        expect(facts.locator('dd[data-field="device-email"]')).to_have_text(str(person.email))
        expect(facts.locator('dd[data-field="ip"]')).to_have_text("127.0.0.1")
        expect(facts.get_by_text("Never enter a code that someone sent you.")).to_be_visible()
        expect(
            facts.get_by_text(f"Approve sign-in to ankra CLI for {person.email}?")
        ).to_be_visible()
        screenshots.keep(page, "cli-device-sso-approve", scratch=tmp_path / "screenshots")
        assert process.poll() is None  # the provider's sign-in approved nothing by itself
        page.get_by_role("button", name="Approve").click()
        expect(
            page.get_by_text("You can close this window and return to your terminal.")
        ).to_be_visible()
        stdout, stderr = process.communicate(timeout=60)
    finally:
        victim.close()
        typed_here.close()
        if process.poll() is None:
            process.kill()
    _assert_signed_in(ankra, process, stdout, stderr, server=sso_server, email=str(person.email))
