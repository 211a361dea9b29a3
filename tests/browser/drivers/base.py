"""What the three adapters share: locating by label and accessible name through one script,
and polling waits (no engine's own locator engine, so a test means the same everywhere)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.browser.drivers.locators import KINDS, Locator, Text

LOCATE = (Path(__file__).parent / "locate.js").read_text()
TIMEOUT = 10.0
T = TypeVar("T")

# Capture what a "Download" button hands the browser (the blob's text, the file name), so a
# test can compare the saved file with it; an engine that could not save files would still
# let a test read what the page built (saves_downloads False: the click is then swallowed).
CAPTURE_DOWNLOADS = """
if (!window.__ankraDownloads) {
  window.__ankraDownloads = [];
  const blobs = new Map();
  const create = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (blob) => { const url = create(blob); blobs.set(url, blob); return url; };
  const click = HTMLAnchorElement.prototype.click;
  HTMLAnchorElement.prototype.click = function () {
    const blob = blobs.get(this.href);
    if (this.download && blob) {
      const entry = { name: this.download, text: null };
      window.__ankraDownloads.push(entry);
      blob.text().then((text) => { entry.text = text; });
      if (window.__ankraKeepDownloads) return click.call(this);
      return undefined;
    }
    return click.call(this);
  };
}
window.__ankraKeepDownloads = arguments[0];
"""

# Copy buttons: the real clipboard call still runs; the text is kept for the test to read
# (reading the clipboard back needs a permission only Chromium can grant headless).
CAPTURE_CLIPBOARD = """
if (navigator.clipboard && !window.__ankraCopied) {
  window.__ankraCopied = [];
  const write = navigator.clipboard.writeText.bind(navigator.clipboard);
  navigator.clipboard.writeText = (text) => write(text).then(() => { window.__ankraCopied.push(text); });
}
"""


# WebDriver's key codes (the W3C spec's table; Selenium's and Marionette's ``Keys`` agree).
KEY_CODES = {
    "Tab": "\ue004",
    "Shift": "\ue008",
    "Enter": "\ue007",
    "Space": "\ue00d",
    "Escape": "\ue00c",
}

# The focused element as a keyboard user meets it: its accessible name (labelledby, label,
# aria-label or text); whether it is on the Tab path; whether the engine draws it as focused
# from the keyboard (:focus-visible) with a visible outline (or a box-shadow); and whether
# it is on screen and not hidden under something else, such as the sticky status bar
# (WCAG 2.2's "Focus Not Obscured").
FOCUS_STATE = """
const el = document.activeElement;
if (!el || el === document.body) return { name: '', tag: '', tabbable: false, focusVisible: false, outline: false, unobscured: false };
const byIds = (ids) => ids.split(/\\s+/).map((id) => document.getElementById(id)?.textContent || '').join(' ');
const name = el.hasAttribute('aria-labelledby') ? byIds(el.getAttribute('aria-labelledby'))
  : el.labels && el.labels.length ? [...el.labels].map((l) => l.textContent).join(' ')
  : el.getAttribute('aria-label') || el.textContent;
const style = getComputedStyle(el);
const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
const shadow = Boolean(style.boxShadow) && style.boxShadow !== 'none';
const box = el.getBoundingClientRect();
const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
const unobscured = Boolean(top) && (el === top || el.contains(top) || [...(el.labels || [])].includes(top));
return { name, tag: el.tagName.toLowerCase(), tabbable: el.tabIndex >= 0,
         focusVisible: el.matches(':focus-visible'), outline: outline || shadow, unobscured,
         at: [box.x, box.y, scrollX, scrollY] };
"""


class WebAuthnUnavailable(RuntimeError):
    """The engine has no WebAuthn (WebKitGTK): passkey tests mark themselves unavailable."""


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class ScriptedDriver:
    """Everything but the engine primitives, which subclasses provide."""

    engine = "?"
    base_url = ""
    #: Engines that save downloads for real (the capture then lets the click through).
    saves_downloads = False

    # -- engine primitives -------------------------------------------------------------------
    def _script(self, body: str, *args: Any) -> Any:
        raise NotImplementedError

    def _click_element(self, element: Any) -> None:
        raise NotImplementedError

    def _fill_element(self, element: Any, text: str) -> None:
        raise NotImplementedError

    def _press_enter(self, element: Any) -> None:
        raise NotImplementedError

    def _navigate(self, url: str) -> None:
        raise NotImplementedError

    def press(self, key: str) -> None:
        """Presses ``key`` ("Tab", "Shift+Tab", "Enter", "Space", "Escape") in the focused
        element, as the keyboard does (real key events, not a script's)."""
        raise NotImplementedError

    def type_text(self, text: str) -> None:
        """Types ``text`` into the focused element, key by key."""
        raise NotImplementedError

    def inject_script(self, source: str) -> None:
        """Runs a library's ``source`` in the page's own world (axe-core). As a driver script,
        not a ``<script>`` element: the pages' CSP (``script-src 'self'``) refuses inline
        scripts, Playwright's ``add_script_tag`` too, and the tests keep that CSP on."""
        self._script(source)

    def _pause(self, seconds: float) -> None:
        time.sleep(seconds)

    @property
    def url(self) -> str:
        raise NotImplementedError

    # -- waiting -------------------------------------------------------------------------------
    def wait_for(self, probe: Callable[[], T | None], what: str, timeout: float = TIMEOUT) -> T:
        """Polls ``probe`` until it answers something truthy; the page may be navigating
        meanwhile (scripts then fail, and are retried)."""
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while True:
            try:
                answer = probe()
                if answer:
                    return answer
            except Exception as error:  # noqa: BLE001 - a navigation in flight, try again
                last = error
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"[{self.engine}] timed out waiting for {what} on {self.url}"
                    + (f" (last error: {last})" if last else "")
                    + f"\npage text: {self._safe_text()[:1500]}"
                )
            self._pause(0.05)

    def _safe_text(self) -> str:
        try:
            return str(self._script("return document.body ? document.body.innerText : ''"))
        except Exception:  # noqa: BLE001 - only for the error message
            return "<unreadable>"

    # -- locating --------------------------------------------------------------------------------
    def _find_now(
        self, kind: str, name: str, exact: bool = False, within: str | None = None
    ) -> Any:
        return self._script(LOCATE, kind, name, exact, within)

    def find(
        self,
        kind: str,
        name: str,
        *,
        exact: bool = False,
        within: str | None = None,
        timeout: float = TIMEOUT,
    ) -> Any:
        return self.wait_for(
            lambda: self._find_now(kind, name, exact, within),
            f"{kind} {name!r}" + (f" in {within!r}" if within else ""),
            timeout,
        )

    def visible(
        self, kind: str, name: str, *, exact: bool = False, within: str | None = None
    ) -> bool:
        return self._find_now(kind, name, exact, within) is not None

    def expect_visible(
        self, kind: str, name: str, *, exact: bool = False, within: str | None = None
    ) -> None:
        self.find(kind, name, exact=exact, within=within)

    def expect_hidden(
        self, kind: str, name: str, *, exact: bool = False, within: str | None = None
    ) -> None:
        self.wait_for(
            lambda: not self.visible(kind, name, exact=exact, within=within),
            f"{kind} {name!r} to be hidden",
        )

    # -- acting ----------------------------------------------------------------------------------
    def goto(self, path: str) -> None:
        self._navigate(path if "://" in path else self.base_url + path)

    def fill(
        self,
        label: str,
        text: str,
        *,
        exact: bool = False,
        within: str | None = None,
        kind: str = "field",
    ) -> None:
        self._act(kind, label, exact, within, lambda element: self._fill_element(element, text))

    def press_enter(
        self, label: str, *, exact: bool = False, within: str | None = None, kind: str = "field"
    ) -> None:
        self._act(kind, label, exact, within, self._press_enter)

    def click(
        self, name: str, *, exact: bool = False, within: str | None = None, role: str = "button"
    ) -> None:
        self._act(role, name, exact, within, self._click_element)

    def _act(
        self,
        kind: str,
        name: str,
        exact: bool,
        within: str | None,
        action: Callable[[Any], None],
    ) -> None:
        """Finds the element and acts on it, again until it works: found, not covered, not
        replaced mid-way by a re-render (as Playwright's actionability checks)."""

        def attempt() -> bool:
            element = self._find_now(kind, name, exact, within)
            if element is None:
                return False
            action(element)
            return True

        self.wait_for(attempt, f"{kind} {name!r}" + (f" in {within!r}" if within else ""))

    def set_checked(self, label: str, checked: bool) -> None:
        box = self.find("checkbox", label)
        if bool(self._script("return arguments[0].checked", box)) != checked:
            self._click_element(box)

    def value(
        self, label: str, *, exact: bool = False, within: str | None = None, kind: str = "field"
    ) -> str:
        element = self.find(kind, label, exact=exact, within=within)
        return str(self._script("return arguments[0].value", element))

    def checked(self, label: str) -> bool:
        return bool(self._script("return arguments[0].checked", self.find("checkbox", label)))

    def js(self, script: str, *args: Any) -> Any:
        """Runs ``script`` as a function body in the page (``return`` gives the value)."""
        return self._script(script, *args)

    # -- Playwright-shaped locators (see locators.py) ----------------------------------------
    def get_by_label(self, label: str, *, exact: bool = False) -> Locator:
        return Locator(self, "labelled", label, exact)  # type: ignore[arg-type]

    def get_by_role(self, role: str, *, name: str = "", exact: bool = False) -> Locator:
        if role == "status":
            return Locator(self, "status")  # type: ignore[arg-type]
        return Locator(self, KINDS[role], name, exact)  # type: ignore[arg-type]

    def get_by_text(self, text: str) -> Text:
        return Text(self, text)  # type: ignore[arg-type]

    # -- reading -------------------------------------------------------------------------------
    def text(self, within: str | None = None) -> str:
        """The rendered text of the page, or of the region/dialog named ``within``."""
        if within is None:
            return str(self._script("return document.body.innerText"))
        element = self._find_now("region", within, True, None) or self._find_now(
            "dialog", within, True, None
        )
        return (
            "" if element is None else str(self._script("return arguments[0].innerText", element))
        )

    def status(self) -> str:
        return str(self._script("return document.getElementById('status')?.innerText || ''"))

    def expect_text(
        self, expected: str, *, within: str | None = None, timeout: float = TIMEOUT
    ) -> None:
        want = normalise(expected)
        self.wait_for(lambda: want in normalise(self.text(within)), f"text {expected!r}", timeout)

    def expect_no_text(self, unexpected: str, *, within: str | None = None) -> None:
        gone = normalise(unexpected)
        self.wait_for(lambda: gone not in normalise(self.text(within)), f"no text {unexpected!r}")

    def expect_status(self, expected: str, timeout: float = TIMEOUT) -> None:
        want = normalise(expected)
        self.wait_for(lambda: want in normalise(self.status()), f"status {expected!r}", timeout)

    def expect_url(self, url: str, timeout: float = TIMEOUT) -> None:
        full = url if "://" in url else self.base_url + url
        # Loaded, too: module scripts have run (their buttons answer) once readyState is complete.
        self.wait_for(
            lambda: self.url == full and self._script("return document.readyState") == "complete",
            f"URL {full}",
            timeout,
        )

    def list_items(self, name: str) -> list[str]:
        items = self._script(
            "const list = arguments[0]; if (!list) return [];"
            "return [...list.querySelectorAll(':scope > li, :scope > [role=listitem]')]"
            ".map((li) => li.innerText.trim());",
            self._find_now("list", name, True, None),
        )
        return [str(item) for item in items]

    def expect_items(self, name: str, count: int) -> list[str]:
        """Waits until the list named ``name`` has ``count`` items; returns their texts."""
        seen: list[list[str]] = []

        def probe() -> bool:
            seen.append(self.list_items(name))
            return len(seen[-1]) == count

        self.wait_for(probe, f"{count} items in list {name!r}")
        return seen[-1]

    def focused(self) -> str:
        """The accessible name (or label) of the focused element."""
        return normalise(
            str(
                self._script(
                    "const el = document.activeElement;"
                    "if (!el || el === document.body) return '';"
                    "if (el.labels && el.labels.length) return [...el.labels].map((l) => l.textContent).join(' ');"
                    "return el.getAttribute('aria-label') || el.textContent;"
                )
            )
        )

    def expect_focused(self, name: str) -> None:
        self.wait_for(lambda: name.lower() in self.focused().lower(), f"focus on {name!r}")

    def focus_state(self) -> dict[str, Any]:
        """The focused element: ``name``, ``tag``, ``tabbable``, ``focusVisible``, ``outline``,
        ``unobscured``, and ``at`` (where it is and how far the page is scrolled)."""
        state: dict[str, Any] = self._script(FOCUS_STATE)
        state["name"] = normalise(str(state["name"]))
        return state

    # -- files the page hands over ------------------------------------------------------------
    def download(self, button: str) -> tuple[str, str]:
        """Clicks ``button`` and returns the file's name and text as the page built it (its
        blob). Engines that save it for real check the saved file against it (``_saved``)."""
        self._script(CAPTURE_DOWNLOADS, self.saves_downloads)
        self.click(button)
        entry = self.wait_for(
            lambda: (
                (d := self._script("return window.__ankraDownloads.at(-1)"))
                and d.get("text") is not None
                and d
            ),
            f"the download from {button!r}",
        )
        return str(entry["name"]), str(entry["text"])

    def _saved(self, folder: Path, name: str, built: str) -> str:
        """Waits for the browser to have saved ``name`` under ``folder`` whole (the text the
        page built), then removes it; returns its text."""

        def probe() -> Path | None:
            found = next(folder.rglob(name), None)
            return found if found is not None and found.read_text() == built else None

        saved = self.wait_for(probe, f"{name} saved with the page's text")
        saved.unlink()
        return built

    def copy(self, button: str) -> str:
        """Clicks ``button`` and returns the text the page put on the clipboard."""
        self._script(CAPTURE_CLIPBOARD)
        self.click(button)
        copied = self.wait_for(
            lambda: self._script("return (window.__ankraCopied || []).at(-1) || null"),
            f"the copy from {button!r}",
        )
        return str(copied)
