"""Prometheus metrics: security counters fed by the security log, request latency.

Security counters move in one place: :func:`count_security_event`, called by
``events.service.record``. They are counted when the event's transaction
commits, so a rolled-back attempt never shows up in the metrics either.

The figures are served on their own port (``serve --metrics-port``, see
``serving.serve_metrics``), never by the public app: the sign-in counters would
tell anyone whether an email has an account. With ``--workers N`` each worker
is its own process: ``ankra-auth serve`` then points ``PROMETHEUS_MULTIPROC_DIR``
at a fresh directory and the metrics port aggregates every worker
(prometheus-client's multiprocess mode).

Labels are bounded: routes are templates (one ``unmatched`` label for the rest)
and a method outside :data:`KNOWN_METHODS` counts as ``other``, so no request
can add series.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.orm import Session

# Methods with a label of their own; anything else a client sends is ``other``.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

SECURITY_EVENTS = Counter(
    "ankra_security_events",
    "Security events committed to the security log, by type and method",
    ["type", "method"],
)
SIGN_INS = Counter(
    "ankra_sign_ins",
    "Sign-in steps by outcome (success: a session was issued; failure: wrong password "
    "for an existing account or failed second factor) and method",
    ["outcome", "method"],
)
SECOND_FACTOR_FAILURES = Counter(
    "ankra_second_factor_failures",
    "Failed second-factor attempts (wrong or replayed code, failed passkey assertion)",
    ["method"],
)
PENDING_LOGINS_VOIDED = Counter(
    "ankra_pending_logins_voided",
    "Pending logins invalidated by too many failed second-factor attempts",
    ["method"],
)
THROTTLED_ATTEMPTS = Counter(
    "ankra_throttled_attempts",
    "Requests refused with 429 rate_limited by the per-account backoff, by route",
    ["route"],
)
REQUEST_DURATION = Histogram(
    "ankra_http_request_duration_seconds",
    "Request latency by route template, HTTP method and status class",
    ["route", "method", "status"],
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

# Event type (the security log's stable strings) -> what else it counts as.
_SIGN_IN_OUTCOMES = {
    "sign_in": "success",
    "second_factor_failed": "failure",
    "password_failed": "failure",
}
_PENDING = "ankra_metrics_pending_events"


def count_security_event(db: Session, *, type: str, method: str | None) -> None:  # noqa: A002
    """Count an event recorded in ``db``'s transaction once that transaction commits."""
    db.info.setdefault(_PENDING, []).append((type, method or "none"))


def count_committed(type_: str, method: str) -> None:
    """Count an event whose row has just been committed (outside an ORM session)."""
    SECURITY_EVENTS.labels(type_, method).inc()
    outcome = _SIGN_IN_OUTCOMES.get(type_)
    if outcome is not None:
        SIGN_INS.labels(outcome, method).inc()
    if type_ == "second_factor_failed":
        SECOND_FACTOR_FAILURES.labels(method).inc()
    elif type_ == "pending_login_voided":
        PENDING_LOGINS_VOIDED.labels(method).inc()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for type_, method in session.info.pop(_PENDING, ()):
        count_committed(type_, method)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)


def method_label(method: str) -> str:
    """``method`` if it is a standard HTTP method, else ``other`` (the label set stays fixed)."""
    return method if method in KNOWN_METHODS else "other"


def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    REQUEST_DURATION.labels(route, method_label(method), f"{status // 100}xx").observe(seconds)
    if status == 429:  # the contract answers 429 only for the per-account backoff
        THROTTLED_ATTEMPTS.labels(route).inc()


def registry() -> CollectorRegistry:
    """What to expose: this process's registry, or every worker's under multiprocess mode."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    aggregated = CollectorRegistry()
    multiprocess.MultiProcessCollector(aggregated)  # type: ignore[no-untyped-call]
    return aggregated


def exposition() -> bytes:
    """The Prometheus text format of :func:`registry`."""
    return generate_latest(registry())
