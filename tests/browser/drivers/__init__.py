"""One thin driver interface for the page tests, three engines behind it.

``Driver`` is what a test sees; the adapters are ``chromium.ChromiumDriver`` (Playwright, the
system Chromium), ``firefox.FirefoxDriver`` (Firefox ESR through Mozilla's Marionette client)
and ``webkit.WebKitDriver`` (WebKitGTK through Selenium, under a private Xvfb). They locate
elements with one shared script (``locate.js``): inputs by their ``<label>`` text, buttons by
their accessible name, visible ones only, a substring match ignoring case unless ``exact``;
every lookup and ``expect_*`` polls (10 s) as Playwright's auto-waiting does.

Porting a Playwright page test (``page`` fixture) to all three engines (``browser`` fixture):
the quickest way is ``locators.py``'s Playwright-shaped subset: rename ``page`` to
``browser``, import ``expect`` from ``tests.browser.drivers`` instead of Playwright, and most
lines run unchanged (``browser.get_by_label(..).fill(..)``, ``browser.get_by_role("button",
name=..).click()``, ``expect(browser.get_by_role("status")).to_contain_text(..)``,
``expect(browser).to_have_url(..)``). ``page.route``, ``page.clock`` and CDP have no
equivalent: see below. The driver's own methods, shorter:

=====================================================================  ==========================================
Playwright                                                             Driver
=====================================================================  ==========================================
``page.goto("/login")``                                                ``browser.goto("/login")``
``page.get_by_label("Email").fill(x)``                                 ``browser.fill("Email", x)``
``page.get_by_label("Code").press("Enter")``                           ``browser.press_enter("Code")``
``page.get_by_role("button", name="Sign in").click()``                 ``browser.click("Sign in")``
``page.get_by_role("button", name="Sign out", exact=True).click()``    ``browser.click("Sign out", exact=True)``
``card.get_by_role("button", name=n).click()`` (card: a region)        ``browser.click(n, within="Card heading")``
``dialog.get_by_label("Password").fill(x)``                            ``browser.fill("Password", x, within="Dialog name")``
``page.get_by_role("link", name=n).click()``                           ``browser.click(n, role="link")``
``page.get_by_label(l).check()`` / ``.uncheck()``                      ``browser.set_checked(l, True / False)``
``expect(page.get_by_role("status")).to_contain_text(t)``              ``browser.expect_status(t)``
``expect(page.get_by_text(t)).to_be_visible()`` / ``.to_be_hidden()``  ``browser.expect_text(t)`` / ``expect_no_text(t)``
``expect(region).to_contain_text(t)``                                  ``browser.expect_text(t, within="Region name")``
``expect(page.get_by_role("button", name=n)).to_be_visible()``         ``browser.expect_visible("button", n)``
``expect(page.get_by_role("heading", name=n)).to_be_hidden()``         ``browser.expect_hidden("heading", n)``
``expect(page.get_by_label(l)).to_be_focused()``                       ``browser.expect_focused(l)``
``expect(page).to_have_url(u)`` / ``page.wait_for_url``                ``browser.expect_url(u)`` / ``browser.wait_for(...)``
``page.get_by_label(l).input_value()``                                 ``browser.value(l)``
``expect(page.get_by_label(l)).to_be_checked()``                       ``assert browser.checked(l)``
``expect(list.get_by_role("listitem")).to_have_count(n)``              ``browser.expect_items("List name", n)``
``page.expect_download()`` around a click                              ``name, text = browser.download("Download codes")``
clipboard read after a copy button                                     ``text = browser.copy("Copy codes")``
``page.evaluate("...")``                                               ``browser.js("return ...")`` (a function body)
``page.route(...)`` (a stand-in server)                                a real listener (``steps.loopback_listener``)
CDP virtual authenticator                                              ``browser.add_virtual_authenticator()``
=====================================================================  ==========================================

Kinds for ``expect_visible``/``find``: field, checkbox, button, link, list, heading, region,
dialog. A passkey test takes ``@pytest.mark.parametrize("browser_engine", PASSKEY_ENGINES,
indirect=True, scope="session")``: on WebKit ``add_virtual_authenticator`` raises
``WebAuthnUnavailable`` and the case shows as xfail "WebKitGTK has no WebAuthn" (check the
page's "This browser can't use passkeys" before that call). Chromium-only checks (CDP
internals) keep the Playwright ``page`` fixture, or ``ChromiumDriver.page``.

Gotchas when porting: in tests/browser, ``browser`` is this driver; Playwright's ``Browser``
is ``playwright_browser`` there (``browser`` elsewhere, e.g. tests/cli). A page reached by a
script's ``location.assign`` is ready for clicks once ``expect_url`` returns (it waits for
``readyState`` complete) or, for the profile, ``steps.expect_profile`` (its data loaded).
``page.clock.set_fixed_time`` becomes ``steps.freeze_page_clock`` (after the page loads).
Engines differ in what they name "This device" in the sessions card (their own user agent):
pick other user agents for sessions signed in elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.browser.drivers.base import WebAuthnUnavailable
from tests.browser.drivers.locators import Locator, Text, expect

ENGINES = ["chromium", "firefox", "webkit"]
NO_WEBAUTHN = "WebKitGTK has no WebAuthn"
PASSKEY_ENGINES = [
    "chromium",
    "firefox",
    pytest.param(
        "webkit",
        marks=pytest.mark.xfail(raises=WebAuthnUnavailable, strict=True, reason=NO_WEBAUTHN),
    ),
]

__all__ = [
    "ENGINES",
    "NO_WEBAUTHN",
    "PASSKEY_ENGINES",
    "Driver",
    "Locator",
    "WebAuthnUnavailable",
    "expect",
]


class Driver(Protocol):
    engine: str
    base_url: str

    @property
    def url(self) -> str: ...
    def goto(self, path: str) -> None: ...
    def fill(
        self,
        label: str,
        text: str,
        *,
        exact: bool = False,
        within: str | None = None,
        kind: str = "field",
    ) -> None: ...
    def press_enter(
        self, label: str, *, exact: bool = False, within: str | None = None, kind: str = "field"
    ) -> None: ...
    def click(
        self, name: str, *, exact: bool = False, within: str | None = None, role: str = "button"
    ) -> None: ...
    def set_checked(self, label: str, checked: bool) -> None: ...
    def value(
        self, label: str, *, exact: bool = False, within: str | None = None, kind: str = "field"
    ) -> str: ...
    def get_by_label(self, label: str, *, exact: bool = False) -> Locator: ...
    def get_by_role(self, role: str, *, name: str = "", exact: bool = False) -> Locator: ...
    def get_by_text(self, text: str) -> Text: ...
    def checked(self, label: str) -> bool: ...
    def js(self, script: str, *args: Any) -> Any: ...
    def text(self, within: str | None = None) -> str: ...
    def status(self) -> str: ...
    def expect_text(
        self, expected: str, *, within: str | None = None, timeout: float = ...
    ) -> None: ...
    def expect_no_text(self, unexpected: str, *, within: str | None = None) -> None: ...
    def expect_status(self, expected: str, timeout: float = ...) -> None: ...
    def expect_url(self, url: str, timeout: float = ...) -> None: ...
    def visible(
        self, kind: str, name: str, *, exact: bool = False, within: str | None = None
    ) -> bool: ...
    def expect_visible(
        self, kind: str, name: str, *, exact: bool = False, within: str | None = None
    ) -> None: ...
    def expect_hidden(
        self, kind: str, name: str, *, exact: bool = False, within: str | None = None
    ) -> None: ...
    def list_items(self, name: str) -> list[str]: ...
    def expect_items(self, name: str, count: int) -> list[str]: ...
    def focused(self) -> str: ...
    def expect_focused(self, name: str) -> None: ...
    def wait_for(self, probe: Any, what: str, timeout: float = ...) -> Any: ...
    def download(self, button: str) -> tuple[str, str]: ...
    def copy(self, button: str) -> str: ...
    def press(self, key: str) -> None: ...
    def type_text(self, text: str) -> None: ...
    def inject_script(self, source: str) -> None: ...
    def focus_state(self) -> dict[str, Any]: ...
    def screenshot(self, path: Path, *, full_page: bool = True) -> None: ...
    def add_virtual_authenticator(
        self, transport: str = "internal", *, consenting: bool = True
    ) -> Any: ...
    def quit(self) -> None: ...
