"""Attempts per key in a fixed window, counted before they act: user codes tried on
/cli/device and unknown passkeys per client address, organisations created and
invitations sent per account.

An attempt is reserved in the same statement that checks the budget and committed before
anything else happens, so of any number of concurrent attempts at most ``budget`` get
through per window. A reservation can be given back (a right user code costs nothing).
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import Insert, bindparam, case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ankra_auth import db_flow
from ankra_auth.accounts.backoff import retry_after_seconds
from ankra_auth.accounts.models import AttemptWindow
from ankra_auth.db import UTCDateTime, table
from ankra_auth.errors import RateLimited

# Windows are kept this long after they start, then pruned: longer than any window here.
LONGEST = timedelta(days=1)
_WINDOWS = table(AttemptWindow)
_NOW = bindparam("now", type_=UTCDateTime)
_STALE = _WINDOWS.c.window_started_at <= bindparam("stale_before", type_=UTCDateTime)
_TAKE = (
    update(_WINDOWS)
    .where(
        _WINDOWS.c.key == bindparam("window_key"),
        _STALE | (_WINDOWS.c.attempts < bindparam("budget")),
    )
    # SET reads the row as it was, so both columns see the same ``stale``.
    .values(
        attempts=case((_STALE, 1), else_=_WINDOWS.c.attempts + 1),
        window_started_at=case((_STALE, _NOW), else_=_WINDOWS.c.window_started_at),
    )
    .returning(_WINDOWS.c.attempts)
)
_STARTED = select(_WINDOWS.c.window_started_at).where(_WINDOWS.c.key == bindparam("window_key"))


@lru_cache(maxsize=2)
def _opened(dialect: str) -> Insert:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    values = insert(_WINDOWS).values(
        key=bindparam("window_key"), window_started_at=_NOW, attempts=0
    )
    return values.on_conflict_do_nothing(index_elements=[_WINDOWS.c.key])


def address(ip: str | None) -> str:
    """One key per IPv4 address, per IPv6 /64 (what one subscriber usually holds)."""
    try:
        parsed = ipaddress.ip_address(ip or "")
    except ValueError:
        return (ip or "unknown")[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def taking(
    dialect: str, *, key: str, budget: int, window: timedelta, now: datetime
) -> db_flow.Flow[None]:
    """Count one attempt on ``key`` (committed), or raise :class:`RateLimited` (nothing
    written) when ``budget`` attempts were already counted in the current window."""
    yield db_flow.Run(_opened(dialect), {"window_key": key, "now": now})
    values = {"window_key": key, "now": now, "budget": budget, "stale_before": now - window}
    if (yield db_flow.Run(_TAKE, values)) is not None:
        yield db_flow.Commit()
        return
    started = yield db_flow.Run(_STARTED, {"window_key": key})
    until = None if started is None else started.window_started_at + window
    raise RateLimited(retry_after_seconds(until, now))


def take(db: Session, *, key: str, budget: int, window: timedelta, now: datetime) -> None:
    """:func:`taking` on ``db`` (commits)."""
    dialect = db.get_bind().dialect.name
    db_flow.run(db, taking(dialect, key=key, budget=budget, window=window, now=now))


def give_back(db: Session, *, key: str) -> None:
    """Return one reservation (not committed: the caller's transaction)."""
    db.execute(
        update(AttemptWindow)
        .where(AttemptWindow.key == key, AttemptWindow.attempts > 0)
        .values(attempts=AttemptWindow.attempts - 1)
    )
