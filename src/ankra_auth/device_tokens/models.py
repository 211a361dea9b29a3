from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ankra_auth.db import Base, UTCDateTime, new_id


class DeviceToken(Base):
    """A browser or terminal that signed in to this account before (OWASP "device cookie").

    Only the SHA-256 of the token is stored. Sign-in attempts made with it are counted
    on the throttle key ``token:<id>`` (accounts.throttle); at 10 failures it is void.
    """

    __tablename__ = "device_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
