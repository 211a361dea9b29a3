"""Pure crypto helpers, checked against their RFCs' own vectors."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

import pyotp
import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st

from ankra_auth.security import pkce, recovery_codes, secretbox, totp
from ankra_auth.security.keys import derive_key

# RFC 6238 appendix B, SHA-1 rows; the seed is ASCII "12345678901234567890".
RFC6238_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC6238_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("unix_time", "eight_digits"), RFC6238_VECTORS)
def test_totp_matches_rfc6238_vectors(unix_time: int, eight_digits: str) -> None:
    at = datetime.fromtimestamp(unix_time, UTC)
    # The RFC prints 8 digits; 6-digit codes are their last six.
    expected = eight_digits[-6:]
    assert totp.code_at_step(secret=RFC6238_SECRET, step=totp.time_step(at)) == expected
    assert totp.matching_step(secret=RFC6238_SECRET, code=expected, at=at) == totp.time_step(at)


@given(secret=st.binary(min_size=20, max_size=40), step=st.integers(0, 2**40))
def test_codes_equal_pyotps(secret: bytes, step: int) -> None:
    # The HOTP the sign-in computes itself, against the library that makes the secrets.
    encoded = base64.b32encode(secret).decode().rstrip("=")
    for spelled in (encoded, encoded.lower()):
        assert totp.code_at_step(secret=spelled, step=step) == pyotp.TOTP(spelled).generate_otp(
            step
        )


def test_totp_accepts_one_step_of_drift_each_way_and_no_more() -> None:
    secret = totp.new_secret()
    at = datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)
    now = totp.time_step(at)
    for offset in (-1, 0, 1):
        code = totp.code_at_step(secret=secret, step=now + offset)
        assert totp.matching_step(secret=secret, code=code, at=at) == now + offset
    for offset in (-2, 2):
        code = totp.code_at_step(secret=secret, step=now + offset)
        assert totp.matching_step(secret=secret, code=code, at=at) is None


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", "12 34 5x", "１２３４５６"])
def test_totp_rejects_malformed_codes(bad: str) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert totp.matching_step(secret=totp.new_secret(), code=bad, at=at) is None


def test_totp_secret_is_160_bits_of_base32() -> None:
    secret = totp.new_secret()
    assert len(base64.b32decode(secret)) == 20


def test_provisioning_uri_names_issuer_and_account() -> None:
    uri = totp.provisioning_uri(
        secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", account="a@example.com", issuer="Ankra"
    )
    assert uri.startswith("otpauth://totp/Ankra:a%40example.com?")
    assert "issuer=Ankra" in uri and "secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" in uri
    assert totp.qr_svg(uri).startswith("<svg")


def dark_modules(svg: str) -> set[tuple[int, int]]:
    """The modules segno's SVG path draws dark: ``M``/``m`` move, ``h`` runs along a row."""
    path = re.search(r'class="qrline"[^>]* d="([^"]+)"', svg)
    assert path is not None, svg[:200]
    x = y = 0.0
    drawn: set[tuple[int, int]] = set()
    for command, args in re.findall(r"([MmHh])([-\d. ]+)", path.group(1)):
        numbers = [float(n) for n in args.split()]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            drawn.update((int(x) + n, int(y)) for n in range(int(numbers[0])))
            x += numbers[0]
    return drawn


def test_qr_code_draws_the_uri_at_error_correction_m_readable_in_any_theme() -> None:
    uri = totp.provisioning_uri(
        secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", account="a@example.com", issuer="Ankra"
    )
    svg = totp.qr_svg(uri)
    # The symbol as segno encodes the URI at level M (15 % of it may be lost), 4 modules of
    # quiet zone around it.
    matrix = segno.make(uri, error="m").matrix
    assert dark_modules(svg) == {
        (4 + col, 4 + row)
        for row, line in enumerate(matrix)
        for col, dark in enumerate(line)
        if dark
    }
    side = (len(matrix) + 8) * 4  # 4 px a module: small enough for a phone, big enough to scan
    assert re.match(f'<svg width="{side}" height="{side}"', svg)
    # Near-black on an opaque white square, so a dark page theme cannot swallow it.
    assert 'stroke="#111"' in svg and 'fill="#fff"' in svg
    assert "<title>Authenticator app set-up code</title>" in svg  # its accessible name


def test_recovery_codes_format_and_lenient_input() -> None:
    codes = recovery_codes.generate_set()
    assert len(codes) == 10 and len(set(codes)) == 10
    for code in codes:
        assert len(code) == 11 and code[5] == "-"
        assert all(ch in recovery_codes.ALPHABET for ch in code.replace("-", ""))
    code = codes[0]
    canonical = code.replace("-", "")
    for variant in (code.lower(), canonical, f" {code[:3]} {code[3:]} ", code.replace("-", " - ")):
        assert recovery_codes.normalize(variant) == canonical
    assert recovery_codes.normalize("ABCDE-FGHIU") is None  # U is not Crockford
    assert recovery_codes.normalize("ABCDE-FGHI") is None
    assert recovery_codes.normalize("OIL00-11111") == "01100" + "11111"


def test_recovery_code_hash_is_keyed_and_bound_to_its_owner() -> None:
    key = derive_key(master=b"m", purpose="p")
    a = recovery_codes.keyed_hash(key=key, user_id="u1", code="ABCDEFGHJK")
    assert a != recovery_codes.keyed_hash(key=key, user_id="u2", code="ABCDEFGHJK")
    assert a != recovery_codes.keyed_hash(
        key=derive_key(master=b"n", purpose="p"), user_id="u1", code="ABCDEFGHJK"
    )


def test_secretbox_round_trip_and_tamper_detection() -> None:
    key = derive_key(master=b"master", purpose="totp")
    sealed = secretbox.seal(key=key, plaintext=b"JBSWY3DP", context=b"user-1")
    assert "JBSWY3DP" not in sealed
    assert secretbox.open_sealed(key=key, token=sealed, context=b"user-1") == b"JBSWY3DP"
    with pytest.raises(ValueError):
        secretbox.open_sealed(key=key, token=sealed, context=b"user-2")
    with pytest.raises(ValueError):
        secretbox.open_sealed(
            key=derive_key(master=b"other", purpose="totp"), token=sealed, context=b"user-1"
        )


def test_secretbox_opens_with_the_first_key_that_fits() -> None:
    old, current, stranger = (bytes([n]) * 32 for n in (1, 2, 3))
    sealed = secretbox.seal(key=old, plaintext=b"JBSWY3DP", context=b"user-1")
    assert secretbox.open_with_any(keys=[current, old], token=sealed, context=b"user-1") == (
        b"JBSWY3DP",
        1,  # not the current key: to be sealed again
    )
    with pytest.raises(ValueError, match="any key"):
        secretbox.open_with_any(keys=[current, stranger], token=sealed, context=b"user-1")


def test_settings_list_the_current_secret_first_then_the_previous_ones() -> None:
    from ankra_auth.config import Settings

    settings = Settings(secret_key="new", secret_key_previous=" older , old,, ")
    assert settings.secrets == (b"new", b"older", b"old")
    assert Settings(secret_key="new").secrets == (b"new",)


def test_pkce_s256_matches_rfc7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce.s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert pkce.verifier_matches(
        verifier=verifier, challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    assert not pkce.verifier_matches(
        verifier=verifier + "x", challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
