"""Where the browser tests' screenshots go: docs/screenshots with ANKRA_SCREENSHOTS=1
(``ANKRA_SCREENSHOTS=1 bash scripts/test.sh tests/browser tests/cli`` refreshes them),
else a temporary folder, so every run still lays each page out."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page

SCREENSHOT_DIR = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def refreshing() -> bool:
    return os.environ.get("ANKRA_SCREENSHOTS") == "1"


def full_page(page: Page, path: Path) -> Path:
    # Full-page shots lay out the page at its scroll position: start from the top so
    # the sticky status bar sits where it belongs.
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    return path


def keep(page: Page, name: str, *, scratch: Path) -> Path:
    """``name``.png in docs/screenshots when refreshing, else in ``scratch``."""
    folder = SCREENSHOT_DIR if refreshing() else scratch
    folder.mkdir(parents=True, exist_ok=True)
    return full_page(page, folder / f"{name}.png")
