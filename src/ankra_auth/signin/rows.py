"""The rows a completed sign-in writes: its device token, its session and its event.

On PostgreSQL they go in one statement (the device-token clean-up and the two inserts
as data-modifying CTEs of the device token's insert): one round trip instead of four.
None of them decides anything (no row count is read), so sending them together keeps
every guarantee; they commit or roll back with the sign-in's transaction. Elsewhere
(SQLite) they are sent one after another, as before.

A TOTP sign-in goes further (:func:`once_decided`): the same statement also spends the
step and finishes the pending login, and its one answer says whether both happened. When
not, the caller rolls back, so the rows written with them go too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache

from sqlalchemy import CTE, Insert, Select, Table, bindparam, exists, insert, select
from sqlalchemy.orm import Session

from ankra_auth.accounts.models import AuthSession
from ankra_auth.db import table
from ankra_auth.device_tokens import service as device_tokens
from ankra_auth.events.models import SecurityEvent

_SESSIONS = table(AuthSession)
_EVENTS = table(SecurityEvent)
_TOKENS = device_tokens.TABLE
_INSERT_SESSION = insert(_SESSIONS)
_INSERT_EVENT = insert(_EVENTS)


def _values(target: Table, prefix: str, columns: tuple[str, ...]) -> Insert:
    return insert(target).values({name: bindparam(prefix + name) for name in columns})


# Built once per set of columns (the rows' keys never vary): no statement building per request.
@lru_cache(maxsize=4)
def _together(
    session_columns: tuple[str, ...], event_columns: tuple[str, ...], token_columns: tuple[str, ...]
) -> Insert:
    return _values(_TOKENS, "t_", token_columns).add_cte(
        device_tokens.CLEAN_UP.cte("retired_device_tokens"),
        _values(_SESSIONS, "s_", session_columns).cte("new_session"),
        _values(_EVENTS, "e_", event_columns).cte("new_event"),
    )


def _prefixed(prefix: str, row: Mapping[str, object]) -> dict[str, object]:
    return {prefix + name: value for name, value in row.items()}


@lru_cache(maxsize=4)
def _together_once(
    decided_by: CTE,
    session_columns: tuple[str, ...],
    event_columns: tuple[str, ...],
    token_columns: tuple[str, ...],
) -> Select[bool]:
    rows = _together(session_columns, event_columns, token_columns)
    written = rows.cte("new_device_token")
    return select(exists(select(decided_by.c[0]))).add_cte(written, decided_by)


def write(
    db: Session,
    *,
    user_id: str,
    now: datetime,
    retire_id: str | None,
    session: Mapping[str, object],
    event: Mapping[str, object],
) -> str:
    """Write the session row, the event row and a new device token (retiring ``retire_id``,
    see :func:`device_tokens.issue`); not committed. Returns the device token."""
    conn = db.connection()
    if conn.dialect.name != "postgresql":
        token = device_tokens.issue(db, user_id=user_id, now=now, retire_id=retire_id)
        conn.execute(_INSERT_SESSION, dict(session))
        conn.execute(_INSERT_EVENT, dict(event))
        return token
    token, values = device_tokens.new_values(user_id=user_id, now=now)
    statement = _together(tuple(session), tuple(event), tuple(values))
    conn.execute(statement, _params(user_id, now, retire_id, values, session, event))
    return token


def once_decided(
    *,
    decided_by: CTE,
    decided_params: Mapping[str, object],
    user_id: str,
    now: datetime,
    retire_id: str | None,
    session: Mapping[str, object],
    event: Mapping[str, object],
) -> tuple[Select[bool], dict[str, object], str]:
    """PostgreSQL: :func:`write`'s rows in one statement with ``decided_by`` (the CTEs that
    spend the second factor and finish the pending login; ``decided_params`` bind them),
    which answers whether ``decided_by`` returned a row. Not executed here: returns the
    statement, its parameters and the new device token. The rows are written either way,
    so a caller that gets False rolls the transaction back."""
    token, values = device_tokens.new_values(user_id=user_id, now=now)
    statement = _together_once(decided_by, tuple(session), tuple(event), tuple(values))
    params = {**_params(user_id, now, retire_id, values, session, event), **decided_params}
    return statement, params, token


def _params(
    user_id: str,
    now: datetime,
    retire_id: str | None,
    token: Mapping[str, object],
    session: Mapping[str, object],
    event: Mapping[str, object],
) -> dict[str, object]:
    return {
        "owner": user_id,
        "retire_id": retire_id,
        "now": now,
        **_prefixed("t_", token),
        **_prefixed("s_", session),
        **_prefixed("e_", event),
    }
