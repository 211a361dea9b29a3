"""The outbox in figures, for ``ankra-auth mail status`` and ``/metrics`` alike: the whole
fleet's, read from the database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ankra_auth.notify.models import FAILED, QUEUED, SENDING, SENT, MailOutbox


@dataclass(frozen=True, slots=True)
class Figures:
    queued: int  # waiting or being sent
    sent: int
    failed: int
    oldest_queued_seconds: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "queued": self.queued,
            "sent": self.sent,
            "failed": self.failed,
            "oldest_queued_seconds": self.oldest_queued_seconds,
        }

    def describe(self) -> str:
        oldest = (
            f" (the oldest for {_duration(self.oldest_queued_seconds)})"
            if self.oldest_queued_seconds is not None
            else ""
        )
        return f"queued {self.queued}{oldest}\nsent {self.sent}\nfailed {self.failed}"


def _duration(seconds: float) -> str:
    whole = int(seconds)
    if whole < 120:
        return f"{whole} s"
    if whole < 7200:
        return f"{whole // 60} min"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def read(db: Session, *, now: datetime) -> Figures:
    by_state = select(MailOutbox.state, func.count()).group_by(MailOutbox.state)
    counts: dict[str, int] = dict(db.execute(by_state).tuples().all())
    oldest = db.scalar(
        select(func.min(MailOutbox.created_at)).where(MailOutbox.state.in_((QUEUED, SENDING)))
    )
    db.rollback()
    return Figures(
        queued=counts.get(QUEUED, 0) + counts.get(SENDING, 0),
        sent=counts.get(SENT, 0),
        failed=counts.get(FAILED, 0),
        oldest_queued_seconds=max((now - oldest).total_seconds(), 0.0) if oldest else None,
    )


class OutboxCollector(Collector):
    """``/metrics``: the outbox's figures, read at each scrape (every instance reports the
    fleet's; aggregate with max, not sum)."""

    def __init__(self, engine: Engine, now: Any) -> None:
        self._engine = engine
        self._now = now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with Session(self._engine) as db:
                figures = read(db, now=self._now())
        except Exception:  # noqa: BLE001 - a database outage leaves these out, not the rest
            return
        mails = GaugeMetricFamily(
            "ankra_mail_outbox", "Notification mails in the outbox, by state", labels=["state"]
        )
        mails.add_metric(["queued"], figures.queued)
        mails.add_metric(["sent"], figures.sent)
        mails.add_metric(["failed"], figures.failed)
        yield mails
        yield GaugeMetricFamily(
            "ankra_mail_oldest_queued_age_seconds",
            "How long the oldest mail still queued has waited (0 when none is)",
            value=figures.oldest_queued_seconds or 0.0,
        )
