"""/docs and /redoc: assets from this origin (shipped by a package), under the pages' CSP."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from ankra_auth.web.pages import CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_pages_reference_no_foreign_host(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    policy = r.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "default-src 'self'" in policy
    if path == "/docs":
        assert policy == CONTENT_SECURITY_POLICY
    else:  # ReDoc's <style> elements carry a per-response nonce; nothing else differs
        nonce = re.search(r"'nonce-([^']+)'", policy)
        assert nonce and f'data-nonce="{nonce[1]}"' in r.text
        assert policy.replace(f" 'nonce-{nonce[1]}'", "") == CONTENT_SECURITY_POLICY
        assert client.get(path).headers["content-security-policy"] != policy  # fresh each time
    assert "<script>" not in r.text and "style=" not in r.text  # no inline code
    assert "//" not in r.text.replace("<!doctype html>", "")  # no absolute or protocol URL
    references = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert references and all(ref.startswith("/docs/assets/") for ref in references)
    for ref in references:
        asset = client.get(ref)
        assert asset.status_code == 200 and len(asset.content) > 0
        assert asset.headers["x-content-type-options"] == "nosniff"
        if ref.split("?")[0].endswith("-init.js"):
            assert "http" not in asset.text


def test_only_the_listed_assets_are_served(client: TestClient) -> None:
    for name in ("core.py", "..%2F__init__.py", "swagger-ui-bundle.js.map", "favicon.ico"):
        r = client.get(f"/docs/assets/{name}")
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_redoc_fetches_no_third_party_logo(client: TestClient) -> None:
    page = client.get("/redoc").text
    bundle = re.search(r'src="(/docs/assets/redoc\.standalone\.js[^"]*)"', page)
    assert bundle is not None
    assert b"cdn.redoc.ly/redoc/logo" not in client.get(bundle[1]).content


def test_the_docs_are_not_in_the_api_spec(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/docs", "/redoc"))]
