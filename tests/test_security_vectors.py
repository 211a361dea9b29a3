"""Known answers for what the service stores: derived keys, keyed hashes, sealed secrets.

Everything here is at rest somewhere (TOTP secrets sealed under a derived key, recovery codes
and tokens as hashes), so a change to any of these functions locks every user out. The
expected values come from outside this code: OpenSSL (`openssl kdf ... HKDF`, `openssl dgst
-hmac`, `openssl dgst -sha256`) and the RFCs' own vectors.
"""

from __future__ import annotations

import base64

import pytest

from ankra_auth.security import pkce, recovery_codes, secretbox, tokens, totp
from ankra_auth.security.keys import derive_key, derive_keys

MASTER = b"ankra known-answer master secret"

# openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt "key:$MASTER" -kdfopt "info:$PURPOSE" HKDF
DERIVED = {
    "ankra/totp-secrets": "b2647f470a16fd808196a49558d9b3b15e0740a3136a3b10654fbbf3c43aa9a3",
    "ankra/recovery-codes": "89afc1ac89e4a975d06b8c179ad79dc9baa72c0226efd56804a237a5feb00e18",
    "ankra/cli-user-codes": "887fc45fb521d6f6615fbc078e854bad386a9f6311d9943895d0d9f6b079a63a",
    "ankra/password-throttle": "ffadfb166b9bd765fc1007411ccf9af554a38a39bb4963d282d24f573deddf11",
}


@pytest.mark.parametrize(("purpose", "expected"), sorted(DERIVED.items()))
def test_derive_key_is_hkdf_sha256_of_the_purpose(purpose: str, expected: str) -> None:
    assert derive_key(master=MASTER, purpose=purpose).hex() == expected


def test_derive_key_matches_rfc5869_test_case_3() -> None:
    # RFC 5869 A.3: SHA-256, no salt, no info; a 32-byte key is the OKM's first 32 bytes.
    okm = "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    assert derive_key(master=bytes([0x0B]) * 22, purpose="").hex() == okm[:64]


def test_different_purposes_and_masters_give_different_256_bit_keys() -> None:
    keys = {derive_key(master=MASTER, purpose=purpose) for purpose in DERIVED}
    keys |= {derive_key(master=b"another master", purpose=purpose) for purpose in DERIVED}
    assert len(keys) == 2 * len(DERIVED)
    assert {len(key) for key in keys} == {32}  # AES-256, HMAC-SHA256 keys


def test_derive_keys_keeps_the_masters_order() -> None:
    purpose = "ankra/totp-secrets"
    assert derive_keys(masters=[MASTER, b"older"], purpose=purpose) == (
        bytes.fromhex(DERIVED[purpose]),
        derive_key(master=b"older", purpose=purpose),
    )
    assert derive_keys(masters=[], purpose=purpose) == ()


def test_recovery_code_hash_is_hmac_sha256_of_owner_and_code() -> None:
    # printf '%s' "0b5f3c1e-user:7QKXM4ZD9A" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY
    key = bytes.fromhex(DERIVED["ankra/recovery-codes"])
    assert (
        recovery_codes.keyed_hash(key=key, user_id="0b5f3c1e-user", code="7QKXM4ZD9A")
        == "1ead3654267f607fce10ee3677582d96f12997aacfa3e1353a105d8f081b6ee5"
    )


def test_token_hash_is_sha256_hex() -> None:
    # FIPS 180-2's "abc" example.
    expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert tokens.hash_token("abc") == expected


def test_a_secret_sealed_by_an_earlier_release_still_opens() -> None:
    # AES-256-GCM under the TOTP key, nonce 00..0b, the owner's id as associated data.
    sealed = "v1:AAECAwQFBgcICQoLLG0qgRgxaDsqq2Lxi4qSQKosHox5dAhp9WpgjRTkYrk="
    key = bytes.fromhex(DERIVED["ankra/totp-secrets"])
    assert secretbox.open_sealed(key=key, token=sealed, context=b"user-1") == b"JBSWY3DPEHPK3PXP"
    assert secretbox.open_with_any(keys=[b"\x01" * 32, key], token=sealed, context=b"user-1") == (
        b"JBSWY3DPEHPK3PXP",
        1,
    )


# RFC 4226 appendix D: HOTP of the ASCII seed "12345678901234567890" for counters 0 to 9.
RFC4226_CODES = [
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
]


def test_totp_codes_are_rfc4226_hotp_of_the_step() -> None:
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert [totp.code_at_step(secret=secret, step=n) for n in range(10)] == RFC4226_CODES


def test_pkce_challenge_keeps_every_character_of_the_digest() -> None:
    # A challenge whose last character is "A" (printf %s VERIFIER | openssl dgst -sha256
    # -binary | base64url): stripping more than the "=" padding would cut it.
    verifier = "ankra-pkce-known-answer-vector-000000000005"
    assert pkce.s256_challenge(verifier) == "yu3ERnJbrwFoCzeLILStTeguWh050ma-1I3_jUpdIqA"
    assert pkce.verifier_matches(
        verifier=verifier, challenge="yu3ERnJbrwFoCzeLILStTeguWh050ma-1I3_jUpdIqA"
    )
