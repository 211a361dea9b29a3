"""Accounts, password checks and sessions."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ankra_auth import comparisons, db_flow
from ankra_auth.accounts import email_verification, throttle
from ankra_auth.accounts.emails import normalize_email
from ankra_auth.accounts.models import AuthSession, User
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.db import new_id
from ankra_auth.device_tokens import service as device_tokens
from ankra_auth.errors import EmailTaken, InvalidCredentials, NotAuthenticated
from ankra_auth.events import service as events
from ankra_auth.events.types import EventType, SignInMethod
from ankra_auth.security import passwords, tokens
from ankra_auth.security.keys import derive_key

REAUTH_WINDOW = timedelta(minutes=10)
LAST_SEEN_EVERY = timedelta(minutes=1)


def create_user(
    db: Session, *, email: str, password: str, settings: Settings, now: datetime
) -> User:
    """A new account with an unverified address, and the mail with its verification link,
    committed together."""
    user = User(
        email=normalize_email(email),
        password_hash=passwords.hash_password(password),
        created_at=now,
    )
    db.add(user)
    try:
        db.flush()
        email_verification.start(
            db, user_id=user.id, email=user.email, secret=settings.secret, now=now
        )
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
    valid token of this account (and not void), else on the email's own budget.

    Either way it is reserved before argon2 runs, by the statement that checks the
    budget (``throttle.admit``), and settled once the password is checked.
    """
    user = find_user_by_email(db, email)
    token_id = None
    if user is not None:
        token_id = device_tokens.valid_id(db, token=device_token, user_id=user.id, now=ctx.now)
    db.commit()
    return db_flow.run(
        db,
        _password_attempt(
            db.get_bind().dialect.name,
            settings=settings,
            ctx=ctx,
            email=email,
            password=password,
            user=user,
            token_id=token_id,
        ),
    )


def _password_attempt(
    dialect: str,
    *,
    settings: Settings,
    ctx: RequestContext,
    email: str,
    password: str,
    user: User | None,
    token_id: str | None,
) -> db_flow.Flow[PasswordChecked]:
    own_key = _password_throttle_key(settings, email)
    keys = [own_key] if token_id is None else [throttle.token_key(token_id), own_key]
    # A backoff begun under a previous secret key holds (its key was keyed by that secret).
    earlier = [_password_throttle_key(settings, email, master) for master in settings.secrets[1:]]
    yield from throttle.not_backing_off(earlier, ctx.now)
    key = yield from throttle.admit(dialect, keys, ctx.now)
    # The reservation is committed before the slow hash, and no connection is held
    # while it waits for a hashing slot: a login storm must not exhaust the pool.
    yield db_flow.Commit()
    limits = throttle.params(ctx.now)
    comparisons.note("password", key)
    if passwords.verify_password(
        password_hash=user.password_hash if user else None, password=password
    ):
        assert user is not None  # noqa: S101 - verify_password fails without a hash
        # A device token keeps its count: the second factor still counts there.
        settle = throttle.RELEASE if throttle.voids(key) else throttle.SETTLE_RIGHT
        yield db_flow.Run(settle, {"counter": key, **limits})
        yield db_flow.Commit()
        return PasswordChecked(user=user, device_token_id=token_id if key != own_key else None)
    failures = (yield db_flow.Run(throttle.settle_wrong(key), {"counter": key, **limits})).failures
    counted: list[tuple[EventType, SignInMethod | None]] = []
    if user is not None:
        counted.append((events.PASSWORD_FAILED, "password"))
        # One event per backoff window, however many attempts it refuses.
        if key == own_key and throttle.starts_backoff(failures):
            counted.append((events.THROTTLED, "password"))
        for type_, method in counted:
            row = events.row(user_id=user.id, type=type_, method=method, ctx=ctx, detail=None)
            yield events.insert_run(row)
    yield db_flow.Commit(tuple(counted))
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
    passkey_at: datetime | None = None,
) -> IssuedSession:
    """A new session (added, not committed); ``method`` is how it signed in, ``verified_at``
    its last password or second-factor check (``ctx.now`` for a user who just proved it),
    ``passkey_at`` when it last proved a passkey (None: it did not)."""
    token, values = new_session_values(
        user_id=user_id,
        ctx=ctx,
        method=method,
        expires_at=expires_at,
        verified_at=verified_at,
        passkey_at=passkey_at,
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
    passkey_at: datetime | None = None,
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
        "passkey_at": passkey_at,
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
    if session.revoked_at is not None or session.expires_at <= now or user.closed_at is not None:
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
