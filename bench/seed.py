"""Seed a benchmark database directly: users with confirmed TOTP, and pending logins.

Hashing a password per user is out of the question for a million users, so every user
shares ONE precomputed argon2id hash. "Active" users (the ones the load drives) get their
own TOTP secret, sealed with the service's own function and key; "filler" users exist
only to make the tables as large as a big deployment's, and are inserted by PostgreSQL
itself (``INSERT ... SELECT generate_series``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Sequence
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Engine, insert, text

from ankra_auth.accounts.models import User
from ankra_auth.challenges.models import PendingLogin
from ankra_auth.challenges.service import PENDING_TTL
from ankra_auth.config import Settings
from ankra_auth.db import new_id
from ankra_auth.passkeys import ceremonies
from ankra_auth.passkeys.models import Passkey, WebAuthnChallenge
from ankra_auth.recovery_codes import service as recovery_service
from ankra_auth.recovery_codes.models import RecoveryCode
from ankra_auth.security import passwords, tokens
from ankra_auth.security import recovery_codes as recovery
from ankra_auth.totp import service as totp_service
from ankra_auth.totp.models import TotpDevice
from tests.soft_authenticator import SoftCredential

PASSWORD = "bench-password-1"  # noqa: S105 - the benchmark's throwaway accounts
CHUNK = 5000


def password_hash() -> str:
    return passwords.hash_password(PASSWORD)


def user_id(i: int) -> str:
    return f"bench{i:027d}"


def email(i: int) -> str:
    return f"user{i}@bench.example"


def secret(i: int) -> str:
    """A deterministic 160-bit base32 secret per user, so the load generator knows it."""
    digest = hmac.new(b"ankra-bench", str(i).encode(), hashlib.sha1).digest()
    return base64.b32encode(digest).decode()


def seed_active(
    engine: Engine, settings: Settings, *, first: int, count: int, pw_hash: str, now: datetime
) -> None:
    """Users ``first .. first+count-1`` with a confirmed authenticator app."""
    with engine.begin() as conn:
        for start in range(first, first + count, CHUNK):
            ids = range(start, min(start + CHUNK, first + count))
            conn.execute(
                insert(User),
                [
                    {
                        "id": user_id(i),
                        "email": email(i),
                        "password_hash": pw_hash,
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(TotpDevice),
                [
                    {
                        "user_id": user_id(i),
                        # The service's own sealing, so the service can open it.
                        "secret_encrypted": totp_service._seal(settings, user_id(i), secret(i)),
                        "created_at": now,
                        "confirmed_at": now,
                        "last_used_step": None,
                        "label": "Authenticator app",
                    }
                    for i in ids
                ],
            )


def seed_filler_postgres(engine: Engine, *, count: int, pw_hash: str) -> None:
    """``count`` more users with (undecryptable) TOTP devices, generated inside PostgreSQL."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, email, password_hash, created_at) "
                "SELECT md5('filler' || i), 'filler' || i || '@bench.example', :hash, now() "
                "FROM generate_series(1, :n) AS i"
            ),
            {"hash": pw_hash, "n": count},
        )
        conn.execute(
            text(
                "INSERT INTO totp_devices "
                "(user_id, secret_encrypted, created_at, confirmed_at, last_used_step, label) "
                "SELECT md5('filler' || i), 'v1:filler', now(), now(), NULL, 'Authenticator app' "
                "FROM generate_series(1, :n) AS i"
            ),
            {"n": count},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def pending_logins(engine: Engine, users: Sequence[int], *, now: datetime) -> list[str]:
    """A fresh pending login per user; returns their ``mfa_token`` values in order."""
    return [token for _, token in pending_logins_with_ids(engine, users, now=now)]


def pending_logins_with_ids(
    engine: Engine, users: Sequence[int], *, now: datetime
) -> list[tuple[str, str]]:
    """A fresh pending login per user; returns ``(id, mfa_token)`` pairs in order."""
    made = [(new_id(), tokens.new_token()) for _ in users]
    with engine.begin() as conn:
        rows = [
            {
                "id": login_id,
                "user_id": user_id(i),
                "token_hash": tokens.hash_token(token),
                "created_at": now,
                "expires_at": now + PENDING_TTL,
                "failed_attempts": 0,
            }
            for i, (login_id, token) in zip(users, made, strict=True)
        ]
        for start in range(0, len(rows), CHUNK):
            conn.execute(insert(PendingLogin), rows[start : start + CHUNK])
    return made


def forget_used_steps(engine: Engine) -> None:
    """Let every user sign in again in the current time step (a new round of load)."""
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE totp_devices SET last_used_step = NULL WHERE last_used_step IS NOT NULL")
        )


def recovery_codes(
    engine: Engine, settings: Settings, users: Sequence[int], *, now: datetime
) -> list[str]:
    """One fresh recovery code per user (stored as the service stores it); returns the codes."""
    key = recovery_service._key(settings)
    made = [recovery.generate_set(1)[0] for _ in users]
    rows = [
        {
            "id": new_id(),
            "user_id": user_id(i),
            "code_hash": recovery.keyed_hash(
                key=key, user_id=user_id(i), code=recovery.normalize(code) or ""
            ),
            "created_at": now,
        }
        for i, code in zip(users, made, strict=True)
    ]
    with engine.begin() as conn:
        for start in range(0, len(rows), CHUNK):
            conn.execute(insert(RecoveryCode), rows[start : start + CHUNK])
    return made


def credential_id(i: int) -> bytes:
    return hashlib.sha256(f"ankra-bench-credential-{i}".encode()).digest()


def seed_passkeys(
    engine: Engine, *, first: int, count: int, public_key: bytes, now: datetime
) -> None:
    """A passkey per user; all share one key pair (signing stays cheap), ids are distinct."""
    with engine.begin() as conn:
        for start in range(first, first + count, CHUNK):
            conn.execute(
                insert(Passkey),
                [
                    {
                        "id": new_id(),
                        "user_id": user_id(i),
                        "credential_id": credential_id(i),
                        "public_key": public_key,
                        "sign_count": 0,
                        "name": "Bench key",
                        "transports": '["internal"]',
                        "backup_eligible": False,
                        "backed_up": False,
                        "aaguid": "",
                        "created_at": now,
                    }
                    for i in range(start, min(start + CHUNK, first + count))
                ],
            )


def passkey_challenges(engine: Engine, logins: Sequence[str], *, now: datetime) -> list[bytes]:
    """An authentication challenge bound to each pending login (as the options call makes)."""
    made = [os.urandom(32) for _ in logins]
    rows = [
        {
            "id": new_id(),
            "challenge": challenge,
            "purpose": ceremonies.AUTHENTICATION,
            "user_id": None,
            "pending_login_id": login_id,
            "created_at": now,
            "expires_at": now + ceremonies.CHALLENGE_TTL,
        }
        for login_id, challenge in zip(logins, made, strict=True)
    ]
    with engine.begin() as conn:
        for start in range(0, len(rows), CHUNK):
            conn.execute(insert(WebAuthnChallenge), rows[start : start + CHUNK])
    return made


def bench_private_key() -> ec.EllipticCurvePrivateKey:
    """The one P-256 key behind every bench passkey (deterministic: seeding and signing agree)."""
    return ec.derive_private_key(0xA17C4A0B3E5D, ec.SECP256R1())


def bench_public_key() -> bytes:
    """The COSE form stored in ``passkeys.public_key``, as a registration would store it."""
    return SoftCredential(b"", bench_private_key(), b"").cose_public_key()


def passkey_alone_challenges(engine: Engine, count: int, *, now: datetime) -> list[bytes]:
    """Challenges for a passkey alone, stored as ``POST /api/v1/auth/passkey/options``
    stores them (by their hash, no account named)."""
    made = [os.urandom(32) for _ in range(count)]
    rows = [
        {
            "id": new_id(),
            "challenge": ceremonies.sign_in_hash(challenge),
            "purpose": ceremonies.PASSKEY_SIGN_IN,
            "user_id": None,
            "pending_login_id": None,
            "created_at": now,
            "expires_at": now + ceremonies.CHALLENGE_TTL,
        }
        for challenge in made
    ]
    with engine.begin() as conn:
        for start in range(0, len(rows), CHUNK):
            conn.execute(insert(WebAuthnChallenge), rows[start : start + CHUNK])
    return made
