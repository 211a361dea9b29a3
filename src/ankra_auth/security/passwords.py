"""argon2id password hashing, bounded so a login storm cannot exhaust memory."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP's argon2id minimum: 19 MiB, 2 iterations, 1 lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Hashes run on a few dedicated threads rather than on whichever request thread asks:
# that bounds both concurrent 19 MiB buffers and the malloc arenas that keep them.
_limit = 2
_workers = ThreadPoolExecutor(max_workers=_limit, thread_name_prefix="argon2")
# Verified against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash("ankra-dummy-password-for-timing")


def set_concurrency(limit: int) -> None:
    """How many hashes may run at once per process (each takes 19 MiB)."""
    global _workers, _limit
    if limit != _limit:
        previous, _workers, _limit = (
            _workers,
            ThreadPoolExecutor(max_workers=limit, thread_name_prefix="argon2"),
            limit,
        )
        previous.shutdown(wait=False)


def concurrency() -> int:
    """How many hashes may run at once now (what :func:`set_concurrency` last set)."""
    return _limit


def hash_password(password: str) -> str:
    return _workers.submit(_hasher.hash, password).result()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_password(*, password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a ``None`` hash burns the same time and fails."""
    matched = _workers.submit(_verify, password_hash or _DUMMY_HASH, password).result()
    return matched and password_hash is not None
