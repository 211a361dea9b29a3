from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from ankra_auth.db import Base, UTCDateTime, new_id
from ankra_auth.events.types import SignInMethod


class CliGrant(Base):
    """A CLI login handed to the browser: loopback redirect or device hand-off."""

    __tablename__ = "cli_grants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # Both unknown while a single sign-on hand-off waits for the provider's callback.
    pending_login_id: Mapped[str | None] = mapped_column(
        ForeignKey("pending_logins.id", ondelete="CASCADE"), index=True, nullable=True
    )
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=True
    )
    # Loopback: the secret in ``browser_url``. Device: the approval handle the /cli/device
    # page gets once the right user code is typed (until then a hash nobody holds).
    browser_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    redirect_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[str | None] = mapped_column(Text, nullable=True)
    code_challenge: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Device hand-off only. The user code is stored as a keyed hash, looked up by it.
    user_code_hash: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    # The terminal's address, shown on the device page before any factor is asked.
    requested_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    device_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    interval: Mapped[int] = mapped_column(Integer, default=5)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set when the second factor succeeded in the browser.
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The second factor that approved it, for the sign-in event.
    approved_method: Mapped[SignInMethod | None] = mapped_column(String(20), nullable=True)
    # Loopback mode: the single-use code sent to the redirect URI.
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # `ankra login --sso`: the provider the hand-off page signs in with first, and when a
    # browser opened that page (once: the flow is then that browser's).
    sso_provider: Mapped[str | None] = mapped_column(String(40), nullable=True)
    sso_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Why single sign-on refused a device hand-off, for its polling terminal (a loopback
    # terminal is told through its redirect instead).
    refusal: Mapped[str | None] = mapped_column(Text, nullable=True)
    # `ankra login --sso --no-browser`: the hash of the cookie set in the browser that typed
    # the user code; only that browser can open the provider's start link.
    browser_binding_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # `ankra login --sso` or `--passkey`: the CLI's device token (hash); the sign-in's
    # factor counts there.
    device_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # `ankra login --passkey`: the hand-off signs in with a passkey alone; the account is
    # unknown (``user_id`` null) until the passkey names it.
    passkey_first: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
