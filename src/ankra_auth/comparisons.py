"""A test-only record of every secret the service compares: one log line each.

The door's guarantee is about what is *compared*, not only what is answered ("at most 10
codes are compared before the backoff"), and answers can look right while the guarantee
is gone. With ``ANKRA_LOG_COMPARISONS=1`` (off by default; refused when the public URL is
https, as in production) each comparison of a password, TOTP code, recovery code, passkey
assertion or user code logs ``comparing KIND for SUBJECT`` on ``ankra_auth.comparisons``,
so a test can count them in a real service's log.
"""

from __future__ import annotations

import logging

log = logging.getLogger("ankra_auth.comparisons")
_enabled = False


def enable(on: bool) -> None:
    global _enabled  # one switch for the process, set when the app is made
    _enabled = on


def note(kind: str, subject: str) -> None:
    """``kind`` (``password``, ``totp``, ...) is about to be compared for ``subject``."""
    if _enabled:
        log.warning("comparing %s for %s", kind, subject)
