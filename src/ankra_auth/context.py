"""Who is asking and when: passed to services so events carry IP, user agent and time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RequestContext:
    now: datetime
    ip: str | None = None
    user_agent: str | None = None

    @property
    def stored_user_agent(self) -> str | None:
        """The user agent as rows keep it: at most 400 characters (the columns' width)."""
        return self.user_agent[:400] if self.user_agent else None
