"""The service deletes expired short-lived rows itself; live rows stay (frozen clock, no sleeping)."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from ankra_auth import db_flow, pruning
from ankra_auth.accounts import throttle
from ankra_auth.accounts.models import AuthSession, EmailVerification, Throttle, User
from ankra_auth.challenges.models import PendingLogin
from ankra_auth.cli_handoff.models import CliGrant
from ankra_auth.clock import FrozenClock
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from ankra_auth.device_tokens.models import DeviceToken
from ankra_auth.notify.models import MailOutbox
from ankra_auth.orgs.models import Invitation, Org
from ankra_auth.passkeys.models import WebAuthnChallenge
from ankra_auth.sign_in_links.models import SignInLink
from tests.helpers import sign_up

MINUTE = timedelta(minutes=1)


def _hash() -> str:
    return secrets.token_hex(32)


class Rows:
    """One user with a live and a dead row of every short-lived kind."""

    def __init__(self, db: Session, now: datetime) -> None:
        dead = now - pruning.GRACE - MINUTE  # expired longer ago than the grace period
        recent = now - MINUTE  # expired, but within the grace period: kept for now
        live = now + 5 * MINUTE
        user = User(email=f"{secrets.token_hex(4)}@example.com", password_hash="x", created_at=now)
        db.add(user)
        db.flush()
        self.kept: dict[type[Any], set[str]] = {}
        self.gone: dict[type[Any], set[str]] = {}

        def add(model: type[Any], row: Any, *, keep: bool) -> Any:
            db.add(row)
            db.flush()
            (self.kept if keep else self.gone).setdefault(model, set()).add(row.id)
            return row

        def session(expires: datetime, revoked: datetime | None, *, keep: bool) -> AuthSession:
            return add(
                AuthSession,
                AuthSession(
                    user_id=user.id,
                    token_hash=_hash(),
                    created_at=now - timedelta(days=1),
                    expires_at=expires,
                    verified_at=now,
                    revoked_at=revoked,
                ),
                keep=keep,
            )

        def pending(expires: datetime, *, keep: bool) -> PendingLogin:
            return add(
                PendingLogin,
                PendingLogin(
                    user_id=user.id, token_hash=_hash(), created_at=now, expires_at=expires
                ),
                keep=keep,
            )

        live_session = session(now + timedelta(days=1), None, keep=True)
        session(recent, None, keep=True)
        session(dead, None, keep=False)
        session(live, dead, keep=False)  # revoked long ago
        session(live, recent, keep=True)  # revoked a minute ago
        live_pending = pending(live, keep=True)
        dead_pending = pending(dead, keep=False)
        for expires, keep in ((live, True), (dead, False)):
            add(
                WebAuthnChallenge,
                WebAuthnChallenge(
                    challenge=secrets.token_bytes(32),
                    purpose="authentication",
                    user_id=user.id,
                    created_at=now,
                    expires_at=expires,
                ),
                keep=keep,
            )
            add(
                SignInLink,
                SignInLink(
                    session_id=live_session.id,
                    token_hash=_hash(),
                    next_path="/",
                    created_at=now,
                    expires_at=expires,
                ),
                keep=keep,
            )
            add(
                CliGrant,
                CliGrant(
                    pending_login_id=(live_pending if keep else dead_pending).id,
                    user_id=user.id,
                    browser_token_hash=_hash(),
                    code_challenge="c" * 43,
                    created_at=now,
                    expires_at=expires,
                ),
                keep=keep,
            )
        orgs = [Org(name="Acme", created_at=now), Org(name="Beta", created_at=now)]
        db.add_all(orgs)
        db.flush()
        for expires, keep in ((live, True), (dead, False)):
            add(
                DeviceToken,
                DeviceToken(
                    user_id=user.id, token_hash=_hash(), created_at=now, expires_at=expires
                ),
                keep=keep,
            )
        for org, (expires, keep) in zip(orgs, ((live, True), (dead, False)), strict=True):
            add(
                Invitation,
                Invitation(
                    org_id=org.id,
                    user_id=user.id,
                    role="member",
                    created_at=now,
                    expires_at=expires,
                ),
                keep=keep,
            )
        for expires, keep in ((live, True), (dead, False)):
            add(
                EmailVerification,
                EmailVerification(
                    user_id=user.id,
                    email=user.email,
                    token_hash=_hash(),
                    created_at=now,
                    expires_at=expires,
                ),
                keep=keep,
            )
        # Mails are kept 30 days after they were queued, whatever became of them.
        for queued, state, keep in (
            (now - pruning.MAIL_KEPT + MINUTE, "sent", True),
            (dead - pruning.MAIL_KEPT, "sent", False),
            (dead - pruning.MAIL_KEPT, "failed", False),
        ):
            add(
                MailOutbox,
                MailOutbox(
                    user_id=user.id,
                    kind="totp_enabled",
                    to_address=user.email,
                    payload="{}",
                    state=state,
                    created_at=queued,
                    last_event_at=queued,
                    due_at=queued,
                    finished_at=queued,
                ),
                keep=keep,
            )
        db.commit()

    def remaining(self, db: Session, model: type[Any]) -> set[str]:
        return set(db.scalars(select(model.id)))


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    yield engine
    engine.dispose()


def test_expired_rows_go_and_live_ones_stay(engine: Engine, clock: FrozenClock) -> None:
    with Session(engine) as db:
        rows = Rows(db, clock.now())
    deleted = pruning.prune(engine, now=clock.now(), batch=1)  # batches of one: the loop runs
    assert deleted == {
        "cli_grants": 1,
        "webauthn_challenges": 1,
        "pending_logins": 1,
        "sign_in_links": 1,
        "sessions": 2,
        "device_tokens": 1,
        "org_invitations": 1,
        "attempt_windows": 0,
        "sso_flows": 0,
        "sso_pending_links": 0,
        "email_verifications": 1,
        "mail_outbox": 2,
        "throttles": 0,
    }
    with Session(engine) as db:
        for model in (
            AuthSession,
            PendingLogin,
            WebAuthnChallenge,
            SignInLink,
            CliGrant,
            DeviceToken,
            Invitation,
            EmailVerification,
            MailOutbox,
        ):
            assert rows.remaining(db, model) == rows.kept[model], model.__tablename__
    # Idempotent: a second run (another instance, a retry) finds nothing.
    assert set(pruning.prune(engine, now=clock.now()).values()) == {0}

    # An hour and more later, what was live then is dead too, except the live session.
    later = clock.now() + pruning.GRACE + 10 * MINUTE
    pruning.prune(engine, now=later)
    with Session(engine) as db:
        assert len(rows.remaining(db, AuthSession)) == 1
        for model in (PendingLogin, WebAuthnChallenge, SignInLink, CliGrant):
            assert rows.remaining(db, model) == set(), model.__tablename__


def _count_a_failure(db: Session, key: str, now: datetime) -> int:
    """One wrong attempt through the one admission; the count it leaves."""

    def attempt() -> db_flow.Flow[int]:
        counted = yield from throttle.admit(db.get_bind().dialect.name, [key], now)
        row = yield db_flow.Run(
            throttle.settle_wrong(counted), {"counter": counted, **throttle.params(now)}
        )
        yield db_flow.Commit()
        return int(row.failures)

    return db_flow.run(db, attempt())


def test_throttles_are_forgotten_only_when_there_is_nothing_to_remember(
    engine: Engine, clock: FrozenClock
) -> None:
    now = clock.now()
    long_ago = now - pruning.GRACE - throttle.FORGET_AFTER - MINUTE
    rows = {
        "pw:reset": (0, 0, None, now),  # a success set the count back to zero
        "pw:quiet": (3, 0, None, long_ago),  # three failures, then a day and more of nothing
        "pw:recent": (3, 0, None, now - 5 * MINUTE),
        "mfa:backing-off": (12, 0, now + 30 * MINUTE, long_ago),
        "pw:before-0013": (5, 0, None, None),  # counted before the column existed
        "pw:in-flight": (0, 2, None, now),  # two passwords being checked right now
        "token:retired": (4, 0, None, now),  # its device token is gone
    }
    with Session(engine) as db:
        for key, (failures, in_flight, blocked_until, last_attempt_at) in rows.items():
            db.add(
                Throttle(
                    key=key,
                    failures=failures,
                    in_flight=in_flight,
                    in_flight_until=now + throttle.LEASE if in_flight else None,
                    blocked_until=blocked_until,
                    last_attempt_at=last_attempt_at,
                )
            )
        db.commit()
    assert pruning.prune(engine, now=now)["throttles"] == 3
    with Session(engine) as db:
        assert set(db.scalars(select(Throttle.key))) == {
            "pw:recent",
            "mfa:backing-off",
            "pw:before-0013",
            "pw:in-flight",
        }
        # A forgotten key counts from one again; a kept one goes on from its count.
        assert _count_a_failure(db, "pw:quiet", now) == 1
        assert _count_a_failure(db, "pw:recent", now) == 4
        stored = db.get(Throttle, "pw:recent")
        assert stored is not None and stored.last_attempt_at == now


def test_pruning_keeps_a_signed_in_user_signed_in(client: TestClient, engine: Engine) -> None:
    account = sign_up(client, "stays@example.com")
    clock: FrozenClock = client.app.state.clock  # type: ignore[attr-defined]
    pruning.prune(engine, now=clock.now() + timedelta(hours=2))
    assert client.get("/api/v1/me", headers=account.auth).status_code == 200


def test_one_instance_prunes_at_a_time_on_postgresql(
    engine: Engine, clock: FrozenClock, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers itself; the advisory lock is PostgreSQL's")
    with Session(engine) as db:
        Rows(db, clock.now())
    with engine.connect() as other, other.begin():  # another instance, mid-run
        assert other.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": pruning.ADVISORY_LOCK_KEY}
        ).scalar()
        assert pruning.prune(engine, now=clock.now()) == {}
    # Its transaction ended: so did its lock.
    assert pruning.prune(engine, now=clock.now())["sessions"] == 2


def test_a_failed_run_is_logged_and_the_loop_goes_on(
    tmp_path: Path, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    # A database without the schema: every run fails.
    broken = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}"))
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 3:
            raise asyncio.CancelledError

    pruner = pruning.Pruner(broken, clock, 300.0, sleep=sleep, jitter=lambda: 0.25)
    with caplog.at_level(logging.WARNING, logger="ankra_auth.pruning"):
        with pytest.raises(asyncio.CancelledError):
            # A thread of its own: a session-wide Playwright may own this thread's event loop.
            with ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, pruner.run_forever()).result()
    assert delays == [225.0, 225.0, 225.0]  # jittered: interval x (0.5 + jitter)
    assert [r.getMessage() for r in caplog.records] == ["pruning failed: OperationalError"] * 2
    broken.dispose()


def test_the_service_runs_the_pruner_in_its_lifespan(
    settings: Settings, clock: FrozenClock
) -> None:
    from ankra_auth.app import create_app

    app = create_app(settings.model_copy(update={"prune_interval_seconds": 0.01}), clock)
    engine = app.state.engine
    with Session(engine) as db:
        rows = Rows(db, clock.now())
    with TestClient(app):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the real loop, on its own short interval
            with Session(engine) as db:
                if rows.remaining(db, AuthSession) == rows.kept[AuthSession]:  # the last rule
                    break
            time.sleep(0.02)
    with Session(engine) as db:
        for model in (AuthSession, PendingLogin, WebAuthnChallenge, SignInLink, CliGrant):
            assert rows.remaining(db, model) == rows.kept[model], model.__tablename__
    engine.dispose()


def test_the_prune_command_does_one_run(engine: Engine, settings: Settings) -> None:
    from datetime import UTC

    from tests.test_admin import run_admin

    now = datetime.now(UTC)  # the command runs on the system clock
    with Session(engine) as db:
        rows = Rows(db, now)
    env = {"ANKRA_DATABASE_URL": settings.database_url, "ANKRA_SECRET_KEY": "k" * 40}
    result = run_admin("prune", env=env)
    assert result.returncode == 0, result.stderr
    assert "sessions: 2 deleted" in result.stdout and "pending_logins: 1 deleted" in result.stdout
    with Session(engine) as db:
        assert rows.remaining(db, AuthSession) == rows.kept[AuthSession]
