"""The contract's numbers in the security core: alphabets, lengths, token sizes, argon2's cost.

SPEC.md "Numbers": recovery codes are 10 Crockford base32 characters shown as XXXXX-XXXXX,
case-insensitive with dashes and spaces ignored; a TOTP code is 6 digits once spaces are
removed; TOTP secrets are 160 bits; tokens carry at least 128 bits (ours carry 256).
"""

from __future__ import annotations

import base64
import re
import string
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from ankra_auth.security import passwords, recovery_codes, secretbox, tokens, totp

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U
AT = datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)


# Recovery codes


def test_recovery_code_alphabet_and_sizes_are_the_contracts() -> None:
    assert recovery_codes.ALPHABET == CROCKFORD
    assert (recovery_codes.CODE_LENGTH, recovery_codes.SET_SIZE) == (10, 10)


def test_a_set_is_ten_distinct_codes_drawn_from_the_whole_alphabet() -> None:
    shape = re.compile(f"[{CROCKFORD}]{{5}}-[{CROCKFORD}]{{5}}")
    seen: set[str] = set()
    for _ in range(20):
        codes = recovery_codes.generate_set()
        assert len(codes) == 10 and len(set(codes)) == 10
        assert all(shape.fullmatch(code) for code in codes)
        seen.update(ch for code in codes for ch in code.replace("-", ""))
    # 2,000 draws: a character missing by chance has odds of about e**-62.
    assert seen == set(CROCKFORD)
    assert len(recovery_codes.generate_set(3)) == 3


@pytest.mark.parametrize("ch", CROCKFORD)
def test_every_alphabet_character_survives_normalize(ch: str) -> None:
    code = ch * 10
    for typed in (code, code.lower(), f"{ch * 5}-{ch * 5}", " ".join(code), f"\t{code} "):
        assert recovery_codes.normalize(typed) == code


def test_normalize_reads_crockfords_look_alikes_and_refuses_the_rest() -> None:
    assert recovery_codes.normalize("OoIiLl-0000") == "0011110000"
    accepted = set(CROCKFORD + CROCKFORD.lower() + "OoIiLl- \t")
    for ch in sorted(set(string.printable) - accepted) + ["É", "Ｚ"]:
        assert recovery_codes.normalize("00000-0000" + ch) is None, repr(ch)
    for typed in ("", "-----", "0000-0000", "00000-000000", "0" * 11):
        assert recovery_codes.normalize(typed) is None, typed


# TOTP


def test_totp_numbers_are_the_contracts() -> None:
    assert (totp.DIGITS, totp.STEP_SECONDS, totp.DRIFT_STEPS) == (6, 30, 1)
    secrets = {totp.new_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert re.fullmatch("[A-Z2-7]{32}", secret) and len(base64.b32decode(secret)) == 20


@pytest.mark.parametrize("spaced", ["{0} {1}", "{0}  {1}", " {0}{1} ", "{0}\t{1}", "{0}\u00a0{1}"])
def test_a_totp_code_typed_with_spaces_is_accepted(spaced: str) -> None:
    secret = totp.new_secret()
    code = totp.code_at_step(secret=secret, step=totp.time_step(AT))
    typed = spaced.format(code[:3], code[3:])
    assert totp.matching_step(secret=secret, code=typed, at=AT) == totp.time_step(AT)


def test_a_totp_code_with_a_dash_is_not_six_digits() -> None:
    # The contract forgives spaces only; "123-456" is malformed (422, no attempt spent).
    secret = totp.new_secret()
    code = totp.code_at_step(secret=secret, step=totp.time_step(AT))
    assert totp.matching_step(secret=secret, code=f"{code[:3]}-{code[3:]}", at=AT) is None


# Tokens and sealed secrets


def test_tokens_carry_256_random_bits_url_safe() -> None:
    issued = {tokens.new_token() for _ in range(50)}
    assert len(issued) == 50
    for token in issued:
        assert re.fullmatch("[A-Za-z0-9_-]{43}", token)
        assert len(base64.urlsafe_b64decode(token + "=")) * 8 == 256  # >= 128 (the contract)


def test_every_seal_draws_a_fresh_96_bit_nonce() -> None:
    key = b"k" * 32
    sealed = [secretbox.seal(key=key, plaintext=b"JBSWY3DP", context=b"user-1") for _ in range(50)]
    assert len(set(sealed)) == 50  # the same plaintext never seals the same way twice
    raw = [base64.urlsafe_b64decode(token.removeprefix("v1:")) for token in sealed]
    nonces = {r[:12] for r in raw}
    assert len(nonces) == 50
    assert {len(r) for r in raw} == {12 + len(b"JBSWY3DP") + 16}  # nonce, ciphertext, GCM tag


def test_an_unknown_format_or_a_tampered_token_is_refused_in_words() -> None:
    key = b"k" * 32
    sealed = secretbox.seal(key=key, plaintext=b"JBSWY3DP", context=b"user-1")
    with pytest.raises(ValueError, match="^unknown secretbox version$"):
        secretbox.open_sealed(key=key, token="v2" + sealed.removeprefix("v1"), context=b"user-1")
    flipped = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
    with pytest.raises(ValueError, match="^secret could not be decrypted$"):
        secretbox.open_sealed(key=key, token=flipped, context=b"user-1")
    with pytest.raises(ValueError, match="^secret could not be decrypted with any key$"):
        secretbox.open_with_any(keys=[], token=sealed, context=b"user-1")


# Passwords


def argon2_fields(encoded: str) -> dict[str, str]:
    """``$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH`` as its named parts."""
    _, variant, version, params, salt, digest = encoded.split("$")
    fields = dict(pair.split("=") for pair in f"{version},{params}".split(","))
    return {"variant": variant, "salt": salt, "hash": digest, **fields}


def unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def test_passwords_are_argon2id_at_owasps_minimum_cost_or_above() -> None:
    fields = argon2_fields(passwords.hash_password("correct horse battery staple"))
    assert (fields["variant"], fields["v"]) == ("argon2id", "19")
    # OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 degree of parallelism.
    assert int(fields["m"]) >= 19 * 1024 and int(fields["t"]) >= 2 and int(fields["p"]) >= 1
    assert len(unb64(fields["salt"])) >= 16 and len(unb64(fields["hash"])) >= 32
    other = argon2_fields(passwords.hash_password("correct horse battery staple"))
    assert other["salt"] != fields["salt"]


def test_verify_password() -> None:
    stored = passwords.hash_password("correct horse battery staple")
    assert passwords.verify_password(password_hash=stored, password="correct horse battery staple")
    assert not passwords.verify_password(
        password_hash=stored, password="Correct horse battery staple"
    )
    assert not passwords.verify_password(password_hash="not a hash", password="x")
    corrupt = stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB")
    assert not passwords.verify_password(
        password_hash=corrupt, password="correct horse battery staple"
    )


@pytest.fixture
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, tuple[Any, ...]]]:
    """Every argon2 hash and verify, with the thread it ran on; the real work still runs."""
    calls: list[tuple[str, str, tuple[Any, ...]]] = []

    def spy(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(self: PasswordHasher, *args: Any) -> Any:
            calls.append((name, threading.current_thread().name, args))
            return real(self, *args)

        return recorded

    for name in ("hash", "verify"):
        monkeypatch.setattr(PasswordHasher, name, spy(name, getattr(PasswordHasher, name)))
    return calls


def test_an_account_without_a_password_burns_one_argon2_verify_and_fails(
    argon2_calls: list[tuple[str, str, tuple[Any, ...]]],
) -> None:
    # The dummy hash's own password must not open such an account either.
    for typed in ("anything", "ankra-dummy-password-for-timing"):
        argon2_calls.clear()
        assert not passwords.verify_password(password_hash=None, password=typed)
        [(name, _, (dummy, password))] = argon2_calls
        assert (name, password) == ("verify", typed)
        assert argon2_fields(dummy)["variant"] == "argon2id"


@pytest.fixture
def restore_concurrency() -> Iterator[None]:
    before = passwords.concurrency()
    yield
    passwords.set_concurrency(before)


@pytest.mark.usefixtures("restore_concurrency")
def test_hashes_run_on_the_bounded_argon2_pool(
    argon2_calls: list[tuple[str, str, tuple[Any, ...]]],
) -> None:
    passwords.set_concurrency(3)
    assert passwords.concurrency() == 3
    passwords.set_concurrency(3)  # unchanged: the same pool
    assert passwords.concurrency() == 3
    stored = passwords.hash_password("pw")
    passwords.verify_password(password_hash=stored, password="pw")
    threads = [thread for _, thread, _ in argon2_calls]
    assert len(threads) == 2 and all(t.startswith("argon2_") for t in threads), threads
    passwords.set_concurrency(1)
    assert passwords.concurrency() == 1


@pytest.mark.usefixtures("restore_concurrency")
def test_the_bound_is_how_many_hashes_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # What is bounded is argon2 work in flight (19 MiB each), not a number the module keeps.
    bound = 3
    passwords.set_concurrency(bound)
    guard, release = threading.Lock(), threading.Event()
    inside, peak = [0], [0]
    reached = threading.Event()
    real = PasswordHasher.hash

    def held(self: PasswordHasher, password: str) -> str:
        with guard:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
            if inside[0] == bound:
                reached.set()
        release.wait(30)
        with guard:
            inside[0] -= 1
        return real(self, password)

    monkeypatch.setattr(PasswordHasher, "hash", held)
    hashing = [threading.Thread(target=passwords.hash_password, args=("pw",)) for _ in range(5)]
    for thread in hashing[:bound]:
        thread.start()
    try:
        assert reached.wait(10), f"only {peak[0]} of {bound} hashes ran at once"
        for thread in hashing[bound:]:
            thread.start()
        time.sleep(0.2)  # room for a hash the bound should hold back to start anyway
    finally:
        release.set()
        for thread in hashing:
            if thread.ident is not None:  # started
                thread.join(30)
    assert peak[0] == bound


@pytest.mark.usefixtures("restore_concurrency")
def test_a_new_bound_does_not_wait_for_hashes_in_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    # Another app in the process (a test, a second create_app) may change the bound while a
    # sign-in hashes; the change must not block behind that hash.
    started, release = threading.Event(), threading.Event()
    real = PasswordHasher.hash

    def held(self: PasswordHasher, password: str) -> str:
        started.set()
        release.wait(30)
        return real(self, password)

    monkeypatch.setattr(PasswordHasher, "hash", held)
    hashing = threading.Thread(target=passwords.hash_password, args=("pw",))
    hashing.start()
    try:
        while not started.wait(0.01):  # the hash is held in the pool (or never got there)
            assert hashing.is_alive(), "hash_password did not reach argon2"
        changing = threading.Thread(target=passwords.set_concurrency, args=(4,))
        changing.start()
        changing.join(5)
        assert not changing.is_alive(), "set_concurrency waited for a hash in flight"
        assert passwords.concurrency() == 4
    finally:
        release.set()
        hashing.join(30)


@pytest.mark.usefixtures("restore_concurrency")
def test_the_app_bounds_the_pool_by_password_hash_concurrency(tmp_path: Path) -> None:
    from ankra_auth.app import create_app
    from ankra_auth.config import Settings

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'a.db'}", secret_key="x", password_hash_concurrency=5
    )
    create_app(settings)
    assert passwords.concurrency() == 5
