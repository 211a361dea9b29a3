"""Accounts, password checks and sessions."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ankra_auth.accounts import throttle
from ankra_auth.accounts.emails import normalize_email
from ankra_auth.accounts.models import AuthSession, User
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.errors import EmailTaken, InvalidCredentials, NotAuthenticated
from ankra_auth.events import service as events
from ankra_auth.security import passwords, tokens
from ankra_auth.security.keys import derive_key

REAUTH_WINDOW = timedelta(minutes=10)


def create_user(db: Session, *, email: str, password: str, now: datetime) -> User:
    user = User(
        email=normalize_email(email),
        password_hash=passwords.hash_password(password),
        created_at=now,
    )
    db.add(user)
    try:
        db.commit()
    except IntegrityError as exc:
        db.rollback()
        raise EmailTaken("An account with this email already exists") from exc
    return user


def find_user_by_email(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == normalize_email(email)))


def _password_throttle_key(settings: Settings, email: str) -> str:
    key = derive_key(master=settings.secret, purpose="ankra/password-throttle")
    digest = hmac.new(key, normalize_email(email).encode(), hashlib.sha256).hexdigest()
    return f"pw:{digest[:64]}"


def check_password(
    db: Session, *, settings: Settings, ctx: RequestContext, email: str, password: str
) -> User:
    """The user whose email and password these are.

    Raises :class:`InvalidCredentials` (the same for an unknown email) or
    :class:`RateLimited` while the email is backing off after repeated failures.
    """
    key = _password_throttle_key(settings, email)
    earlier_failures = throttle.check(db, key=key, now=ctx.now)
    user = find_user_by_email(db, email)
    # End the read transaction before the slow hash: a login storm must not hold
    # every pooled connection while it waits for a hashing slot.
    db.commit()
    if passwords.verify_password(
        password_hash=user.password_hash if user else None, password=password
    ):
        assert user is not None  # noqa: S101 - verify_password fails without a hash
        if earlier_failures:
            throttle.reset(db, key=key)
            db.commit()
        return user
    throttle.record_failure(db, key=key, now=ctx.now)
    if user is not None:
        events.record(db, user_id=user.id, type=events.PASSWORD_FAILED, method="password", ctx=ctx)
    db.commit()
    raise InvalidCredentials("Wrong email or password")


@dataclass(frozen=True, slots=True)
class IssuedSession:
    token: str
    session: AuthSession


def issue_session(
    db: Session,
    *,
    user_id: str,
    now: datetime,
    expires_at: datetime,
    verified_at: datetime | None = None,
) -> IssuedSession:
    """A new session (added, not committed); ``verified_at`` is its last password or
    second-factor check, ``now`` for a user who just proved who they are."""
    token = tokens.new_token()
    session = AuthSession(
        user_id=user_id,
        token_hash=tokens.hash_token(token),
        created_at=now,
        expires_at=expires_at,
        verified_at=verified_at or now,
    )
    db.add(session)
    return IssuedSession(token, session)


def resolve_session(db: Session, *, token: str, now: datetime) -> tuple[AuthSession, User]:
    row = db.execute(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == tokens.hash_token(token))
    ).first()
    if row is None:
        raise NotAuthenticated("Sign in to continue")
    session, user = row
    if session.revoked_at is not None or session.expires_at <= now:
        raise NotAuthenticated("Your session has ended: sign in again")
    return session, user


def reauthenticate(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    session: AuthSession,
    user: User,
    password: str,
) -> None:
    check_password(db, settings=settings, ctx=ctx, email=user.email, password=password)
    db.execute(update(AuthSession).where(AuthSession.id == session.id).values(verified_at=ctx.now))
    events.record(db, user_id=user.id, type=events.REAUTHENTICATED, method="password", ctx=ctx)
    db.commit()


def recently_verified(session: AuthSession, now: datetime) -> bool:
    return now - session.verified_at <= REAUTH_WINDOW


def revoke_session(db: Session, *, session: AuthSession, ctx: RequestContext) -> None:
    db.execute(
        update(AuthSession)
        .where(AuthSession.id == session.id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=ctx.now)
    )
    events.record(db, user_id=session.user_id, type=events.SIGN_OUT, ctx=ctx)
    db.commit()


def set_password(db: Session, *, user: User, password: str) -> None:
    db.execute(
        update(User)
        .where(User.id == user.id)
        .values(password_hash=passwords.hash_password(password))
    )
    db.commit()
