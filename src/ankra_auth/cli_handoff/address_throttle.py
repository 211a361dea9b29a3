"""Wrong user codes on /cli/device, budgeted per client address (``accounts.windows``).

Only wrong codes use up the budget: a right code gives its reservation back, and typing
one's own right code never resets the count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ankra_auth.accounts import windows

BUDGET = 10
WINDOW = timedelta(minutes=15)


def address_key(ip: str | None) -> str:
    """One budget per IPv4 address, per IPv6 /64 (``windows.address``)."""
    return f"device:{windows.address(ip)}"


def reserve(db: Session, *, key: str, now: datetime) -> None:
    """Count one attempt (commits), or raise :class:`RateLimited` when the budget is spent."""
    windows.take(db, key=key, budget=BUDGET, window=WINDOW, now=now)


def refund(db: Session, *, key: str) -> None:
    """Give back the reservation of a right code (not committed: the caller's transaction)."""
    windows.give_back(db, key=key)
