"""Showing a URL to the person and opening it in their browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ankra_cli.output import Output

# ``webbrowser.open`` in real use (so ``BROWSER`` is honoured); anything alike in tests.
BrowserOpener = Callable[[str], bool]


def show_and_open(url: str, *, message: str, open_browser: BrowserOpener, out: Output) -> None:
    """Print ``url`` first (the browser may not open: no display, SSH), then open it."""
    out.info(f"{message}\n\n  {url}\n")
    try:
        opened = open_browser(url)
    except Exception:  # any failure to open leaves the printed URL, which is enough
        opened = False
    if not opened:
        out.info("Could not open a browser: open the URL above yourself.")
