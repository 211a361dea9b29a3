from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ankra_auth.db import Base, UTCDateTime, new_id


class PendingLogin(Base):
    """A password check waiting for its second factor (the ``mfa_token``)."""

    __tablename__ = "pending_logins"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set once, when the login completes or is voided; never cleared.
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The device token the password step was counted on: second factors count there too.
    # No foreign key: a token rotated or voided meanwhile simply no longer matches.
    device_token_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The single sign-on provider that was the first factor; NULL after a password. The
    # completed sign-in is then named ``sso``, like one without a second factor.
    sso_provider: Mapped[str | None] = mapped_column(String(40), nullable=True)
