"""``ankra login`` with a real browser: headless Chromium completes the hand-off page.

The CLI runs as a subprocess with ``BROWSER`` recording the URL; Chromium then opens it,
completes the second factor (TOTP, or a passkey on a virtual authenticator) and follows
the redirect to the CLI's loopback listener.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.cli.conftest import Ankra
from tests.cli.in_browser import browser_holding, opened_url
from tests.cli.live_accounts import PASSWORD, LiveAccount, enroll_totp, sign_up
from tests.cli.test_cli_commands import _register_passkey
from tests.soft_authenticator import SoftAuthenticator

pytestmark = pytest.mark.browser


def _login_url(ankra: Ankra, account: LiveAccount) -> tuple[subprocess.Popen[str], str]:
    process = ankra.popen("login", "--email", account.email, input=f"{PASSWORD}\n")
    return process, opened_url(ankra, process)


def _back_in_terminal(page: Page, process: subprocess.Popen[str], ankra: Ankra) -> None:
    page.wait_for_url("http://127.0.0.1:*/callback?*", timeout=15000)
    assert "You can close this window" in page.content()
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "Signed in to" in stdout
    status = ankra.run("profile", "auth", "status", "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["two_factor_enabled"] is True


def test_hand_off_page_with_an_authenticator_code(ankra: Ankra, browser: Browser) -> None:
    account = enroll_totp(sign_up(ankra.server))
    process, url = _login_url(ankra, account)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        page.get_by_label("Authenticator app code").fill(account.next_code())
        page.get_by_role("button", name="Verify code").click()
        _back_in_terminal(page, process, ankra)
    finally:
        context.close()
        if process.poll() is None:
            process.kill()


def test_hand_off_page_with_a_passkey(ankra: Ankra, browser: Browser) -> None:
    account = sign_up(ankra.server)
    authenticator = SoftAuthenticator(origin=ankra.server)
    _register_passkey(account, authenticator, "Laptop")
    (credential,) = authenticator.credentials.values()

    process, url = _login_url(ankra, account)
    # The key registered through the API, held by the browser's authenticator.
    try:
        with browser_holding(browser, credential, discoverable=False) as page:
            page.goto(url)
            page.get_by_role("button", name="Use a passkey").click()
            _back_in_terminal(page, process, ankra)
    finally:
        if process.poll() is None:
            process.kill()
    events = json.loads(ankra.run("profile", "auth", "events", "--json").stdout)["events"]
    approved = next(e for e in events if e["type"] == "cli_login_approved")
    assert approved["method"] == "passkey"


def test_device_hand_off_typed_on_another_device(ankra: Ankra, browser: Browser) -> None:
    """`ankra login --no-browser`, an empty code: the person opens the printed page
    elsewhere, types the printed code, checks what is shown and uses their authenticator."""
    account = enroll_totp(sign_up(ankra.server))
    process = ankra.popen(
        "login", "--email", account.email, "--no-browser", input=f"{PASSWORD}\n\n"
    )
    assert process.stderr is not None
    lines: list[str] = []
    while not any("enter the code" in line for line in lines):
        line = process.stderr.readline()
        assert line, f"ankra ended early: {''.join(lines)}"
        lines.append(line)
    url = next(line.strip() for line in lines if line.strip().startswith("http"))
    user_code = next(line for line in lines if "enter the code" in line).split()[-1]
    assert url == f"{ankra.server}/cli/device"
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        page.get_by_label("Code from your terminal").fill(user_code)
        page.get_by_role("button", name="Continue").click()
        check = page.get_by_role("region", name="Is this your sign-in?")
        expect(check.get_by_text(account.email)).to_be_visible()
        expect(check.get_by_text("127.0.0.1")).to_be_visible()
        expect(check.get_by_text("Never enter a code that someone sent you.")).to_be_visible()
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("Authenticator app code").fill(account.next_code())
        page.get_by_role("button", name="Verify code").click()
        expect(page.get_by_text("return to your terminal")).to_be_visible()
        stdout, stderr = process.communicate(timeout=60)
    finally:
        context.close()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "Signed in to" in stdout and not ankra.browser_log.exists()
