"""WebKitGTK (the engine Safari is built on) through Selenium and WebKitWebDriver, in
MiniBrowser under a private Xvfb (it has no headless mode). No WebAuthn in this build."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from tests.browser.drivers.base import KEY_CODES, ScriptedDriver, WebAuthnUnavailable
from tests.processes import stop

# In libwebkit2gtk-4.1-0 (webkit2gtk-driver depends on it), under the multiarch directory.
MINIBROWSER = next(
    iter(sorted(glob.glob("/usr/lib/*/webkit2gtk-4.1/MiniBrowser"))),
    "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
)
WEBDRIVER = "/usr/bin/WebKitWebDriver"

# Where the element is, or null when something else is at its centre.
WHERE = """
const box = arguments[0].getBoundingClientRect();
const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
return hit && arguments[0].contains(hit) ? [box.x, box.y, box.width, box.height] : null;
"""
STILL = 0.05  # seconds: three frames at 60 Hz


X_DIR = Path("/tmp")  # noqa: S108 - where X servers keep their locks and sockets, by fixed name


def _display_taken(number: int) -> bool:
    """Whether a live X server holds display ``number``. A lock left by one that is gone is
    no hold: Xvfb removes such a lock itself when it starts."""
    lock = X_DIR / f".X{number}-lock"
    try:
        holder = int(lock.read_text().strip())
    except FileNotFoundError:
        return False
    except ValueError:
        return True  # being written: its server is starting
    try:
        os.kill(holder, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    """A private X display: the first free number from 90."""
    for number in range(90, 200):
        if _display_taken(number):
            continue
        process = subprocess.Popen(
            ["Xvfb", f":{number}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            if (X_DIR / ".X11-unix" / f"X{number}").exists():
                return process, f":{number}"
            if process.poll() is not None:
                break  # lost a race for this number: try the next
            time.sleep(0.05)
        process.kill()
    raise RuntimeError("no free X display for Xvfb")


class WebKitDriver(ScriptedDriver):
    engine = "webkit"
    saves_downloads = True

    def __init__(self) -> None:
        # Its own HOME: MiniBrowser saves downloads there (and keeps its caches there).
        self.home = Path(tempfile.mkdtemp(prefix="ankra-webkit-"))
        self.xvfb, display = start_xvfb()
        options = webdriver.WebKitGTKOptions()
        options.binary_location = MINIBROWSER
        options.add_argument("--automation")
        service = webdriver.WebKitGTKService(
            executable_path=WEBDRIVER,
            env={
                **os.environ,
                "DISPLAY": display,
                "HOME": str(self.home),
                "XDG_DOWNLOAD_DIR": str(self.home),
            },
        )
        try:
            self.driver = webdriver.WebKitGTK(options=options, service=service)
        except Exception:
            stop(self.xvfb, timeout=5)  # asked: Xvfb removes its lock file
            shutil.rmtree(self.home, ignore_errors=True)
            raise
        self.driver.set_window_size(1280, 1000)

    def reset(self, base_url: str) -> None:
        self.base_url = base_url
        # WebKit deletes the host's cookies whatever their path (the device token's is
        # /api/v1/auth/login): one page of this host is enough. Ports share cookies.
        self.driver.get(base_url + "/healthz")
        self.driver.delete_all_cookies()

    def finish(self) -> None:
        self.driver.get("about:blank")

    def _script(self, body: str, *args: Any) -> Any:
        return self.driver.execute_script(body, *args)

    def focus_state(self) -> dict[str, Any]:
        # WebKitGTK scrolls to a newly focused element a few milliseconds after focus()
        # returns: read it once it holds still, or a field on its way into view reads as
        # off screen.
        state = super().focus_state()
        for _ in range(20):
            time.sleep(STILL)
            again = super().focus_state()
            if again == state:
                break
            state = again
        return state

    def _click_element(self, element: WebElement) -> None:
        # WebKitWebDriver refuses elements under the sticky status bar instead of scrolling on.
        self._script("arguments[0].scrollIntoView({block: 'center'})", element)
        # Its click is a pointer event sent from the UI process to where the element was:
        # one that is still moving (a redraw in flight) can be missed for whatever took its
        # place. Wait until it holds still and is the one at that point, as Playwright does.
        before = self._script(WHERE, element)
        if before is None:
            raise AssertionError("the element is covered")  # wait_for tries again
        time.sleep(STILL)
        if self._script(WHERE, element) != before:
            raise AssertionError("the element is moving")
        element.click()

    def _fill_element(self, element: WebElement, text: str) -> None:
        # As for a click: a field under the sticky status bar is refused, not scrolled to.
        self._script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.clear()
        element.send_keys(text)

    def _press_enter(self, element: WebElement) -> None:
        element.send_keys(Keys.ENTER)

    def _navigate(self, url: str) -> None:
        self.driver.get(url)

    def press(self, key: str) -> None:
        codes = [KEY_CODES[part] for part in key.split("+")]
        chain = ActionChains(self.driver)
        for code in codes:
            chain.key_down(code)
        for code in reversed(codes):
            chain.key_up(code)
        chain.perform()

    def type_text(self, text: str) -> None:
        ActionChains(self.driver).send_keys(text).perform()

    @property
    def url(self) -> str:
        return str(self.driver.current_url)

    def screenshot(self, path: Path, *, full_page: bool = True) -> None:
        self._script("window.scrollTo(0, 0)")
        if not full_page:
            time.sleep(0.3)  # the next paint; WebKitGTK shows a blank frame before it
            self.driver.save_screenshot(str(path))
            return
        # Grow the window to the page so the shot is whole, as in the other engines.
        height = int(self._script("return document.documentElement.scrollHeight"))
        self.driver.set_window_size(1280, max(1000, height + 100))
        time.sleep(0.3)  # the next paint; WebKitGTK shows a blank frame before it
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(1280, 1000)

    def download(self, button: str) -> tuple[str, str]:
        # A real download: MiniBrowser saves it into its HOME without a dialog.
        name, built = super().download(button)
        return name, self._saved(self.home, name, built)

    def add_virtual_authenticator(
        self, transport: str = "internal", *, consenting: bool = True
    ) -> Any:
        del transport, consenting  # the same signature as the other engines'
        raise WebAuthnUnavailable("WebKitGTK has no WebAuthn (no PublicKeyCredential)")

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            stop(self.xvfb, timeout=5)  # asked: Xvfb removes its lock file
            shutil.rmtree(self.home, ignore_errors=True)
