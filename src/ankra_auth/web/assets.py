"""The pages' static files: a fixed allow-list, read once, addressed by content hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"

# Only these names are ever served: nothing from the request reaches the file system.
CONTENT_TYPES = {
    "ankra.js": "text/javascript; charset=utf-8",
    "ankra.css": "text/css; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    version: str


@cache
def load(name: str) -> Asset | None:
    """The named asset, or ``None`` when it is not on the allow-list."""
    content_type = CONTENT_TYPES.get(name)
    if content_type is None:
        return None
    body = (STATIC_DIR / name).read_bytes()
    return Asset(body, content_type, hashlib.sha256(body).hexdigest()[:12])


def url(name: str) -> str:
    """The asset's URL with its content hash, so a new release is never served from cache."""
    asset = load(name)
    if asset is None:
        raise KeyError(name)
    return f"/static/{name}?v={asset.version}"
