"""The rows a completed sign-in writes: a new device token, its session and its events.

On PostgreSQL they go in one statement, as data-modifying CTEs that act only when a
``finished`` CTE returned a row: the second-factor step (``challenges.second_step``)
passes the CTE that finished its pending login, so a sign-in whose factor or login was
spent first elsewhere writes nothing; :func:`write` passes one that always returns a row.
Elsewhere (SQLite) they are separate statements, sent once the login is finished.

An event that mails its owner (``notify.outbox``: a recovery code used, a sign-in that
presented no device token of the account) adds its outbox row the same way, and its
event says ``mail: queued`` exactly when the row was written. A sign-in with a known
device token, the common case, writes nothing more.
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
    Update,
    bindparam,
    case,
    exists,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from ankra_auth import db_flow
from ankra_auth.accounts.models import AuthSession, User
from ankra_auth.db import UTCDateTime, table
from ankra_auth.db_flow import Flow, Run
from ankra_auth.device_tokens import service as device_tokens
from ankra_auth.events import service as events_service
from ankra_auth.events.models import SecurityEvent
from ankra_auth.notify import outbox

_SESSIONS = table(AuthSession)
_EVENTS = table(SecurityEvent)
_USERS = table(User)
_TOKENS = device_tokens.TABLE
Columns = tuple[str, ...]
# Events (by position) that may queue a mail, and whether it waits for a first sign-in.
Mailed = tuple[tuple[int, bool], ...]

# The account's first complete sign-in: no mail about a new device then (set only by a
# sign-in that presented no device token: one that did has signed in before).
_FIRST_SIGN_IN: Update = (
    update(_USERS)
    .where(_USERS.c.id == bindparam("owner"), _USERS.c.first_sign_in_at.is_(None))
    .values(first_sign_in_at=bindparam("now", type_=UTCDateTime))
)


def inserted_if(target: Table, prefix: str, columns: Columns, when: ColumnElement[bool]) -> Insert:
    """An INSERT of one row, its values bound as ``prefix`` + column, made only ``when``."""
    values = select(*(bindparam(prefix + c, type_=target.c[c].type) for c in columns))
    return insert(target).from_select(list(columns), values.where(when))


def prefixed(prefix: str, row: Mapping[str, object]) -> dict[str, object]:
    return {prefix + name: value for name, value in row.items()}


def sign_in_ctes(
    finished: CTE,
    session: Columns,
    events: tuple[Columns, ...],
    token: Columns,
    mailed: Mailed = (),
    unknown_device: bool = False,
) -> tuple[tuple[CTE, ...], ColumnElement[bool]]:
    """The writes as CTEs acting only when ``finished`` returned a row, and that condition.

    ``unknown_device``: the sign-in presented no device token (it may be the first)."""
    done = exists(select(finished.c[0]))
    first = (_FIRST_SIGN_IN.where(done).cte("first_sign_in"),) if unknown_device else ()
    return (
        device_tokens.CLEAN_UP.where(done).cte("retired_device_tokens"),
        inserted_if(_TOKENS, "t_", token, done).cte("new_device_token"),
        inserted_if(_SESSIONS, "s_", session, done).cte("new_session"),
        *first,
        *event_ctes(events, done, mailed),
    ), done


def event_ctes(
    events: tuple[Columns, ...], when: ColumnElement[bool], mailed: Mailed = ()
) -> tuple[CTE, ...]:
    """The events (bound as ``e0_``, ``e1_``, ...) inserted only ``when``, as one CTE: one
    INSERT keeps their order in the log (separate CTEs run in no set order). Before it,
    the mails of ``mailed`` events (bound as ``m0_``, ...), each its own CTE; such an
    event's ``data`` is ``e<i>_data_mailed`` when its mail was queued."""
    if not events:
        return ()
    columns = events[0]
    assert all(e == columns for e in events), "one sign-in's events share their columns"  # noqa: S101
    mails: dict[int, CTE] = {
        i: outbox.queue_statement(
            "postgresql", prefix=f"m{i}_", when=when, after_first_sign_in=after_first
        ).cte(f"mail_{i}")
        for i, after_first in mailed
    }

    def value(i: int, column: str) -> ColumnElement[Any]:
        bound = bindparam(f"e{i}_{column}", type_=_EVENTS.c[column].type)
        if column != "data" or i not in mails:
            return bound
        if_mailed = bindparam(f"e{i}_data_mailed", type_=_EVENTS.c.data.type)
        return case((exists(select(mails[i].c.id)), if_mailed), else_=bound)

    rows = [select(*(value(i, c) for c in columns)).where(when) for i in range(len(events))]
    values = rows[0] if len(rows) == 1 else union_all(*rows)
    inserted = insert(_EVENTS).from_select(list(columns), values).cte("new_events")
    return (*mails.values(), inserted)


def event_params(events: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """The parameters :func:`event_ctes` binds for ``events``' rows."""
    bound: dict[str, object] = {}
    for i, event in enumerate(events):
        bound.update(prefixed(f"e{i}_", event))
    return bound


class EventMails:
    """The mails a group of events written together asks for (``notify.outbox``)."""

    def __init__(
        self, events: Sequence[Mapping[str, object]], *, unknown_device: bool = False
    ) -> None:
        self.events = events
        self._tells = [
            unknown_device if event["type"] == events_service.SIGN_IN else None for event in events
        ]
        self._mails = [
            (i, mail)
            for i, event in enumerate(events)
            if (mail := outbox.for_event(event, self._tells[i])) is not None
        ]

    @property
    def shape(self) -> Mailed:
        return tuple((i, mail.after_first_sign_in) for i, mail in self._mails)

    @property
    def params(self) -> dict[str, object]:
        """The parameters :func:`event_ctes` binds for the mails, beside :func:`event_params`."""
        bound: dict[str, object] = {}
        for i, mail in self._mails:
            bound.update(outbox.params(mail, f"m{i}_"))
            bound[f"e{i}_data_mailed"] = events_service.mailed_data(self.events[i])
        return bound

    def steps(self, dialect: str) -> Flow[None]:
        """The events (each after its mail) as separate statements (SQLite)."""
        for event, tell in zip(self.events, self._tells, strict=True):
            yield from events_service.insert_flow(dialect, event, tell)


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
        # No device token of the account was presented: news to its owner, unless this is
        # the account's first sign-in.
        self._unknown_device = retire_id is None
        self._mails = EventMails(events, unknown_device=self._unknown_device)
        self.params: dict[str, object] = {
            "owner": user_id,
            "retire_id": retire_id,
            "now": now,
            **prefixed("t_", self._token),
            **prefixed("s_", session),
            **event_params(events),
            **self._mails.params,
        }

    @property
    def shape(self) -> tuple[Columns, tuple[Columns, ...], Columns, Mailed, bool]:
        """What :func:`sign_in_ctes` is built for (the columns never vary per request; a
        sign-in with a known device token mails nothing, the common case)."""
        return (
            tuple(self._session),
            tuple(tuple(e) for e in self._events),
            tuple(self._token),
            self._mails.shape,
            self._unknown_device,
        )

    def steps(self, dialect: str = "sqlite") -> Flow[bool]:
        """The rows as separate statements, for a flow (not committed; SQLite); the grant
        is always made. Each event's mail comes before the first sign-in's mark."""
        yield Run(device_tokens.CLEAN_UP, self.params)
        yield Run(insert(_TOKENS), self._token)
        yield Run(insert(_SESSIONS), self._session)
        yield from self._mails.steps(dialect)
        if self._unknown_device:
            yield Run(_FIRST_SIGN_IN, self.params)
        return True


_ALWAYS = select(literal(1).label("id")).cte("signing_in")


@lru_cache(maxsize=16)
def _unconditional(shape: tuple[Columns, tuple[Columns, ...], Columns, Mailed, bool]) -> Any:
    ctes, done = sign_in_ctes(_ALWAYS, *shape)
    return select(done).add_cte(_ALWAYS, *ctes)


def write(db: Session, rows: Rows) -> None:
    """Write ``rows`` in ``db``'s transaction (not committed): one statement on PostgreSQL."""
    conn = db.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(_unconditional(rows.shape), rows.params)
        return
    db_flow.run_in_transaction(db, rows.steps(conn.dialect.name))
