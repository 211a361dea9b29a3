"""Small steps that many tests share: sign up, sign in, enroll TOTP with real codes."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ankra_auth.accounts.email_verification import token_for
from ankra_auth.accounts.models import EmailVerification, User
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


def verification_token(db: Session, email: str, secret: bytes) -> str:
    """The token of the newest unused verification link of ``email``'s account, as its mail
    carries it (derived from the link's id with the secret key)."""
    verification = db.scalar(
        select(EmailVerification)
        .join(User, User.id == EmailVerification.user_id)
        .where(User.email == email, EmailVerification.used_at.is_(None))
        .order_by(EmailVerification.created_at.desc(), EmailVerification.id)
    )
    assert verification is not None, f"no verification link for {email}"
    return token_for(secret, verification.id)


def verify_email(
    client: TestClient | httpx.Client, account: Account, *, db: Session, secret: bytes
) -> None:
    """Prove ``account``'s address through the API, with its mail's link (once: a verified
    account is left as it is)."""
    if client.get("/api/v1/me", headers=account.auth).json()["email_verified"]:
        return
    token = verification_token(db, account.email, secret)
    db.rollback()
    r = client.post("/api/v1/me/email/verify", json={"token": token}, headers=account.auth)
    assert r.status_code == 204, r.text


def verify_in_app(client: TestClient, account: Account) -> None:
    """:func:`verify_email` for a test's in-process app (``client.app``)."""
    if client.get("/api/v1/me", headers=account.auth).json()["email_verified"]:
        return
    app = client.app
    with app.state.session_factory() as db:  # type: ignore[attr-defined]
        verify_email(client, account, db=db, secret=app.state.settings.secret)  # type: ignore[attr-defined]
