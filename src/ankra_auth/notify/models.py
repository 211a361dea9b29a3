from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ankra_auth.db import Base, UTCDateTime, new_id

QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"


class MailOutbox(Base):
    """One mail to send, written in the transaction of the event it tells.

    ``id`` is the mail's stable ``Message-ID``. Events of one kind for one account that
    arrive while its mail is still queued join it (``burst`` is unique among queued rows):
    a burst is one mail. A sender claims a row by moving it to ``sending`` with its own
    ``claim`` until ``lease_until``; a row whose lease ran out (its sender died) is
    claimed again.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        Index("ix_mail_outbox_state_due_at", "state", "due_at"),
        Index(
            "uq_mail_outbox_burst",
            "burst",
            unique=True,
            postgresql_where=text("state = 'queued'"),
            sqlite_where=text("state = 'queued'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # an event type, or "verify_email"
    # "<user id>:<kind>" for mails that gather a burst; NULL for one that never waits.
    burst: Mapped[str | None] = mapped_column(String(80), nullable=True)
    to_address: Mapped[str] = mapped_column(String(320))
    # What the mail tells, as JSON: the first event's facts, and the latest one's.
    payload: Mapped[str] = mapped_column(Text)
    last_payload: Mapped[str | None] = mapped_column(Text, nullable=True)
    events: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(10), default=QUEUED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Not before: the next attempt after a failure.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
