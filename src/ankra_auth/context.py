"""Who is asking and when: passed to services so events carry IP, user agent and time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RequestContext:
    now: datetime
    ip: str | None = None
    user_agent: str | None = None
