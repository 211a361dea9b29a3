"""Small steps that many tests share: sign up, sign in, enroll TOTP with real codes."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi.testclient import TestClient

from ankra_auth.clock import FrozenClock
from ankra_auth.security import totp

PASSWORD = "correct horse battery"
T = TypeVar("T")


def run_on_a_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a thread of its own: Playwright's sync API, used by other tests
    in this process, leaves an event loop running on the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@dataclass
class Account:
    email: str
    password: str = PASSWORD
    token: str = ""
    totp_secret: str = ""
    recovery_codes: list[str] = field(default_factory=list)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def code_now(secret: str, clock: FrozenClock, offset_steps: int = 0) -> str:
    return totp.code_at_step(secret=secret, step=totp.time_step(clock.now()) + offset_steps)


def sign_up(client: TestClient, email: str = "alice@example.com") -> Account:
    account = Account(email=email)
    r = client.post("/api/v1/users", json={"email": email, "password": account.password})
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/auth/login", json={"email": email, "password": account.password})
    assert r.status_code == 200 and r.json()["status"] == "authenticated", r.text
    account.token = r.json()["access_token"]
    return account


def enroll_totp(client: TestClient, account: Account, clock: FrozenClock) -> None:
    r = client.post("/api/v1/profile/auth/totp", headers=account.auth)
    assert r.status_code == 201, r.text
    account.totp_secret = r.json()["secret"]
    r = client.post(
        "/api/v1/profile/auth/totp/confirm",
        json={"code": code_now(account.totp_secret, clock)},
        headers=account.auth,
    )
    assert r.status_code == 200, r.text
    account.recovery_codes = r.json()["recovery_codes"] or []
    clock.advance(30)  # the confirming step is spent; sign-ins use the next one


def start_login(client: TestClient, account: Account) -> dict[str, Any]:
    r = client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body
