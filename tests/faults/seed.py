"""Many users with TOTP, written straight to the database: one argon2 hash shared by all,
so seeding a few hundred takes a second rather than minutes of password hashing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from ankra_auth.accounts.models import User
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.db import make_engine, make_session_factory
from ankra_auth.security import passwords, totp
from ankra_auth.totp import service as totp_service
from tests.helpers import PASSWORD
from tests.live_server import SECRET


@dataclass(frozen=True)
class SeededUser:
    id: str
    email: str
    secret: str
    enrolled_step: int  # spent by the confirmation: sign-ins use a later step


def totp_users(database_url: str, count: int, prefix: str = "seed") -> list[SeededUser]:
    settings = Settings(database_url=database_url, secret_key=SECRET)
    engine = make_engine(settings)
    password_hash = passwords.hash_password(PASSWORD)
    now = datetime.now(UTC)
    seeded = []
    try:
        with make_session_factory(engine)() as db:
            users = [
                User(
                    email=f"{prefix}-{uuid.uuid4().hex[:12]}@example.com",
                    password_hash=password_hash,
                    created_at=now,
                )
                for _ in range(count)
            ]
            db.add_all(users)
            db.commit()
            ctx = RequestContext(now=now, user_agent="fault test seeding")
            for user in users:
                setup = totp_service.start(db, user=user, settings=settings, now=now)
                step = totp.time_step(now)
                totp_service.confirm(
                    db,
                    user=user,
                    code=totp.code_at_step(secret=setup.secret, step=step),
                    settings=settings,
                    ctx=ctx,
                )
                seeded.append(SeededUser(user.id, user.email, setup.secret, step))
    finally:
        engine.dispose()
    return seeded


def plain_users(database_url: str, count: int, prefix: str = "plain") -> list[str]:
    """Users without a second factor (a password sign-in answers a session); their emails."""
    engine = make_engine(Settings(database_url=database_url, secret_key=SECRET))
    password_hash = passwords.hash_password(PASSWORD)
    now = datetime.now(UTC)
    emails = [f"{prefix}-{uuid.uuid4().hex[:12]}@example.com" for _ in range(count)]
    try:
        with make_session_factory(engine)() as db:
            db.add_all(User(email=e, password_hash=password_hash, created_at=now) for e in emails)
            db.commit()
    finally:
        engine.dispose()
    return emails
