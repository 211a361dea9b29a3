"""Firefox ESR through Mozilla's Marionette client (no geckodriver), headless, with its
WebAuthn soft token for virtual authenticators."""

from __future__ import annotations

import base64
import shutil
import tempfile
from pathlib import Path
from typing import Any

from marionette_driver.keys import Keys
from marionette_driver.marionette import Marionette, WebElement
from marionette_driver.webauthn import WebAuthn

from tests.browser.drivers.base import KEY_CODES, ScriptedDriver
from tests.postgres_server import free_port

FIREFOX = "/usr/bin/firefox-esr"


class FirefoxAuthenticator:
    def __init__(self, marionette: Marionette, id: str) -> None:
        self.webauthn = WebAuthn(marionette)
        self.id = id

    def credentials(self) -> list[dict[str, Any]]:
        return list(self.webauthn.get_credentials(self.id))

    def remove(self) -> None:
        self.webauthn.remove_virtual_authenticator(self.id)


class FirefoxDriver(ScriptedDriver):
    engine = "firefox"
    saves_downloads = True

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="ankra-firefox-"))
        self.downloads = self.workdir / "downloads"
        self.downloads.mkdir()
        self.marionette = Marionette(
            host="127.0.0.1",
            port=free_port(),
            bin=FIREFOX,
            headless=True,
            gecko_log=str(self.workdir / "gecko.log"),
            prefs={
                # Virtual authenticators instead of waiting for a USB key.
                "security.webauth.webauthn_enable_softtoken": True,
                "security.webauth.webauthn_enable_usbtoken": False,
                "devtools.jsonview.enabled": False,
                # Downloads saved without a dialog.
                "browser.download.folderList": 2,
                "browser.download.dir": str(self.downloads),
                "browser.download.useDownloadDir": True,
                "browser.download.always_ask_before_handling_new_types": False,
                "browser.helperApps.neverAsk.saveToDisk": "text/plain",
            },
        )
        self.marionette.start_session()
        self.marionette.set_window_rect(width=1280, height=1000)
        self.authenticators: list[FirefoxAuthenticator] = []

    def reset(self, base_url: str) -> None:
        """A fresh start for the next test: this origin's cookies gone (ports share them)."""
        self.base_url = base_url
        # Every cookie, whatever its path (the device token lives on /api/v1/auth/login
        # only, where WebDriver's "delete all cookies" from another page does not reach).
        with self.marionette.using_context("chrome"):
            self.marionette.execute_script("Services.cookies.removeAll();")
        self.marionette.navigate(base_url + "/healthz")

    def finish(self) -> None:
        for authenticator in self.authenticators:
            authenticator.remove()
        self.authenticators.clear()
        self.marionette.navigate("about:blank")

    def _script(self, body: str, *args: Any) -> Any:
        return self.marionette.execute_script(body, script_args=list(args), sandbox=None)

    def _click_element(self, element: WebElement) -> None:
        element.click()

    def _fill_element(self, element: WebElement, text: str) -> None:
        element.clear()
        element.send_keys(text)

    def _press_enter(self, element: WebElement) -> None:
        element.send_keys(Keys.ENTER)

    def _navigate(self, url: str) -> None:
        self.marionette.navigate(url)

    def press(self, key: str) -> None:
        codes = [KEY_CODES[part] for part in key.split("+")]
        keys = self.marionette.actions.sequence("key", "keyboard")
        for code in codes:
            keys.key_down(code)
        for code in reversed(codes):
            keys.key_up(code)
        keys.perform()
        self.marionette.actions.release()

    def type_text(self, text: str) -> None:
        self.marionette.actions.sequence("key", "keyboard").send_keys(text).perform()
        self.marionette.actions.release()

    @property
    def url(self) -> str:
        return str(self.marionette.get_url())

    def screenshot(self, path: Path, *, full_page: bool = True) -> None:
        self._script("window.scrollTo(0, 0)")
        path.write_bytes(base64.b64decode(self.marionette.screenshot(full=full_page)))

    def download(self, button: str) -> tuple[str, str]:
        # A real download: Firefox saves it into our folder without a dialog.
        name, built = super().download(button)
        return name, self._saved(self.downloads, name, built)

    def add_virtual_authenticator(
        self, transport: str = "internal", *, consenting: bool = True
    ) -> FirefoxAuthenticator:
        id = WebAuthn(self.marionette).add_virtual_authenticator(
            {
                "protocol": "ctap2",
                "transport": transport,
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserConsenting": consenting,
                "isUserVerified": True,
            }
        )
        authenticator = FirefoxAuthenticator(self.marionette, id)
        self.authenticators.append(authenticator)
        return authenticator

    def quit(self) -> None:
        try:
            self.marionette.cleanup()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)
