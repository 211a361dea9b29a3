"""Codes checked for their form before they are sent: a typo must not spend an attempt.

A pending login allows 5 failed second factors and the account 10; a code that cannot be
right by its form (SPEC "Numbers") is refused here, and the person types it again.
"""

from __future__ import annotations

TOTP_DIGITS = 6


def totp_code(text: str) -> str | None:
    """The six digits of an authenticator code (spaces forgiven), or ``None``."""
    digits = "".join(text.split())
    if len(digits) == TOTP_DIGITS and digits.isascii() and digits.isdigit():
        return digits
    return None


def recovery_code(text: str) -> str | None:
    """A recovery code in its canonical form (case, dashes and spaces forgiven; Crockford's
    O, I and L read as 0, 1, 1), or ``None``: the service's own reading of it."""
    from ankra_auth.security.recovery_codes import normalize

    return normalize(text)
