"""The throttle's rule as pure functions: how many consecutive failures are free, and how
long each backoff after them lasts (1 minute, doubling, at most 1 hour)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

FREE_FAILURES = 10
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)


def backoff_after(failures: int) -> timedelta | None:
    """The backoff that ``failures`` consecutive failures start, or None while they are free."""
    if failures < FREE_FAILURES:
        return None
    doublings = min(failures - FREE_FAILURES, 6)  # 2**6 minutes already exceeds the cap
    backoff: timedelta = min(FIRST_BACKOFF * (2**doublings), MAX_BACKOFF)
    return backoff


def retry_after_seconds(blocked_until: datetime | None, now: datetime) -> int:
    """``Retry-After`` for a backoff that ends at ``blocked_until``: whole seconds, at least 1."""
    if blocked_until is None:
        return 1
    return max(1, math.ceil((blocked_until - now).total_seconds()))
