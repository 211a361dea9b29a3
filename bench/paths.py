"""The paths measured, and each phase's requests: distinct pending logins with their proofs.

Every request of a phase is a different pending login (inserted directly, its token
stored hashed as the service does) with its correct proof: the TOTP code of the current
step, a freshly stored recovery code, or a passkey assertion signed (ECDSA P-256,
tests/soft_authenticator.py) over the login's own challenge.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import seed
from options import Options
from sqlalchemy import Engine
from wrk import Job, write_jobs

from ankra_auth.clock import SystemClock
from ankra_auth.config import Settings
from ankra_auth.passkeys.service import user_handle
from ankra_auth.security import totp
from tests.soft_authenticator import SoftAuthenticator, SoftCredential, b64url

TOTP = "/api/v1/auth/mfa/totp"
RECOVERY = "/api/v1/auth/mfa/recovery-code"
PASSKEY = "/api/v1/auth/mfa/passkey"
PASSKEY_ALONE = "/api/v1/auth/passkey"
SYNC_PREFIX = "/sync"  # bench/bare_app.py's sync reference answers under it

# The service's paths, in the order measured.
PATHS = ("totp", "recovery", "passkey", "passkey_alone")
LABELS = {
    "bare": "async FastAPI POST (same body): reference",
    "bare_sync": "sync FastAPI POST (same body, threadpool)",
    "totp": "POST /auth/mfa/totp",
    "recovery": "POST /auth/mfa/recovery-code",
    "passkey": "POST /auth/mfa/passkey (second step)",
    "passkey_alone": "POST /auth/passkey (passkey alone)",
}


class Users:
    """Hands out users in order, so no user serves two requests within one phase."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.next = 0

    def take(self, n: int) -> list[int]:
        n = min(n, self.count)
        if self.next + n > self.count:
            self.next = 0
        taken = list(range(self.next, self.next + n))
        self.next += n
        return taken


class Workloads:
    """Pre-creates each phase's requests: distinct pending logins with their correct proofs."""

    def __init__(self, engine: Engine, settings: Settings, opts: Options) -> None:
        self.engine = engine
        self.settings = settings
        self.opts = opts
        self.sign_count = 0
        self.authenticator = SoftAuthenticator(origin=settings.public_origin, counts=True)
        self.key = SoftCredential(b"", seed.bench_private_key(), b"")

    def path(self, name: str) -> Path:
        return self.opts.workdir / f"{name}.tsv"

    def _bare(self, name: str, prefix: str, n: int) -> Path:
        jobs = (
            ("POST", prefix + TOTP, {"mfa_token": f"bare-{i:040d}", "code": f"{i % 10**6:06d}"})
            for i in range(n)
        )
        return write_jobs(self.path(name), jobs)

    def bare(self, n: int) -> Path:
        return self._bare("bare", "", n)

    def bare_sync(self, n: int) -> Path:
        return self._bare("bare_sync", SYNC_PREFIX, n)

    def totp(self, users: Sequence[int]) -> Path:
        seed.forget_used_steps(self.engine)  # a user may sign in again in this time step
        now = SystemClock().now()
        tokens = seed.pending_logins(self.engine, users, now=now)
        step = totp.time_step(now)
        jobs = (
            (
                "POST",
                TOTP,
                {"mfa_token": t, "code": totp.code_at_step(secret=seed.secret(i), step=step)},
            )
            for i, t in zip(users, tokens, strict=True)
        )
        return write_jobs(self.path("totp"), jobs)

    def recovery(self, users: Sequence[int]) -> Path:
        now = SystemClock().now()
        tokens = seed.pending_logins(self.engine, users, now=now)
        codes = seed.recovery_codes(self.engine, self.settings, users, now=now)
        jobs = (
            ("POST", RECOVERY, {"mfa_token": t, "code": c})
            for t, c in zip(tokens, codes, strict=True)
        )
        return write_jobs(self.path("recovery"), jobs)

    def _assertion(self, i: int, challenge: bytes) -> dict[str, Any]:
        cid = seed.credential_id(i)
        self.authenticator.credentials[cid] = SoftCredential(
            cid, self.key.private_key, user_handle(seed.user_id(i))
        )
        options = {"challenge": b64url(challenge), "rpId": self.settings.effective_rp_id}
        assertion = self.authenticator.get(options, credential_id=cid, sign_count=self.sign_count)
        del self.authenticator.credentials[cid]
        return assertion

    def passkey(self, users: Sequence[int]) -> Path:
        now = SystemClock().now()
        logins = seed.pending_logins_with_ids(self.engine, users, now=now)
        challenges = seed.passkey_challenges(self.engine, [i for i, _ in logins], now=now)
        self.sign_count += 1  # above every count stored so far: the key counts

        def jobs() -> Iterator[Job]:
            for i, (_, token), challenge in zip(users, logins, challenges, strict=True):
                body = {"mfa_token": token, "credential": self._assertion(i, challenge)}
                yield "POST", PASSKEY, body

        return write_jobs(self.path("passkey"), jobs())

    def passkey_alone(self, users: Sequence[int]) -> Path:
        """``POST /api/v1/auth/passkey``: an assertion (user verified) over a challenge
        stored as ``POST /api/v1/auth/passkey/options`` stores it; no password, no
        pending login."""
        now = SystemClock().now()
        challenges = seed.passkey_alone_challenges(self.engine, len(users), now=now)
        self.sign_count += 1

        def jobs() -> Iterator[Job]:
            for i, challenge in zip(users, challenges, strict=True):
                yield "POST", PASSKEY_ALONE, {"credential": self._assertion(i, challenge)}

        return write_jobs(self.path("passkey_alone"), jobs())

    def logins(self, users: Sequence[int]) -> Path:
        body = {"password": seed.PASSWORD}
        jobs = (("POST", "/api/v1/auth/login", {"email": seed.email(i), **body}) for i in users)
        return write_jobs(self.path("logins"), jobs)
