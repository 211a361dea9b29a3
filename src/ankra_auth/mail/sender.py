"""The sender: every instance of the service delivers the outbox, in the background.

Each round claims the mails that are due (``outbox_store.claim``), renders each one from
its row, hands it to the SMTP server, and settles it: sent; or back in the queue with a
backoff (the server is unreachable, or answered 4xx) for up to 24 hours after it was
queued; or failed (a 5xx answer, or 24 hours of trying). A mail keeps its Message-ID
through every attempt and every instance: a copy sent twice (an instance killed after
the server took it, before it could say so) is recognisably the same mail.

Without ``ANKRA_SMTP_URL`` nothing is sent: each mail is logged once and waits.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from email.utils import parseaddr
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ankra_auth import two_factor_status
from ankra_auth.accounts.email_verification import token_matching
from ankra_auth.accounts.models import EmailVerification
from ankra_auth.clock import Clock
from ankra_auth.config import Settings
from ankra_auth.mail import outbox_store, render, smtp
from ankra_auth.mail.outbox_store import Claimed
from ankra_auth.mail.smtp_url import SmtpServer
from ankra_auth.notify.outbox import VERIFY_EMAIL
from ankra_auth.orgs import reminders
from ankra_auth.sso.config import find

log = logging.getLogger("ankra_auth.mail")

GIVE_UP_AFTER: Final = timedelta(hours=24)
FIRST_RETRY_SECONDS: Final = 5.0
LONGEST_RETRY_SECONDS: Final = 900.0
POLL_SECONDS: Final = 2.0
BATCH: Final = 10


def retry_delay(attempts: int) -> timedelta:
    """5 s after the first failure, doubling, at most 15 minutes apart."""
    seconds = FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, LONGEST_RETRY_SECONDS))


def lease_for(server: SmtpServer | None) -> timedelta:
    """How long a claim holds: longer than a send can take (a handful of network steps,
    each bounded by the timeout), so a live sender is never overtaken."""
    timeout = server.timeout if server is not None else 20.0
    return timedelta(seconds=6 * timeout + 5)


def masked(address: str) -> str:
    """``a***@example.com``: enough to tell mails apart in a log, not the address."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}" if local else "***"


class Undeliverable(Exception):
    """A mail that cannot be made (its link was used or expired before it went out)."""


class Sender:
    """Delivers the outbox from ``engine``'s database through the settings' SMTP server."""

    def __init__(self, engine: Engine, clock: Clock, settings: Settings) -> None:
        self.clock = clock
        self.settings = settings
        self.server: SmtpServer | None = settings.smtp_server
        self.stopping = False
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self._message_host = urlsplit(settings.public_url).hostname or "localhost"
        self._envelope_from = parseaddr(settings.mail_sender)[1]

    def run_once(self) -> int:
        """One round; returns how many mails it handled (a full batch: go again at once)."""
        with self._sessions() as db:
            if self.server is None:
                for _mail_id, _kind, to in outbox_store.note_unsent(db):
                    log.warning("mail to %s not sent: no SMTP server configured", masked(to))
                return 0
            now = self.clock.now()
            claimed = outbox_store.claim(
                db,
                now=now,
                burst_over=now - timedelta(seconds=self.settings.mail_burst_seconds),
                lease=lease_for(self.server),
                limit=BATCH,
            )
            for mail in claimed:
                if self.stopping:
                    break  # its lease runs out; another round (or instance) sends it
                self._handle(db, mail)
            return len(claimed)

    def _handle(self, db: Session, mail: Claimed) -> None:
        assert self.server is not None  # noqa: S101 - run_once checked
        if self.clock.now() - mail.created_at >= GIVE_UP_AFTER:
            # A day of trying (or of no server configured): news that old goes no more.
            self._fail(db, mail, f"gave up after 24 hours: {mail.last_error or 'not sent'}")
            return
        try:
            message = self._message(db, mail)
            smtp.send(self.server, message, envelope_from=self._envelope_from, to=mail.to_address)
        except smtp.Refused as exc:
            self._fail(db, mail, str(exc))
        except (smtp.TryLater, OSError) as exc:
            now = self.clock.now()
            if now - mail.created_at >= GIVE_UP_AFTER:
                self._fail(db, mail, f"gave up after 24 hours: {exc}")
                return
            delay = retry_delay(mail.attempts)
            outbox_store.later(db, mail, due_at=now + delay, error=str(exc))
            log.warning(
                "mail to %s not sent (%s %s), trying again in %d s: %s",
                masked(mail.to_address),
                mail.kind,
                mail.id,
                delay.total_seconds(),
                exc,
            )
        except Undeliverable as exc:
            self._fail(db, mail, str(exc))
        else:
            outbox_store.sent(db, mail, now=self.clock.now())
            log.info("mail sent to %s (%s %s)", masked(mail.to_address), mail.kind, mail.id)

    def _fail(self, db: Session, mail: Claimed, error: str) -> None:
        outbox_store.failed(db, mail, now=self.clock.now(), error=error)
        log.error(
            "mail to %s failed (%s %s): %s", masked(mail.to_address), mail.kind, mail.id, error
        )

    def _message(self, db: Session, mail: Claimed) -> Any:
        if mail.kind == VERIFY_EMAIL:
            rendered = self._verification(db, mail)
        elif mail.kind == reminders.KIND:
            rendered = render.reminder(
                mail.payload, public_url=self.settings.public_url, to=mail.to_address
            )
        else:
            rendered = self._notice(db, mail)
        return render.message(
            rendered,
            sender=self.settings.mail_sender,
            to=mail.to_address,
            message_id=f"<{mail.id}@{self._message_host}>",
            date=self.clock.now(),
        )

    def _notice(self, db: Session, mail: Claimed) -> render.Rendered:
        first = mail.payload
        provider_id = first.get("note") if mail.kind.startswith("sso_") else None
        if mail.kind == "sign_in" and first.get("method") == "sso":
            provider_id = first.get("note")
        provider = find(self.settings.sso_providers, provider_id) if provider_id else None
        left = None
        if mail.kind == "recovery_code_used":
            left = two_factor_status.recovery_codes_remaining(db, mail.user_id)
            db.rollback()
        told = render.Told(
            kind=mail.kind,
            first=first,
            latest=mail.last_payload,
            events=mail.events,
            recovery_codes_left=left,
            provider_name=provider.name if provider else None,
        )
        return render.notification(told, public_url=self.settings.public_url, to=mail.to_address)

    def _verification(self, db: Session, mail: Claimed) -> render.Rendered:
        verification = db.scalar(
            select(EmailVerification).where(
                EmailVerification.id == mail.payload.get("verification_id")
            )
        )
        db.rollback()
        now = self.clock.now()
        if (
            verification is None
            or verification.used_at is not None
            or verification.expires_at <= now
        ):
            raise Undeliverable("the link was used or expired before it could be sent")
        token = token_matching(self.settings.secrets, verification.id, verification.token_hash)
        if token is None:
            raise Undeliverable("the link was made under a secret key no longer configured")
        return render.verification(token=token, public_url=self.settings.public_url)

    async def run_forever(self, executor: ThreadPoolExecutor) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                handled = await loop.run_in_executor(executor, self.run_once)
            except Exception as exc:  # a database outage must not stop the sender
                log.warning("mail round failed: %s", type(exc).__name__, exc_info=exc)
                handled = 0
            if handled < BATCH:
                await asyncio.sleep(POLL_SECONDS * (0.75 + random.random() / 2))  # noqa: S311


def announce(settings: Settings) -> None:
    """What the service says at start-up about notifications."""
    server = settings.smtp_server
    if server is None:
        log.warning(
            "notifications are off: ANKRA_SMTP_URL is not set, so mails stay in the outbox "
            "(set it to smtp://[user:password@]host:port to send them)"
        )
    else:
        log.info("notifications go through %s as %s", server.describe(), settings.mail_sender)


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """The app's lifespan: deliver the outbox in the background (on a thread of its own,
    so a slow SMTP server never holds a thread that requests need)."""
    sender = Sender(app.state.engine, app.state.clock, app.state.settings)
    announce(app.state.settings)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ankra-mail")
    task = asyncio.create_task(sender.run_forever(executor), name="ankra-mail-sender")
    try:
        yield
    finally:
        sender.stopping = True
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        executor.shutdown(wait=False)
