"""RFC 6238 TOTP: SHA-1, 6 digits, 30-second steps, one step of drift either way."""

from __future__ import annotations

import base64
import hmac
from datetime import datetime

import pyotp
import segno

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1


def new_secret() -> str:
    """160 random bits as base32 (32 characters)."""
    return pyotp.random_base32(length=32)


def time_step(at: datetime) -> int:
    return int(at.timestamp()) // STEP_SECONDS


def code_at_step(*, secret: str, step: int) -> str:
    return _code(_key(secret), step)


def _key(secret: str) -> bytes:
    return base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)


def _code(key: bytes, step: int) -> str:
    """RFC 4226's HOTP for counter ``step``: the HMAC (the stdlib's C one) dynamically
    truncated. Written out because the sign-in checks three of these per code, and
    pyotp re-decodes the secret and builds objects for each."""
    digest = hmac.digest(key, step.to_bytes(8, "big"), "sha1")
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def normalize(code: str) -> str | None:
    """The code without its spaces when it has the form of one (6 ASCII digits), else None."""
    normalized = "".join(code.split())
    if len(normalized) != DIGITS or not (normalized.isascii() and normalized.isdigit()):
        return None
    return normalized


def matching_step(*, secret: str, code: str, at: datetime) -> int | None:
    """The time step whose code equals ``code`` (previous, current or next), else ``None``.

    Every candidate is compared in constant time, so timing does not tell which matched.
    """
    normalized = normalize(code)
    if normalized is None:
        return None
    now = time_step(at)
    key = _key(secret)
    found: int | None = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(_code(key, step), normalized):
            found = step
    return found


def provisioning_uri(*, secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code."""
    qr = segno.make(uri, error="m")
    return qr.svg_inline(scale=4, dark="#111", light="#fff", title="Authenticator app set-up code")
