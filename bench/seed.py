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
from datetime import datetime

from sqlalchemy import Engine, insert, text

from ankra_auth.accounts.models import User
from ankra_auth.challenges.models import PendingLogin
from ankra_auth.challenges.service import PENDING_TTL
from ankra_auth.config import Settings
from ankra_auth.db import new_id
from ankra_auth.security import passwords, tokens
from ankra_auth.totp import service as totp_service
from ankra_auth.totp.models import TotpDevice

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


def pending_logins(engine: Engine, users: range, *, now: datetime) -> list[str]:
    """A fresh pending login per user; returns their ``mfa_token`` values in order."""
    made = [tokens.new_token() for _ in users]
    with engine.begin() as conn:
        rows = [
            {
                "id": new_id(),
                "user_id": user_id(i),
                "token_hash": tokens.hash_token(token),
                "created_at": now,
                "expires_at": now + PENDING_TTL,
                "failed_attempts": 0,
            }
            for i, token in zip(users, made, strict=True)
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
