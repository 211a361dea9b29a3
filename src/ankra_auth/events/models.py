from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ankra_auth.db import Base, UTCDateTime, new_id
from ankra_auth.events.types import EventType, SignInMethod


class SecurityEvent(Base):
    """One line of a user's security log. ``seq`` orders it; ``id`` is what clients see."""

    __tablename__ = "security_events"
    __table_args__ = (Index("ix_security_events_user_seq", "user_id", "seq"),)

    seq: Mapped[int] = mapped_column(
        # SQLite only autoincrements an INTEGER primary key.
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )
    id: Mapped[str] = mapped_column(String(32), unique=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[EventType] = mapped_column(String(40))
    method: Mapped[SignInMethod | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(400), nullable=True)
    # What older events said in words (a provider, a passkey's name, an organisation).
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Named facts as a JSON object (``{"mail": "queued"}``); the API merges both into its
    # ``detail`` object (see ``events.service.detail_of``).
    data: Mapped[str | None] = mapped_column(Text, nullable=True)
