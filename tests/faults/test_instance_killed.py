"""``kill -9`` of one of two instances while it verifies second factors."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import bindparam, text

from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from tests.conftest import new_postgres_database
from tests.faults.checks import sign_ins_are_whole
from tests.faults.seed import totp_users
from tests.faults.services import code, running, start_service
from tests.helpers import PASSWORD
from tests.live_server import SECRET
from tests.postgres_server import PostgresServer

pytestmark = pytest.mark.faults

REQUESTS = 20


def test_a_killed_instance_leaves_every_pending_login_to_finish_once_on_the_other(
    postgres: PostgresServer | str, tmp_path: Path
) -> None:
    if isinstance(postgres, str):
        pytest.skip("needs a fresh database on a server this test run controls")
    url = new_postgres_database(postgres)
    a = start_service(url, log_path=tmp_path / "a.log")
    # One database connection on B: its requests queue, so the kill lands mid-flight.
    one_connection = {"ANKRA_DB_POOL_SIZE": "1", "ANKRA_DB_MAX_OVERFLOW": "0"}
    b = start_service(url, log_path=tmp_path / "b.log", extra_env=one_connection)
    with running(a, b):
        users = totp_users(url, REQUESTS, prefix="killed")
        tokens = []
        with httpx.Client(timeout=30) as http:
            for user in users:
                r = http.post(
                    f"{a.base}/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}
                )
                assert r.status_code == 200 and r.json()["status"] == "mfa_required", r.text
                tokens.append(r.json()["mfa_token"])
        bodies = [
            {"mfa_token": t, "code": code(u.secret, 1)} for t, u in zip(tokens, users, strict=True)
        ]

        unhealthy: list[str] = []
        watching = threading.Event()
        watching.set()

        def watch_a() -> None:
            with httpx.Client(timeout=5) as http:
                while watching.is_set():
                    for path in ("/healthz", "/readyz"):
                        try:
                            status = http.get(f"{a.base}{path}").status_code
                        except httpx.HTTPError as exc:
                            unhealthy.append(f"{path}: {exc!r}")
                            continue
                        if status != 200:
                            unhealthy.append(f"{path}: {status}")
                    time.sleep(0.05)

        watcher = threading.Thread(target=watch_a, daemon=True)
        watcher.start()

        answered: dict[int, httpx.Response] = {}
        first_answer = threading.Event()
        barrier = threading.Barrier(REQUESTS)

        def send(i: int) -> None:
            with httpx.Client(timeout=30) as http:
                barrier.wait()
                try:
                    answered[i] = http.post(f"{b.base}/api/v1/auth/mfa/totp", json=bodies[i])
                except httpx.TransportError:
                    return  # B died before it answered
                finally:
                    first_answer.set()

        senders = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(REQUESTS)]
        for sender in senders:
            sender.start()
        assert first_answer.wait(30)
        b.stop(signal.SIGKILL)
        for sender in senders:
            sender.join(timeout=30)
        assert b.process.returncode == -signal.SIGKILL

        assert all(r.status_code == 200 for r in answered.values()), [
            r.text for r in answered.values()
        ]
        unanswered = [i for i in range(REQUESTS) if i not in answered]
        assert unanswered, "B answered everything before it was killed: nothing was mid-flight"
        retried = {}
        with httpx.Client(timeout=30) as http:
            for i in unanswered:
                retried[i] = http.post(f"{a.base}/api/v1/auth/mfa/totp", json=bodies[i])
        for r in retried.values():
            # B may have committed a login it never answered: then A says it is used.
            assert r.status_code == 200 or r.json()["code"] == "mfa_token_invalid", r.text
        watching.clear()
        watcher.join(timeout=10)
        assert not unhealthy, unhealthy
        print(
            f"B answered {len(answered)}, {len(unanswered)} retried on A: "
            f"{sum(r.status_code == 200 for r in retried.values())} signed in there"
        )

    user_ids = [u.id for u in users]
    sign_ins_are_whole(url, user_ids, users[0].enrolled_step)
    # Exactly once: every pending login finished, each with its one session.
    engine = make_engine(Settings(database_url=url, secret_key=SECRET))
    try:
        with engine.connect() as db:
            finished = db.scalar(
                text(
                    "SELECT COUNT(*) FROM pending_logins WHERE user_id IN :ids "
                    "AND finished_at IS NOT NULL"
                ).bindparams(bindparam("ids", expanding=True)),
                {"ids": user_ids},
            )
            sessions = db.scalar(
                text("SELECT COUNT(*) FROM sessions WHERE user_id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": user_ids},
            )
    finally:
        engine.dispose()
    assert finished == sessions == REQUESTS
