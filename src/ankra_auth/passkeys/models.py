from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ankra_auth.db import Base, UTCDateTime, new_id


class Passkey(Base):
    """A WebAuthn credential: a platform passkey or a roaming security key."""

    __tablename__ = "passkeys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(String(100))
    transports: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    backup_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    backed_up: Mapped[bool] = mapped_column(Boolean, default=False)
    aaguid: Mapped[str] = mapped_column(String(36), default="")
    # What the authenticator reported at registration: the UV flag, and credProps.rk (None:
    # not said, or registered before these were kept).
    user_verified: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    discoverable: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # Set by its first passkey-only sign-in: it has shown it signs in by itself.
    signed_in_alone: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebAuthnChallenge(Base):
    """A ceremony's challenge, kept server-side so any instance can finish it; single use."""

    __tablename__ = "webauthn_challenges"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    challenge: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    purpose: Mapped[str] = mapped_column(String(20))  # "registration" | "authentication"
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    pending_login_id: Mapped[str | None] = mapped_column(
        ForeignKey("pending_logins.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
