"""The pages' static files: a fixed set read once, each addressed by its content hash.

Page scripts are ES modules that import one another (``from './common.js'``); each import is
rewritten to the imported file's hashed URL, so a release changes every URL that it affects
and a cached copy is never stale.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"

_CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Only the files shipped in static/ are ever served: the request's name is a key, never a path.
NAMES = frozenset(
    path.name for path in STATIC_DIR.iterdir() if path.suffix in _CONTENT_TYPES and path.is_file()
)
_IMPORT = re.compile(r"""(from\s+|import\s+)'\./([a-z0-9-]+\.js)'""")


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    version: str


@cache
def load(name: str) -> Asset | None:
    """The named asset, or ``None`` when static/ has no such file."""
    if name not in NAMES:
        return None
    text = (STATIC_DIR / name).read_text(encoding="utf-8")
    if name.endswith(".js"):
        text = _IMPORT.sub(lambda m: f"{m.group(1)}'{url(m.group(2))}'", text)
    body = text.encode()
    content_type = _CONTENT_TYPES[Path(name).suffix]
    return Asset(body, content_type, hashlib.sha256(body).hexdigest()[:12])


def url(name: str) -> str:
    """The asset's URL with its content hash."""
    asset = load(name)
    if asset is None:
        raise KeyError(name)
    return f"/static/{name}?v={asset.version}"
