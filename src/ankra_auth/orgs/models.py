from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from ankra_auth.db import Base, UTCDateTime, new_id


class Org(Base):
    __tablename__ = "orgs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    require_two_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    # Phishing-resistant only: a member must have a passkey and sign in with it (implies
    # ``require_two_factor``).
    require_passkey: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Days a member who becomes subject to the requirement has to meet it (0..90).
    grace_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who created it (the daily limit counts them); NULL for orgs from before migration 0014.
    created_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class Membership(Base):
    __tablename__ = "memberships"

    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20))  # "owner" | "member"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Since when the member has been subject to the organisation's requirement without
    # meeting it: the grace period runs from here (``due_at`` = this + ``grace_days``).
    # NULL when they met it (which ends the grace for good) or nothing is required.
    subject_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # ``subject_since`` + the organisation's ``grace_days`` (NULL when no grace applies):
    # stored, so that the check on every request compares and never computes.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The last reminder mailed for this ``subject_since`` (7 or 1 days before ``due_at``).
    reminded_days: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Invitation(Base):
    """An offer of membership: nobody is a member, nor reached by enforcement, before accepting.

    One open invitation per account and organisation; an expired row is replaced by the next.
    """

    __tablename__ = "org_invitations"
    __table_args__ = (UniqueConstraint("org_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # "owner" | "member", once accepted
    invited_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrgEvent(Base):
    """One line of an organisation's log, as its owners see it: its own changes, and each
    member's 2FA changes written while they are a member. ``seq`` orders it."""

    __tablename__ = "org_events"
    __table_args__ = (Index("ix_org_events_org_seq", "org_id", "seq"),)

    seq: Mapped[int] = mapped_column(
        # SQLite only autoincrements an INTEGER primary key.
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )
    id: Mapped[str] = mapped_column(String(32), unique=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    # The member the event is about.
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    data: Mapped[str | None] = mapped_column(Text, nullable=True)  # a JSON object
