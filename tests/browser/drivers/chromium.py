"""Chromium through Playwright (the project's first engine; CDP gives virtual authenticators)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import ElementHandle, Page

from tests.browser.drivers.base import ScriptedDriver
from tests.browser.flows import Authenticator


class ChromiumDriver(ScriptedDriver):
    engine = "chromium"

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page  # Playwright stays reachable for Chromium-only checks
        self.base_url = base_url

    def _script(self, body: str, *args: Any) -> Any:
        handle = self.page.evaluate_handle(
            f"(args) => (function () {{ {body}\n }}).apply(null, args)", list(args)
        )
        element = handle.as_element()
        if element is not None:
            return element
        value = handle.json_value()
        handle.dispose()
        return value

    def _click_element(self, element: ElementHandle) -> None:
        element.click()

    def _fill_element(self, element: ElementHandle, text: str) -> None:
        element.fill(text)

    def _press_enter(self, element: ElementHandle) -> None:
        element.press("Enter")

    def _navigate(self, url: str) -> None:
        self.page.goto(url)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def type_text(self, text: str) -> None:
        self.page.keyboard.type(text)

    def _pause(self, seconds: float) -> None:
        # Playwright's sync API takes in events (a navigation: page.url) only during its calls.
        self.page.wait_for_timeout(seconds * 1000)

    @property
    def url(self) -> str:
        return self.page.url

    def screenshot(self, path: Path, *, full_page: bool = True) -> None:
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.screenshot(
            path=str(path), full_page=full_page, animations="disabled", caret="hide"
        )

    def download(self, button: str) -> tuple[str, str]:
        # A real download: Chromium saves it headless.
        with self.page.expect_download() as info:
            self.click(button)
        return info.value.suggested_filename, Path(info.value.path()).read_text()

    def copy(self, button: str) -> str:
        # Chromium can grant clipboard reading headless: check what really landed there.
        self.page.context.grant_permissions(
            ["clipboard-read", "clipboard-write"], origin=self.base_url
        )
        copied = super().copy(button)
        on_clipboard = str(self.page.evaluate("navigator.clipboard.readText()"))
        assert on_clipboard == copied, (on_clipboard, copied)
        return on_clipboard

    def add_virtual_authenticator(
        self, transport: str = "internal", *, consenting: bool = True
    ) -> Authenticator:
        cdp = self.page.context.new_cdp_session(self.page)
        cdp.send("WebAuthn.enable", {"enableUI": False})
        options = {
            "protocol": "ctap2",
            "transport": transport,
            "hasResidentKey": True,
            "hasUserVerification": True,
            "isUserVerified": True,
            # Not consenting: nobody answers the prompt, so the request waits for its timeout
            # (Chromium's authenticator cannot say no; presence simulation would say yes).
            "isUserConsenting": consenting,
            "automaticPresenceSimulation": consenting,
        }
        added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
        return Authenticator(cdp, added["authenticatorId"])

    def quit(self) -> None:
        self.page.context.close()
