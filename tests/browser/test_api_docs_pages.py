"""/docs and /redoc render in a real browser under the pages' CSP, loading nothing from elsewhere."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

from tests.browser.flows import Live

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("path", "rendered"), [("/docs", ".opblock"), ("/redoc", "h1")])
def test_the_api_docs_render_from_this_origin_only(
    page: Page, live: Live, path: str, rendered: str
) -> None:
    hosts: set[str] = set()
    refused: list[str] = []
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    response = page.goto(path)
    assert (
        response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    )
    page.wait_for_selector(rendered)
    assert "Ankra Auth" in page.content()
    page.wait_for_load_state("networkidle")
    assert hosts <= {urlsplit(live.url).netloc, ""}, hosts  # "" : data: and blob: URLs
    # ReDoc also sets a couple of style attributes the policy refuses (cosmetic, the page
    # renders); nothing else may be refused: no script, worker, frame or connection.
    assert [text for text in refused if not text.startswith("Applying inline style")] == []
    if path == "/docs":
        assert refused == []
