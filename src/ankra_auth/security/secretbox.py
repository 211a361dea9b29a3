"""Authenticated encryption of small secrets at rest (AES-256-GCM)."""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"


def seal(*, key: bytes, plaintext: bytes, context: bytes) -> str:
    """Encrypt ``plaintext``; ``context`` (e.g. the owner's id) must match on opening."""
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext, context)
    return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def open_sealed(*, key: bytes, token: str, context: bytes) -> bytes:
    """Decrypt what :func:`seal` produced. Raises ``ValueError`` if it was tampered with."""
    version, _, payload = token.partition(":")
    if version != _VERSION:
        raise ValueError("unknown secretbox version")
    raw = base64.urlsafe_b64decode(payload)
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], context)
    except Exception as exc:  # cryptography raises InvalidTag
        raise ValueError("secret could not be decrypted") from exc


def open_with_any(*, keys: Sequence[bytes], token: str, context: bytes) -> tuple[bytes, int]:
    """Open ``token`` with the first of ``keys`` that fits; returns the plaintext and its index.

    Index 0 is the current key; anything else means the token should be sealed again.
    """
    for index, key in enumerate(keys):
        try:
            return open_sealed(key=key, token=token, context=context), index
        except ValueError:
            continue
    raise ValueError("secret could not be decrypted with any key")
