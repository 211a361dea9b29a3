"""Recovery codes: 10 Crockford base32 characters shown as XXXXX-XXXXX, stored as keyed hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
CODE_LENGTH = 10
SET_SIZE = 10
# Crockford decoding: letters that look like digits read as those digits.
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def generate_set(count: int = SET_SIZE) -> list[str]:
    """``count`` distinct codes, formatted for display."""
    codes: set[str] = set()
    while len(codes) < count:
        codes.add("".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH)))
    return [f"{c[:5]}-{c[5:]}" for c in sorted(codes)]


def normalize(code: str) -> str | None:
    """Canonical form of user input (case, dashes, spaces forgiven), or ``None`` if malformed."""
    cleaned = "".join(ch for ch in code.upper() if ch not in "- \t").translate(_ALIASES)
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def keyed_hash(*, key: bytes, user_id: str, code: str) -> str:
    """HMAC-SHA256 of a normalized code, bound to its owner so equal codes never collide."""
    return hmac.new(key, f"{user_id}:{code}".encode(), hashlib.sha256).hexdigest()
