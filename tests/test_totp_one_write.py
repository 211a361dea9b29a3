"""PostgreSQL's TOTP sign-in writes everything in one statement whose answer decides
(``signin.second_factor``): when the step or the login was spent by someone else between
its read and that statement, nothing it wrote may stay."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, func, select, update

from ankra_auth.accounts.models import AuthSession
from ankra_auth.challenges.models import PendingLogin
from ankra_auth.clock import FrozenClock
from ankra_auth.device_tokens.models import DeviceToken
from ankra_auth.events.models import SecurityEvent
from ankra_auth.security import totp
from ankra_auth.totp.models import TotpDevice
from tests.helpers import Account, code_now, enroll_totp, sign_up, start_login

TOTP = "/api/v1/auth/mfa/totp"


@pytest.fixture(autouse=True)
def _postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the one-statement write is PostgreSQL's; SQLite runs the statements apart")


@contextmanager
def just_before_the_write(app: FastAPI, meddle: Callable[[Connection], None]) -> Iterator[None]:
    """Run ``meddle`` on a connection of its own, committed, right before the sign-in's
    one-statement write is sent: the concurrent sign-in that got there first."""
    engine = app.state.engine
    fired: list[bool] = []

    def before(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("WITH retired_device_tokens") and not fired:
            fired.append(True)
            with engine.begin() as other:
                meddle(other)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert fired, "the sign-in never reached its one-statement write"


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

    with just_before_the_write(app, spend_the_step):
        r = client.post(
            TOTP, json={"mfa_token": mfa_token, "code": code_now(account.totp_secret, clock)}
        )
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

    with just_before_the_write(app, finish_the_login):
        r = client.post(
            TOTP, json={"mfa_token": mfa_token, "code": code_now(account.totp_secret, clock)}
        )
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
