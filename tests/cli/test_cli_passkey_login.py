"""``ankra login --passkey`` end to end: the CLI as a subprocess against ``ankra-auth serve``,
headless Chromium with a virtual authenticator holding the account's passkey. Through the
loopback page (the passkey is the whole sign-in), and with ``--no-browser`` through the
device page (the typed code, what is approved, the passkey, then Approve or Deny)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests import screenshots
from tests.browser.axe import check_accessibility
from tests.cli.conftest import Ankra
from tests.cli.in_browser import browser_holding, opened_url, shown_on_terminal
from tests.cli.live_accounts import LiveAccount, sign_up
from tests.cli.test_cli_commands import _register_passkey
from tests.soft_authenticator import SoftAuthenticator, SoftCredential

pytestmark = pytest.mark.browser

GOOGLE = bytes.fromhex("ea9b8d664d011d213ce4b6b48cb575d4")  # Google Password Manager
WARNING = "Only continue if you started this sign-in yourself in a terminal."


def with_passkey(ankra: Ankra) -> tuple[LiveAccount, SoftCredential]:
    account = sign_up(ankra.server)
    key = SoftAuthenticator(origin=ankra.server, aaguid=GOOGLE, backup_eligible=True)
    _register_passkey(account, key, "Pixel")
    (credential,) = key.credentials.values()
    return account, credential


def finished(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, stdout, stderr


def test_login_with_a_passkey_through_the_loopback_page(
    ankra: Ankra, browser: Browser, tmp_path: Path
) -> None:
    account, credential = with_passkey(ankra)
    process = ankra.popen("login", "--passkey")  # nothing on standard input: no password
    url = opened_url(ankra, process)
    assert "/cli/login/" in url
    with browser_holding(browser, credential) as page:
        page.goto(url)
        expect(page.get_by_role("heading", name="Sign in without a password")).to_be_visible()
        button = page.get_by_role("button", name="Sign in with a passkey")
        expect(button).to_be_focused()
        screenshots.keep(page, "cli-login-passkey", scratch=tmp_path)
        check_accessibility(page, "cli-login-passkey")
        button.click()
        page.wait_for_url("http://127.0.0.1:*/callback?*", timeout=15000)
        assert "You can close this window" in page.content()
    code, stdout, stderr = finished(process)
    assert code == 0, stderr
    assert f"Signed in to {ankra.server} as {account.email}" in stdout
    assert "Password" not in stderr

    # The saved session is the account's; the log says how it was approved.
    events = json.loads(ankra.run("profile", "auth", "events", "--json").stdout)["events"]
    approved = next(e for e in events if e["type"] == "cli_login_approved")
    assert approved["method"] == "passkey"
    sign_in = next(e for e in events if e["type"] == "sign_in")
    assert (sign_in["method"], sign_in["detail"]) == ("passkey", {"note": "via the CLI"})
    # The next `--passkey` sign-in presents this terminal's device token.
    tokens = json.loads((ankra.config_dir / "device-tokens.json").read_text())
    assert any(key.endswith("passkey") for key in tokens), tokens

    # The list says who made it, synced or not, and that it signs in by itself.
    listed = ankra.run("profile", "auth", "passkeys", "list")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "Pixel" in line)
    for words in ("Google Password Manager", "synced", "by itself"):
        assert words in listed.stdout, listed.stdout
    assert "Pixel" in row
    items = json.loads(ankra.run("profile", "auth", "passkeys", "list", "--json").stdout)
    assert items == account.get("/api/v1/profile/auth/passkeys")  # the API's items


@contextmanager
def at_the_question(
    ankra: Ankra, browser: Browser, credential: SoftCredential, account: LiveAccount
) -> Iterator[tuple[Page, subprocess.Popen[str]]]:
    """``ankra login --passkey --no-browser``, then the device page up to "Approve sign-in
    to ankra CLI for EMAIL?" (the code typed, what is approved shown, the passkey used)."""
    process = ankra.popen("login", "--passkey", "--no-browser")
    try:
        with browser_holding(browser, credential) as page:
            yield _to_the_question(ankra, page, process, account), process
    finally:
        if process.poll() is None:
            process.kill()


def _to_the_question(
    ankra: Ankra, page: Page, process: subprocess.Popen[str], account: LiveAccount
) -> Page:
    url, user_code = shown_on_terminal(process)
    assert url == f"{ankra.server}/cli/device"
    page.goto(url)
    page.get_by_label("Code from your terminal").fill(user_code)
    page.get_by_role("button", name="Continue").click()
    check = page.get_by_role("region", name="Is this your sign-in?")
    # What is approved, before anything is asked: the terminal's address and time, the
    # warning; no account yet (the passkey names it).
    expect(check.get_by_text("127.0.0.1")).to_be_visible()
    expect(check.get_by_text(WARNING)).to_be_visible()
    expect(check.get_by_text(account.email)).to_be_hidden()
    check_accessibility(page, "cli-device-passkey-check")
    page.get_by_role("button", name="Sign in with a passkey").click()
    question = check.get_by_text("Approve sign-in to ankra CLI for")
    expect(question).to_be_visible()
    expect(question).to_contain_text(account.email)
    expect(question).to_be_focused()
    # The passkey approved nothing: the terminal still waits (tests/cli/
    # test_passkey_handoff_api.py polls at this point: authorization_pending).
    assert process.poll() is None
    return page


def test_login_with_a_passkey_on_another_device_approved(
    ankra: Ankra, browser: Browser, tmp_path: Path
) -> None:
    account, credential = with_passkey(ankra)
    with at_the_question(ankra, browser, credential, account) as (page, process):
        screenshots.keep(page, "cli-device-passkey-approve", scratch=tmp_path)
        check_accessibility(page, "cli-device-passkey-approve")
        page.get_by_role("button", name="Approve", exact=True).click()
        expect(page.get_by_text("return to your terminal")).to_be_visible()
        check_accessibility(page, "cli-device-passkey-done")
        code, stdout, stderr = finished(process)
    assert code == 0, stderr
    assert f"as {account.email}" in stdout and not ankra.browser_log.exists()


def test_login_with_a_passkey_on_another_device_denied(
    ankra: Ankra, browser: Browser, tmp_path: Path
) -> None:
    account, credential = with_passkey(ankra)
    with at_the_question(ankra, browser, credential, account) as (page, process):
        page.get_by_role("button", name="Deny", exact=True).click()
        expect(page.get_by_role("heading", name="Sign-in denied")).to_be_visible()
        screenshots.keep(page, "cli-device-passkey-denied", scratch=tmp_path)
        check_accessibility(page, "cli-device-passkey-denied")
        code, stdout, stderr = finished(process)
    assert code == 1, stdout
    assert "The sign-in was denied in the browser" in stderr
    assert "ankra login --passkey --no-browser" in stderr
    assert not ankra.credentials_file.exists()


def test_passkey_takes_no_email_and_no_sso(ankra: Ankra) -> None:
    result = ankra.run("login", "--passkey", "--email", "a@example.com")
    assert result.returncode == 1 and "takes no --email" in result.stderr
    result = ankra.run("login", "--passkey", "--sso")
    assert result.returncode == 1 and "--passkey or --sso" in result.stderr
