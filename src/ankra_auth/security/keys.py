"""Purpose-bound subkeys derived from the master secret (HKDF-SHA256)."""

from __future__ import annotations

from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@lru_cache(maxsize=64)  # a handful of purposes per master secret; derived once each
def derive_key(*, master: bytes, purpose: str) -> bytes:
    """A 256-bit key for one purpose; different purposes never share a key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        master
    )
