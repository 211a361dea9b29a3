from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ankra_auth.db import Base, UTCDateTime, new_id
from ankra_auth.events.types import SignInMethod


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # None for an account created by single sign-on: no password ever matches it.
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When its owner proved the address (a link from the verification mail, or a provider's
    # ``email_verified``); None while unproven: such an address is trusted for nothing.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The first complete sign-in: a later one from an unknown device is news to the owner.
    first_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # An unverified account closed because its address was proved by someone else.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EmailVerification(Base):
    """A link sent to prove an address; only the SHA-256 of its token is stored."""

    __tablename__ = "email_verifications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The address the link proves: a link for an address the account no longer has proves
    # nothing.
    email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuthSession(Base):
    """A signed-in session; only the SHA-256 of its token is stored."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Last password or second-factor check, for the re-authentication rule.
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # What "Where you're signed in" shows: how, from where, and when last used (written at
    # most once a minute, see accounts.service.LAST_SEEN_EVERY).
    method: Mapped[SignInMethod | None] = mapped_column(String(20), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(400), nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When this session last proved a passkey (signed in with one, alone or as the second
    # step, or registered one): what an organisation requiring passkeys asks of a session.
    passkey_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Throttle(Base):
    """One budget of sign-in attempts (see accounts.throttle): an email's passwords, an
    account's second factors, or a device token's attempts."""

    __tablename__ = "throttles"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    # Consecutive attempts that were checked and wrong.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # Attempts admitted and not yet settled (a password while argon2 runs); they lapse at
    # ``in_flight_until``, so a process that died mid-check cannot hold the budget.
    in_flight: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    in_flight_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When an attempt was last admitted, so the pruner can forget a key left alone long
    # enough (NULL on rows from before migration 0013: kept until counted again).
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AttemptWindow(Base):
    """Attempts per key in a fixed window: user codes tried on /cli/device per client
    address, organisations created and invitations sent per account (accounts.windows)."""

    __tablename__ = "attempt_windows"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
