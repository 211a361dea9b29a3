"""The page steps the tests share, written once against the engine-neutral ``Driver``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playwright.sync_api import Page

from tests.browser.drivers import Driver
from tests.browser.flows import CODE_SHAPE, PROFILE, Live
from tests.helpers import Account, code_now

# Chromium's virtual authenticator answers a passkey autofill request (mediation
# "conditional") at once when it holds a passkey for the site, as if the person had picked
# it in the email field's autofill; a person may as well ignore the offer and type a
# password. This script makes each autofill request wait, as for a person who ignores it,
# until the page aborts it, and records that (``window.__ankraAutofill``): modal requests
# ("Use a passkey", "Sign in with a passkey") still reach the authenticator. Firefox's soft
# token never answers an autofill request: nothing to do there.
IGNORE_AUTOFILL = """
if (navigator.credentials) {
  const get = navigator.credentials.get.bind(navigator.credentials);
  window.__ankraAutofill = [];
  navigator.credentials.get = (options) => {
    if (!options || options.mediation !== 'conditional') return get(options);
    const request = { aborted: false };
    window.__ankraAutofill.push(request);
    return new Promise((_, reject) => {
      options.signal?.addEventListener('abort', () => {
        request.aborted = true;
        reject(new DOMException('The request was aborted.', 'AbortError'));
      });
    });
  };
}
"""


def ignore_passkey_autofill(browser: Driver | Page) -> None:
    """From the next page on, the person ignores the passkey autofill offer (Chromium; see
    ``IGNORE_AUTOFILL``)."""
    if isinstance(browser, Page):
        browser.add_init_script(IGNORE_AUTOFILL)
    elif browser.engine == "chromium":
        browser.page.add_init_script(IGNORE_AUTOFILL)  # type: ignore[attr-defined]


def sign_in_password(browser: Driver, account: Account, path: str = "/login") -> None:
    browser.goto(path)
    browser.fill("Email", account.email)
    browser.fill("Password", account.password)
    browser.click("Sign in", exact=True)


def sign_in_with_totp(browser: Driver, live: Live, account: Account) -> None:
    """Password, then the authenticator code, to the profile page (its data loaded)."""
    sign_in_password(browser, account)
    browser.fill("Authenticator app code", code_now(account.totp_secret, live.clock))
    browser.click("Verify code")
    expect_profile(browser)


def expect_profile(browser: Driver, path: str = PROFILE) -> None:
    browser.expect_url(path)
    browser.expect_visible("heading", "Authentication", exact=True)
    # The page's script has run and loaded the profile: its buttons now answer, and the
    # security log (loaded last) is drawn.
    browser.expect_no_text("Loading…", within="Two-factor authentication")
    browser.wait_for(
        lambda: browser.js(
            "return document.querySelector('[data-field=\"events\"]').childElementCount > 0"
            " || !document.querySelector('[data-field=\"no-events\"]').hidden"
        ),
        "the security log",
    )


def expect_second_factor_step(browser: Driver) -> None:
    browser.expect_visible("heading", "Confirm it's you")


def set_up_authenticator_app(
    browser: Driver, live: Live, *, first_factor: bool = True, password: str | None = None
) -> tuple[str, list[str]]:
    """From the profile (or enrollment) page: returns the secret and the recovery codes shown
    (only the enrollment that turns 2FA on issues codes). ``password`` answers the password
    prompt that adding a factor to an account with 2FA and an old sign-in brings up."""
    browser.click("Set up authenticator app")
    if password is not None:
        browser.fill("Password", password, within="Confirm your password")
        browser.click("Confirm password", within="Confirm your password")
    secret = browser.wait_for(
        lambda: browser.value("enter this secret key").replace(" ", ""), "the secret key"
    )
    browser.fill("Code from your authenticator app", code_now(secret, live.clock))
    browser.click("Confirm", exact=True)
    browser.expect_status("Authenticator app set up")
    live.clock.advance(30)  # the confirming step is spent
    if not first_factor:
        browser.expect_hidden("list", "Recovery codes")
        return secret, []
    codes = browser.expect_items("Recovery codes", 10)
    assert all(CODE_SHAPE.fullmatch(code) for code in codes), codes
    return secret, codes


def add_passkey(browser: Driver, name: str) -> None:
    browser.fill("Passkey name", name)
    browser.click("Add passkey")
    browser.expect_status(f"Passkey “{name}” added")
    browser.expect_visible("button", f"Rename {name}")


def sign_out(browser: Driver) -> None:
    browser.click("Sign out", exact=True)
    browser.expect_url("/login")


def freeze_page_clock(browser: Driver, when: datetime) -> None:
    """The page's ``new Date()`` answers ``when`` from now on (the service's frozen clock),
    in every engine: page code looks ``Date`` up when it runs."""
    browser.js(
        "const fixed = arguments[0]; const Real = Date;"
        "window.Date = class extends Real {"
        "  constructor(...a) { if (a.length) super(...a); else super(fixed); }"
        "  static now() { return fixed; } };",
        int(when.timestamp() * 1000),
    )


class Catcher:
    """A stand-in for the CLI's loopback listener: answers "Signed in" and keeps the paths."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.paths: list[str] = []


@contextmanager
def loopback_listener() -> Iterator[Catcher]:
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            paths.append(self.path)
            body = b"<!doctype html><title>Ankra CLI</title><p>Signed in</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    catcher = Catcher(f"http://127.0.0.1:{server.server_address[1]}/callback")
    catcher.paths = paths
    try:
        yield catcher
    finally:
        server.shutdown()
        server.server_close()
