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
from ankra_auth.db import new_id
from ankra_auth.device_tokens import service as device_tokens
from ankra_auth.errors import EmailTaken, InvalidCredentials, NotAuthenticated
from ankra_auth.events import service as events
from ankra_auth.events.types import SignInMethod
from ankra_auth.security import passwords, tokens
from ankra_auth.security.keys import derive_key

REAUTH_WINDOW = timedelta(minutes=10)
LAST_SEEN_EVERY = timedelta(minutes=1)


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


def _password_throttle_key(settings: Settings, email: str, master: bytes | None = None) -> str:
    key = derive_key(master=master or settings.secret, purpose="ankra/password-throttle")
    digest = hmac.new(key, normalize_email(email).encode(), hashlib.sha256).hexdigest()
    return f"pw:{digest[:64]}"


def check_password(
    db: Session, *, settings: Settings, ctx: RequestContext, email: str, password: str
) -> User:
    """The user whose email and password these are.

    Raises :class:`InvalidCredentials` (the same for an unknown email) or
    :class:`RateLimited` while the email is backing off after repeated failures.
    """
    checked = check_sign_in_password(
        db, settings=settings, ctx=ctx, email=email, password=password, device_token=None
    )
    return checked.user


@dataclass(frozen=True, slots=True)
class PasswordChecked:
    user: User
    # The device token the attempt was counted on (a valid one of this account), if any.
    device_token_id: str | None


def check_sign_in_password(
    db: Session,
    *,
    settings: Settings,
    ctx: RequestContext,
    email: str,
    password: str,
    device_token: str | None,
) -> PasswordChecked:
    """Like :func:`check_password`; the attempt counts on ``device_token`` when it is a
    valid token of this account, else on the email's throttle.

    Either way the attempt is counted before argon2 runs, in the statement that
    checks the budget, and taken back when the password is right.
    """
    user = find_user_by_email(db, email)
    token_id = None
    if device_token is not None and user is not None:
        token_id = device_tokens.count_attempt(db, token=device_token, user_id=user.id, now=ctx.now)
    reservation = None
    if token_id is None:
        for master in settings.secrets[1:]:  # a backoff begun under a previous secret key holds
            key = _password_throttle_key(settings, email, master=master)
            throttle.refuse_while_blocked(db, key=key, now=ctx.now)
        reservation = throttle.reserve(db, key=_password_throttle_key(settings, email), now=ctx.now)
    # End the read transaction before the slow hash: a login storm must not hold
    # every pooled connection while it waits for a hashing slot.
    db.commit()
    if passwords.verify_password(
        password_hash=user.password_hash if user else None, password=password
    ):
        assert user is not None  # noqa: S101 - verify_password fails without a hash
        if reservation is not None:
            throttle.reset(db, key=reservation.key)
        elif token_id is not None:
            # Only taken back, not reset: the second factor still counts on this token.
            device_tokens.release(db, token_id=token_id)
        db.commit()
        return PasswordChecked(user=user, device_token_id=token_id)
    if user is not None:
        events.record(db, user_id=user.id, type=events.PASSWORD_FAILED, method="password", ctx=ctx)
        if reservation is not None and reservation.starts_backoff:
            # One event per backoff window, however many attempts it refuses.
            events.record(db, user_id=user.id, type=events.THROTTLED, method="password", ctx=ctx)
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
    ctx: RequestContext,
    method: SignInMethod,
    expires_at: datetime,
    verified_at: datetime | None = None,
) -> IssuedSession:
    """A new session (added, not committed); ``method`` is how it signed in, ``verified_at``
    its last password or second-factor check (``ctx.now`` for a user who just proved it)."""
    token, values = new_session_values(
        user_id=user_id, ctx=ctx, method=method, expires_at=expires_at, verified_at=verified_at
    )
    session = AuthSession(**values)
    db.add(session)
    return IssuedSession(token, session)


def new_session_values(
    *,
    user_id: str,
    ctx: RequestContext,
    method: SignInMethod,
    expires_at: datetime,
    verified_at: datetime | None = None,
) -> tuple[str, dict[str, object]]:
    """A new session's token and the row that stores it (for a Core insert on the hot path)."""
    token = tokens.new_token()
    return token, {
        "id": new_id(),
        "user_id": user_id,
        "token_hash": tokens.hash_token(token),
        "created_at": ctx.now,
        "expires_at": expires_at,
        "verified_at": verified_at or ctx.now,
        "method": method,
        "ip": ctx.ip,
        "user_agent": ctx.stored_user_agent,
        "last_seen_at": ctx.now,
        "revoked_at": None,
    }


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
    if session.last_seen_at is None or now - session.last_seen_at >= LAST_SEEN_EVERY:
        _touch(db, session=session, now=now)
    return session, user


def _touch(db: Session, *, session: AuthSession, now: datetime) -> None:
    """Record activity, at most once a minute per session (the contract lets it lag).

    Its own short transaction, before the request's work starts; the condition makes
    concurrent requests of one session write it once.
    """
    db.execute(
        update(AuthSession)
        .where(
            AuthSession.id == session.id,
            (AuthSession.last_seen_at.is_(None))
            | (AuthSession.last_seen_at <= now - LAST_SEEN_EVERY),
        )
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    db.commit()
    session.last_seen_at = now


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
