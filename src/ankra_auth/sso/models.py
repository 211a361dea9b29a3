from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ankra_auth.db import Base, UTCDateTime, new_id


class SsoIdentity(Base):
    """An external identity linked to an account: by issuer and ``sub`` only, never by email."""

    __tablename__ = "sso_identities"
    __table_args__ = (
        UniqueConstraint("issuer", "subject", name="uq_sso_identities_issuer_subject"),
        # One identity per provider per account: unlink names the provider.
        UniqueConstraint("user_id", "provider_id", name="uq_sso_identities_user_provider"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[str] = mapped_column(String(40))
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SsoFlow(Base):
    """One authorization request in flight: any instance can finish it, once, within 10 minutes.

    Only hashes are stored: the PKCE verifier and the nonce are derived from ``state``
    with the secret key, so this row alone cannot finish a flow.
    """

    __tablename__ = "sso_flows"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The browser that started it (cookie): a callback URL sent to someone else fails.
    browser_hash: Mapped[str] = mapped_column(String(64))
    provider_id: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(10))  # sign_in, link, reauth, cli
    # The session that asked to link or re-authenticate (none for a sign-in).
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), nullable=True
    )
    # The CLI hand-off this sign-in finishes (`ankra login --sso`), else none.
    cli_grant_id: Mapped[str | None] = mapped_column(
        ForeignKey("cli_grants.id", ondelete="CASCADE"), nullable=True
    )
    next_path: Mapped[str] = mapped_column(String(2048))
    # The device token the browser presented at the start (the pages' cookie): a second
    # factor after the provider counts on it, as after a password.
    device_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SsoPendingLink(Base):
    """An identity whose email a local account uses, waiting for that account's own sign-in
    in the same browser; linked only then."""

    __tablename__ = "sso_pending_links"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    browser_hash: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider_id: Mapped[str] = mapped_column(String(40))
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A link from the profile waits for the signed-in person's "Link" on the confirmation
    # page (the hash of that page's token); NULL when it waits for a sign-in instead.
    confirm_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
