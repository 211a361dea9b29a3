"""argon2id password hashing, bounded so a login storm cannot exhaust memory."""

from __future__ import annotations

import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP's argon2id minimum: 19 MiB, 2 iterations, 1 lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_slots = threading.BoundedSemaphore(2)
# Verified against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash("ankra-dummy-password-for-timing")


def set_concurrency(limit: int) -> None:
    """How many hashes may run at once (each takes 19 MiB)."""
    global _slots
    _slots = threading.BoundedSemaphore(limit)


def hash_password(password: str) -> str:
    with _slots:
        return _hasher.hash(password)


def verify_password(*, password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a ``None`` hash burns the same time and fails."""
    with _slots:
        try:
            _hasher.verify(password_hash or _DUMMY_HASH, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    return password_hash is not None
