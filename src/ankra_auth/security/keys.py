"""Purpose-bound subkeys derived from the master secret (HKDF-SHA256)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@lru_cache(maxsize=64)  # a handful of purposes per master secret; derived once each
def derive_key(*, master: bytes, purpose: str) -> bytes:
    """A 256-bit key for one purpose; different purposes never share a key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        master
    )


def derive_keys(*, masters: Sequence[bytes], purpose: str) -> tuple[bytes, ...]:
    """One key per master secret, in order: the current key first, then older ones."""
    return tuple(derive_key(master=master, purpose=purpose) for master in masters)
