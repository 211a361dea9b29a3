from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ankra_auth.db import Base, UTCDateTime, new_id


class CliGrant(Base):
    """A CLI login handed to the browser: loopback redirect or device hand-off."""

    __tablename__ = "cli_grants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    pending_login_id: Mapped[str] = mapped_column(
        ForeignKey("pending_logins.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The secret in ``browser_url``; hashed like every token.
    browser_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    redirect_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[str | None] = mapped_column(Text, nullable=True)
    code_challenge: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Device hand-off only.
    user_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    device_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    interval: Mapped[int] = mapped_column(Integer, default=5)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set when the second factor succeeded in the browser.
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The second factor that approved it, for the sign-in event.
    approved_method: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # Loopback mode: the single-use code sent to the redirect URI.
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
