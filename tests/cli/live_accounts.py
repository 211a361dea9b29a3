"""Accounts on a real service process, with TOTP codes from the real clock."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyotp

PASSWORD = "correct horse battery"


@dataclass
class LiveAccount:
    base: str
    email: str
    token: str = ""
    totp_secret: str = ""
    recovery_codes: list[str] = field(default_factory=list)
    last_step: int = -1

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def next_code(self) -> str:
        """A code the server accepts now and that was not used yet (each step works once).

        The current step, or the next one (accepted as clock drift); waits for the real
        clock only when both were used already.
        """
        while True:
            now = int(time.time()) // 30
            step = max(now, self.last_step + 1)
            if step <= now + 1:
                self.last_step = step
                return str(pyotp.TOTP(self.totp_secret).generate_otp(step))
            time.sleep(0.5)

    def get(self, path: str) -> Any:
        r = httpx.get(f"{self.base}{path}", headers=self.auth)
        assert r.status_code == 200, r.text
        return r.json()


def sign_up(base: str, email: str | None = None) -> LiveAccount:
    account = LiveAccount(base=base, email=email or f"{uuid.uuid4().hex[:10]}@example.com")
    r = httpx.post(f"{base}/api/v1/users", json={"email": account.email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    r = httpx.post(f"{base}/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
    assert r.status_code == 200 and r.json()["status"] == "authenticated", r.text
    account.token = r.json()["access_token"]
    return account


def enroll_totp(account: LiveAccount) -> LiveAccount:
    r = httpx.post(f"{account.base}/api/v1/profile/auth/totp", headers=account.auth)
    assert r.status_code == 201, r.text
    account.totp_secret = r.json()["secret"]
    r = httpx.post(
        f"{account.base}/api/v1/profile/auth/totp/confirm",
        json={"code": account.next_code()},
        headers=account.auth,
    )
    assert r.status_code == 200, r.text
    account.recovery_codes = r.json()["recovery_codes"]
    return account


def start_login(account: LiveAccount) -> str:
    r = httpx.post(
        f"{account.base}/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert r.status_code == 200 and r.json()["status"] == "mfa_required", r.text
    return str(r.json()["mfa_token"])


def verify_email(account: LiveAccount) -> LiveAccount:
    """Prove the account's address with the link its verification mail carries (read from
    the service's database, derived with the tests' secret key, as the mail has it)."""
    from ankra_auth.config import Settings
    from ankra_auth.db import make_engine, make_session_factory
    from tests.helpers import verification_token
    from tests.live_server import DATABASES, SECRET

    engine = make_engine(Settings(database_url=DATABASES[account.base], secret_key=SECRET))
    try:
        with make_session_factory(engine)() as db:
            token = verification_token(db, account.email, SECRET.encode())
    finally:
        engine.dispose()
    r = httpx.post(
        f"{account.base}/api/v1/me/email/verify", json={"token": token}, headers=account.auth
    )
    assert r.status_code == 204, r.text
    return account
