"""Wrong user codes on /cli/device, budgeted per client address.

An attempt is reserved in the same statement that checks the budget and committed before
the code is looked up, so of any number of concurrent guesses from one address at most
``BUDGET`` are ever checked per window. A right code gives its reservation back: only
wrong codes use up the budget, and typing one's own right code never resets it.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ankra_auth.cli_handoff.models import DeviceCodeAttempts
from ankra_auth.errors import RateLimited

BUDGET = 10
WINDOW = timedelta(minutes=15)


def address_key(ip: str | None) -> str:
    """One key per IPv4 address, per IPv6 /64 (what one subscriber usually holds)."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return f"device:{(ip or 'unknown')[:64]}"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"device:{address.ipv4_mapped}"
        return f"device:{ipaddress.ip_network(f'{address}/64', strict=False)}"
    return f"device:{address}"


def reserve(db: Session, *, key: str, now: datetime) -> None:
    """Count one attempt (commits), or raise :class:`RateLimited` when the budget is spent."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.execute(
        insert(DeviceCodeAttempts)
        .values(key=key, window_started_at=now, attempts=0)
        .on_conflict_do_nothing(index_elements=[DeviceCodeAttempts.key])
    )
    stale = DeviceCodeAttempts.window_started_at <= now - WINDOW
    reserved = db.execute(
        update(DeviceCodeAttempts)
        .where(DeviceCodeAttempts.key == key, stale | (DeviceCodeAttempts.attempts < BUDGET))
        # SET reads the row as it was, so both columns see the same ``stale``.
        .values(
            attempts=case((stale, 1), else_=DeviceCodeAttempts.attempts + 1),
            window_started_at=case((stale, now), else_=DeviceCodeAttempts.window_started_at),
        )
        .returning(DeviceCodeAttempts.attempts)
    ).first()
    if reserved is not None:
        db.commit()
        return
    started = db.scalar(
        select(DeviceCodeAttempts.window_started_at).where(DeviceCodeAttempts.key == key)
    )
    db.rollback()
    wait = (started + WINDOW - now).total_seconds() if started is not None else 1
    raise RateLimited(math.ceil(wait))


def refund(db: Session, *, key: str) -> None:
    """Give back the reservation of a right code (not committed: the caller's transaction)."""
    db.execute(
        update(DeviceCodeAttempts)
        .where(DeviceCodeAttempts.key == key, DeviceCodeAttempts.attempts > 0)
        .values(attempts=DeviceCodeAttempts.attempts - 1)
    )
