"""RFC 6238 TOTP: SHA-1, 6 digits, 30-second steps, one step of drift either way."""

from __future__ import annotations

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
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def matching_step(*, secret: str, code: str, at: datetime) -> int | None:
    """The time step whose code equals ``code`` (previous, current or next), else ``None``.

    Every candidate is compared in constant time, so timing does not tell which matched.
    """
    normalized = "".join(code.split())
    if len(normalized) != DIGITS or not (normalized.isascii() and normalized.isdigit()):
        return None
    now = time_step(at)
    found: int | None = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at_step(secret=secret, step=step), normalized):
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
