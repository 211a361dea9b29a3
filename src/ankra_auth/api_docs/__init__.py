"""``/docs`` (Swagger UI) and ``/redoc`` served from this origin only.

The Swagger UI and ReDoc bundles come from the ``fastapi-offline`` package
(installed with the service, not copied into this repository); the small start-up
script is ours. Nothing is loaded from a third-party host, and the pages carry
the same Content-Security-Policy as the other pages (scripts and styles from
``'self'`` only), so a bundle compromised upstream cannot pull code in from
elsewhere or read the session cookie's origin from a CDN.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import cache
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response

from ankra_auth.errors import NotFound
from ankra_auth.web.assets import Asset
from ankra_auth.web.pages import CONTENT_SECURITY_POLICY, SECURITY_HEADERS

_BUNDLES = "fastapi_offline"  # the package that ships the assets
_OURS = Path(__file__).parent

# name -> (where it lives, content type). Nothing from the request reaches the file system.
ASSETS = {
    "swagger-ui-bundle.js": (_BUNDLES, "text/javascript; charset=utf-8"),
    "swagger-ui.css": (_BUNDLES, "text/css; charset=utf-8"),
    "redoc.standalone.js": (_BUNDLES, "text/javascript; charset=utf-8"),
    "favicon.png": (_BUNDLES, "image/png"),
    "swagger-init.js": (None, "text/javascript; charset=utf-8"),
    "redoc-init.js": (None, "text/javascript; charset=utf-8"),
}
# The one thing a bundle fetches from elsewhere: ReDoc's sidebar logo. The CSP would
# block it anyway; pointing it at an empty data: URL makes ReDoc drop the image
# (its onError hides it) instead of the browser trying a third-party host.
_OFFSITE = {"redoc.standalone.js": [(b"https://cdn.redoc.ly/redoc/logo-mini.svg", b"data:,")]}
PREFIX = "/docs/assets"
# Versioned URLs (``?v=<content hash>``) never change content: cache them for good.
_ASSET_HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
}


@cache
def load(name: str) -> Asset | None:
    entry = ASSETS.get(name)
    if entry is None:
        return None
    package, content_type = entry
    if package is None:
        body = (_OURS / name).read_bytes()
    else:
        body = files(package).joinpath("static", name).read_bytes()
        for offsite, local in _OFFSITE.get(name, ()):
            body = body.replace(offsite, local)
    return Asset(body, content_type, hashlib.sha256(body).hexdigest()[:12])


def url(name: str) -> str:
    asset = load(name)
    if asset is None:
        raise KeyError(name)
    return f"{PREFIX}/{name}?v={asset.version}"


def _page(
    title: str, head: str, body: str, headers: dict[str, str] = SECURITY_HEADERS
) -> HTMLResponse:
    html = (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title>"
        f'<link rel="icon" type="image/png" href="{url("favicon.png")}">'
        f"{head}</head><body>{body}</body></html>\n"
    )
    return HTMLResponse(html, headers=headers)


router = APIRouter(include_in_schema=False)


@router.get("/docs", name="api_docs_swagger")
def swagger_ui() -> HTMLResponse:
    return _page(
        "Ankra Auth API",
        f'<link rel="stylesheet" href="{url("swagger-ui.css")}">',
        '<div id="swagger-ui"></div>'
        f'<script src="{url("swagger-ui-bundle.js")}"></script>'
        f'<script src="{url("swagger-init.js")}"></script>',
    )


@router.get("/redoc", name="api_docs_redoc")
def redoc() -> HTMLResponse:
    # ReDoc (styled-components) writes <style> elements: they are admitted by a fresh
    # nonce, the only change to the pages' policy; scripts stay 'self' only.
    nonce = secrets.token_urlsafe(16)
    policy = CONTENT_SECURITY_POLICY.replace(
        "style-src 'self'", f"style-src 'self' 'nonce-{nonce}'"
    )
    return _page(
        "Ankra Auth API",
        "",
        f'<div id="redoc" data-nonce="{nonce}"></div>'
        f'<script src="{url("redoc.standalone.js")}"></script>'
        f'<script src="{url("redoc-init.js")}"></script>',
        headers={**SECURITY_HEADERS, "Content-Security-Policy": policy},
    )


@router.get(PREFIX + "/{name}", name="api_docs_asset")
def asset(name: str) -> Response:
    found = load(name)
    if found is None:
        raise NotFound("No such file")
    return Response(found.body, media_type=found.content_type, headers=_ASSET_HEADERS)


def install_api_docs(app: FastAPI) -> None:
    """Serve the API docs from this origin (create the app with ``docs_url=None``)."""
    app.include_router(router)
