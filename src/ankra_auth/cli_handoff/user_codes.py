"""Device hand-off user codes (RFC 8628 section 6.1): 8 Crockford base32 characters.

Shown ``XXXX-XXXX``; typed back with case, dashes and spaces forgiven (and Crockford's
O/I/L read as 0/1). Stored only as a keyed hash, which is also how a typed code is found.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from ankra_auth.config import Settings
from ankra_auth.security.keys import derive_key
from ankra_auth.security.recovery_codes import ALPHABET  # Crockford base32: no I, L, O, U

LENGTH = 8  # 40 bits: searched only through the per-address throttle, while a code lives
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_IGNORED = frozenset("- \t")


def new_user_code() -> str:
    """A fresh code for display, e.g. ``7QKX-M4ZD``."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{chars[:4]}-{chars[4:]}"


def normalize(typed: str) -> str | None:
    """The canonical code for what the person typed, or ``None`` if it cannot be one."""
    cleaned = "".join(ch for ch in typed.upper() if ch not in _IGNORED).translate(_ALIASES)
    if len(cleaned) != LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def keyed_hash(settings: Settings, code: str) -> str:
    """HMAC-SHA256 of a normalized code: a leaked table gives no code without the key."""
    key = derive_key(master=settings.secret, purpose="ankra/cli-user-codes")
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()
