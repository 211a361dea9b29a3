"""The rows a completed sign-in writes: a new device token, its session and its events.

On PostgreSQL they go in one statement, as data-modifying CTEs that act only when a
``finished`` CTE returned a row: the second-factor step (``challenges.second_step``)
passes the CTE that finished its pending login, so a sign-in whose factor or login was
spent first elsewhere writes nothing; :func:`write` passes one that always returns a row.
Elsewhere (SQLite) they are separate statements, sent once the login is finished.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Insert,
    Table,
    bindparam,
    exists,
    insert,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from ankra_auth.accounts.models import AuthSession
from ankra_auth.db import table
from ankra_auth.db_flow import Flow, Run
from ankra_auth.device_tokens import service as device_tokens
from ankra_auth.events.models import SecurityEvent

_SESSIONS = table(AuthSession)
_EVENTS = table(SecurityEvent)
_TOKENS = device_tokens.TABLE
Columns = tuple[str, ...]


def inserted_if(target: Table, prefix: str, columns: Columns, when: ColumnElement[bool]) -> Insert:
    """An INSERT of one row, its values bound as ``prefix`` + column, made only ``when``."""
    values = select(*(bindparam(prefix + c, type_=target.c[c].type) for c in columns))
    return insert(target).from_select(list(columns), values.where(when))


def prefixed(prefix: str, row: Mapping[str, object]) -> dict[str, object]:
    return {prefix + name: value for name, value in row.items()}


def sign_in_ctes(
    finished: CTE, session: Columns, events: tuple[Columns, ...], token: Columns
) -> tuple[tuple[CTE, ...], ColumnElement[bool]]:
    """The writes as CTEs acting only when ``finished`` returned a row, and that condition."""
    done = exists(select(finished.c[0]))
    return (
        device_tokens.CLEAN_UP.where(done).cte("retired_device_tokens"),
        inserted_if(_TOKENS, "t_", token, done).cte("new_device_token"),
        inserted_if(_SESSIONS, "s_", session, done).cte("new_session"),
        *event_ctes(events, done),
    ), done


def event_ctes(events: tuple[Columns, ...], when: ColumnElement[bool]) -> tuple[CTE, ...]:
    """The events (bound as ``e0_``, ``e1_``, ...) inserted only ``when``, as one CTE: one
    INSERT keeps their order in the log (separate CTEs run in no set order)."""
    if not events:
        return ()
    columns = events[0]
    assert all(e == columns for e in events), "one sign-in's events share their columns"  # noqa: S101
    rows = [
        select(*(bindparam(f"e{i}_{c}", type_=_EVENTS.c[c].type) for c in columns)).where(when)
        for i in range(len(events))
    ]
    values = rows[0] if len(rows) == 1 else union_all(*rows)
    return (insert(_EVENTS).from_select(list(columns), values).cte("new_events"),)


def event_params(events: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """The parameters :func:`event_ctes` binds for ``events``' rows."""
    bound: dict[str, object] = {}
    for i, event in enumerate(events):
        bound.update(prefixed(f"e{i}_", event))
    return bound


class Rows:
    """One sign-in's rows, made before anything is written: the device token it hands
    out, the session and the events; ``retire_id`` is the token the sign-in counted on,
    which the new one replaces (see ``device_tokens.issue``)."""

    def __init__(
        self,
        *,
        user_id: str,
        now: datetime,
        retire_id: str | None,
        session: Mapping[str, object],
        events: Sequence[Mapping[str, object]],
    ) -> None:
        self.device_token, self._token = device_tokens.new_values(user_id=user_id, now=now)
        self._session = session
        self._events = events
        self.params: dict[str, object] = {
            "owner": user_id,
            "retire_id": retire_id,
            "now": now,
            **prefixed("t_", self._token),
            **prefixed("s_", session),
            **event_params(events),
        }

    @property
    def shape(self) -> tuple[Columns, tuple[Columns, ...], Columns]:
        """What :func:`sign_in_ctes` is built for (the columns never vary per request)."""
        return tuple(self._session), tuple(tuple(e) for e in self._events), tuple(self._token)

    def statements(self) -> list[Run]:
        """The rows as separate statements (SQLite)."""
        return [
            Run(device_tokens.CLEAN_UP, self.params),
            Run(insert(_TOKENS), self._token),
            Run(insert(_SESSIONS), self._session),
            *(Run(insert(_EVENTS), event) for event in self._events),
        ]

    def steps(self) -> Flow[bool]:
        """:meth:`statements` for a flow (not committed); the grant is always made."""
        yield from self.statements()
        return True


_ALWAYS = select(literal(1).label("id")).cte("signing_in")


@lru_cache(maxsize=8)
def _unconditional(shape: tuple[Columns, tuple[Columns, ...], Columns]) -> Any:
    ctes, done = sign_in_ctes(_ALWAYS, *shape)
    return select(done).add_cte(_ALWAYS, *ctes)


def write(db: Session, rows: Rows) -> None:
    """Write ``rows`` in ``db``'s transaction (not committed): one statement on PostgreSQL."""
    conn = db.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(_unconditional(rows.shape), rows.params)
        return
    for step in rows.statements():
        conn.execute(step.statement, dict(step.params))
