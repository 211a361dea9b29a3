"""Secrets typed by a person are compared with ``hmac.compare_digest``, every candidate of them.

TOTP checks three steps and PKCE one challenge in Python; a spy on ``hmac.compare_digest``
sees each comparison (the real one still decides). Recovery codes, bearer tokens and device
codes are never compared in Python: they are looked up in the database by their keyed hash
or SHA-256 (test_security_vectors.py pins those), so their timing tells nothing of the secret.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

import pytest

from ankra_auth.security import pkce, totp

AT = datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    return calls


@pytest.mark.parametrize("offset", [-1, 0, 1, None])
def test_totp_compares_all_three_steps_in_constant_time(
    compared: list[tuple[str, str]], offset: int | None
) -> None:
    # Whichever step matches (or none), all three candidates are compared, so the time
    # taken tells nothing about which one it was.
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # fixed: step now+5's code matches no candidate
    now = totp.time_step(AT)
    if offset is None:
        code = totp.code_at_step(secret=secret, step=now + 5)
    else:
        code = totp.code_at_step(secret=secret, step=now + offset)
    found = totp.matching_step(secret=secret, code=f"{code[:3]} {code[3:]}", at=AT)
    assert found == (None if offset is None else now + offset)
    candidates = [totp.code_at_step(secret=secret, step=now + n) for n in (-1, 0, 1)]
    assert compared == [(candidate, code) for candidate in candidates]


def test_pkce_compares_the_challenge_in_constant_time(
    compared: list[tuple[str, str]],
) -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert pkce.verifier_matches(verifier=verifier, challenge=challenge)
    assert not pkce.verifier_matches(verifier=verifier + "x", challenge=challenge)
    assert compared == [
        (challenge, challenge),
        (pkce.s256_challenge(verifier + "x"), challenge),
    ]
