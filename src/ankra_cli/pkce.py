"""RFC 7636 PKCE (S256) and the ``state`` value, client side."""

from __future__ import annotations

import base64
import hashlib
import secrets


def new_verifier() -> str:
    """64 characters from 384 random bits (RFC 7636 allows 43 to 128)."""
    return secrets.token_urlsafe(48)


def s256_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_state() -> str:
    return secrets.token_urlsafe(32)
