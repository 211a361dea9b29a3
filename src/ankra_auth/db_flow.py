"""Database work written once and run by either driver.

A flow is a generator that says what to do next and is handed each statement's first
row: :class:`Run` (a Core statement, built once, with its parameters), :class:`Commit`,
or :class:`Pause` (roll back, wait a moment, go on: a budget is held by attempts still in
flight). :func:`run` executes a flow on a SQLAlchemy session, on a thread (SQLite, and
whatever is not on the event loop); ``db_async.run`` executes the same flow on psycopg's
async pool. Decisions stay with the database either way: a flow branches only on the rows
its conditional statements return.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Executable
from sqlalchemy.orm import Session

from ankra_auth.observability import metrics

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Run:
    """Execute ``statement``; the flow is sent its first row (None when it returns none)."""

    statement: Executable
    params: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Commit:
    """Commit; ``counted`` are the security events (type, method) it wrote, for the metrics."""

    counted: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True, slots=True)
class Pause:
    """Roll back, then wait ``seconds`` before the flow goes on."""

    seconds: float


Step = Run | Commit | Pause
Flow = Generator[Step, Any, T]


def count(counted: tuple[tuple[str, str | None], ...]) -> None:
    for type_, method in counted:
        metrics.count_committed(type_, method or "none")


def run(db: Session, flow: Flow[T]) -> T:
    """``flow`` on ``db``'s connection; what it did not commit is rolled back."""
    reply: Any = None
    try:
        while True:
            step = flow.send(reply)
            reply = None
            if isinstance(step, Run):
                result = db.connection().execute(step.statement, dict(step.params))
                reply = result.first() if result.returns_rows else None
            elif isinstance(step, Commit):
                db.commit()
                count(step.counted)
            else:
                db.rollback()
                time.sleep(step.seconds)
    except StopIteration as done:
        value: T = done.value
        return value
    finally:
        if db.in_transaction():
            db.rollback()


def run_in_transaction(db: Session, flow: Flow[T]) -> T:
    """A flow of statements only (no :class:`Commit` or :class:`Pause`) inside ``db``'s
    transaction, which the caller goes on with and commits."""
    reply: Any = None
    conn = db.connection()
    try:
        while True:
            step = flow.send(reply)
            if not isinstance(step, Run):
                raise TypeError("a flow run inside a transaction only runs statements")
            result = conn.execute(step.statement, dict(step.params))
            reply = result.first() if result.returns_rows else None
    except StopIteration as done:
        value: T = done.value
        return value


def just(value: T) -> Flow[T]:
    """A flow that runs nothing and returns ``value`` (for a step that needs no statement)."""
    return value
    yield  # pragma: no cover - makes this a generator
