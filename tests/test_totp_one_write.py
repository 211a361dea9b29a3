"""PostgreSQL's TOTP sign-in (``challenges.second_step`` on the event loop) locks the pending
login in the statement that reads and admits it, and writes the grant in one statement
whose answer decides: a login finished elsewhere first is found finished once its lock is
free, and a step spent elsewhere first leaves nothing of the grant written (the attempt
then counts as the replay it is).

"Elsewhere" is a real concurrent transaction: it changes the row first and holds it,
uncommitted, until the sign-in's statement is seen waiting for that row in
``pg_stat_activity``; then it commits, and PostgreSQL re-checks the sign-in's conditions
against the committed row, as it would for a request that lost the race."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, func, select, text, update

from ankra_auth.accounts.models import AuthSession
from ankra_auth.challenges.models import PendingLogin
from ankra_auth.clock import FrozenClock
from ankra_auth.device_tokens.models import DeviceToken
from ankra_auth.events.models import SecurityEvent
from ankra_auth.security import totp
from ankra_auth.totp.models import TotpDevice
from tests.helpers import Account, code_now, enroll_totp, sign_up, start_login
from tests.sent_statements import record_statements

TOTP = "/api/v1/auth/mfa/totp"


@pytest.fixture(autouse=True)
def _postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the one-statement write is PostgreSQL's; SQLite runs the statements apart")


# How the sign-in's two statements start: the read that locks the login and admits the
# attempt, and the one write (the step's spend, then the login's finish and the grant).
READ_AND_ADMIT = "WITH pending AS"
ONE_WRITE = "WITH spent_factor AS"


def _waiting(engine: Engine, statement: str) -> bool:
    """Whether the sign-in's ``statement`` waits on a row lock."""
    with engine.connect() as conn:
        waiting = conn.scalars(
            text("SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        ).all()
    return any(query.startswith(statement) for query in waiting)


@contextmanager
def changed_first(
    app: FastAPI, meddle: Callable[[Connection], None], waits_in: str
) -> Iterator[None]:
    """Run ``meddle`` in a transaction of its own that holds its rows until the sign-in's
    statement ``waits_in`` waits for them, and then commits: the concurrent request that
    got there first. The sign-in must be sent inside the block, from another thread."""
    engine = app.state.engine
    assert app.state.loop_pool is not None, "the TOTP sign-in is not on the event loop"
    with engine.connect() as other:
        meddle(other)  # uncommitted: its rows stay locked
        yield
        deadline = time.monotonic() + 15
        while not _waiting(engine, waits_in):
            assert time.monotonic() < deadline, f"the sign-in never waited in {waits_in}"
            time.sleep(0.02)
        other.commit()


def sign_in_meanwhile(client: TestClient, body: dict[str, str]) -> Callable[[], httpx.Response]:
    """POST the TOTP sign-in on a thread; the returned call waits for its answer."""
    answers: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: answers.append(client.post(TOTP, json=body)))
    thread.start()

    def answer() -> httpx.Response:
        thread.join(timeout=30)
        assert answers, "the sign-in did not answer"
        return answers[0]

    return answer


def counts(app: FastAPI) -> dict[str, int]:
    with app.state.engine.connect() as conn:
        return {
            model.__name__: conn.scalar(select(func.count()).select_from(model))
            for model in (AuthSession, SecurityEvent, DeviceToken)
        }


@pytest.fixture
def account(client: TestClient, clock: FrozenClock) -> Account:
    account = sign_up(client)
    enroll_totp(client, account, clock)
    return account


def test_a_step_spent_elsewhere_first_leaves_nothing_written(
    app: FastAPI, client: TestClient, clock: FrozenClock, account: Account
) -> None:
    mfa_token = start_login(client, account)["mfa_token"]
    before = counts(app)
    step = totp.time_step(clock.now())

    def spend_the_step(other: Connection) -> None:
        other.execute(update(TotpDevice).values(last_used_step=step))

    body = {"mfa_token": mfa_token, "code": code_now(account.totp_secret, clock)}
    with changed_first(app, spend_the_step, ONE_WRITE):
        answer = sign_in_meanwhile(client, body)
    r = answer()
    assert r.status_code == 401 and r.json()["code"] == "invalid_code", r.text
    after = counts(app)
    # One event more: the counted failure, never a sign_in; no session, no device token.
    assert after["AuthSession"] == before["AuthSession"]
    assert after["DeviceToken"] == before["DeviceToken"]
    with app.state.engine.connect() as conn:
        types = conn.scalars(select(SecurityEvent.type).order_by(SecurityEvent.created_at)).all()
        pending = conn.execute(select(PendingLogin.finished_at, PendingLogin.failed_attempts)).one()
    assert types.count("sign_in") == 1  # the sign-up's own sign-in only
    assert pending.finished_at is None and pending.failed_attempts == 1

    # The login itself is still usable, with the next step.
    r = client.post(
        TOTP, json={"mfa_token": mfa_token, "code": code_now(account.totp_secret, clock, 1)}
    )
    assert r.status_code == 200, r.text


def test_a_login_finished_elsewhere_first_keeps_the_step_unspent(
    app: FastAPI, client: TestClient, clock: FrozenClock, account: Account
) -> None:
    mfa_token = start_login(client, account)["mfa_token"]
    before = counts(app)
    with app.state.engine.connect() as conn:
        step_before = conn.scalar(select(TotpDevice.last_used_step))

    def finish_the_login(other: Connection) -> None:
        other.execute(update(PendingLogin).values(finished_at=clock.now()))

    body = {"mfa_token": mfa_token, "code": code_now(account.totp_secret, clock)}
    with changed_first(app, finish_the_login, READ_AND_ADMIT):
        answer = sign_in_meanwhile(client, body)
    r = answer()
    assert r.status_code == 401 and r.json()["code"] == "mfa_token_invalid", r.text
    assert counts(app) == before
    with app.state.engine.connect() as conn:
        assert conn.scalar(select(TotpDevice.last_used_step)) == step_before

    # The code is still good for a new login.
    mfa_token = start_login(client, account)["mfa_token"]
    r = client.post(
        TOTP, json={"mfa_token": mfa_token, "code": code_now(account.totp_secret, clock)}
    )
    assert r.status_code == 200, r.text


def test_a_sign_in_is_two_statements_in_one_transaction(
    client: TestClient, clock: FrozenClock, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BEGIN, the read that admits, the one write (with the organisations' read: whether
    one restricts the new session), COMMIT: four round trips, nothing read after."""
    sent = record_statements(monkeypatch)
    mfa_token = start_login(client, account)["mfa_token"]
    code = code_now(account.totp_secret, clock)
    r = client.post(TOTP, json={"mfa_token": mfa_token, "code": code})
    assert r.status_code == 200 and r.json()["enrollment_required"] is False, r.text
    assert [s[: len(READ_AND_ADMIT)] for s in sent] == [
        READ_AND_ADMIT,
        ONE_WRITE[: len(READ_AND_ADMIT)],
    ]
    assert "FROM memberships" in sent[1]  # the restriction, read in the write's statement
