"""PostgreSQL restarts under sign-in load, and is not there yet when the service starts.

Each test owns its PostgreSQL server (initdb in a temporary directory, 127.0.0.1 only),
so restarting it disturbs no other test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.faults.checks import Answer, assert_unavailable_or_expected, sign_ins_are_whole, timed
from tests.faults.seed import SeededUser, totp_users
from tests.faults.services import code, new_email, running, sign_up, start_service
from tests.helpers import PASSWORD
from tests.postgres_server import PostgresServer

pytestmark = pytest.mark.faults

THREADS = 8
USERS_PER_THREAD = 30
POOL_TIMEOUT = 2.0


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()


def _sign_in_each(
    base: str, users: list[SeededUser], answers: list[Answer], stop: threading.Event
) -> None:
    """Full sign-ins (password, then TOTP), each user once: a step is spent only once."""
    with httpx.Client(timeout=30) as http:
        for user in users:
            if stop.is_set():
                return
            password = timed(
                "password",
                http,
                "POST",
                f"{base}/api/v1/auth/login",
                json={"email": user.email, "password": PASSWORD},
            )
            answers.append(password)
            if password.status != 200:
                continue
            mfa_token = password.body["mfa_token"]
            answers.append(
                timed(
                    "totp",
                    http,
                    "POST",
                    f"{base}/api/v1/auth/mfa/totp",
                    json={"mfa_token": mfa_token, "code": code(user.secret, 1)},
                )
            )


def test_a_database_restart_under_sign_in_load_loses_no_factor(
    own_postgres: PostgresServer, tmp_path: Path
) -> None:
    own_postgres.start()
    url = own_postgres.create_database("faults")
    env = {"ANKRA_DB_POOL_TIMEOUT_SECONDS": str(POOL_TIMEOUT)}
    service = start_service(url, log_path=tmp_path / "service.log", extra_env=env)
    with running(service):
        users = totp_users(url, THREADS * USERS_PER_THREAD, prefix="restart")
        answers: list[Answer] = []
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=_sign_in_each,
                args=(service.base, users[i::THREADS], answers, stop),
                daemon=True,
            )
            for i in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        try:
            _wait_for(lambda: sum(a.what == "totp" and a.status == 200 for a in answers) >= 8, 30)
            began = time.monotonic()
            own_postgres.restart()
            back = time.monotonic()

            def signed_in_after_restart() -> bool:
                return any(
                    a.what == "totp" and a.status == 200 and a.started > back for a in list(answers)
                )

            _wait_for(signed_in_after_restart, 10)
            recovered = time.monotonic() - back
            time.sleep(0.3)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
    assert_unavailable_or_expected(answers, {200, 401, 429})
    slowest = max(answers, key=lambda a: a.seconds)
    # The pool timeout bounds a wait for a connection; the rest is argon2 on a busy machine.
    assert slowest.seconds < POOL_TIMEOUT + 3, slowest
    during = [a for a in answers if began <= a.started + a.seconds and a.started <= back]
    unavailable = [a for a in answers if a.status == 503]
    assert recovered < 5, f"sign-ins came back {recovered:.1f}s after the restart"
    if unavailable:
        assert "database unavailable: " in service.log()
    print(
        f"{len(answers)} answers, {len(during)} during the restart, {len(unavailable)} 503s; "
        f"signed in again {recovered:.2f}s after it; slowest {slowest}"
    )
    sign_ins_are_whole(url, [u.id for u in users], users[0].enrolled_step)


def test_serve_waits_for_a_database_that_is_not_there_yet(
    own_postgres: PostgresServer, tmp_path: Path
) -> None:
    url = own_postgres.url("postgres")  # nothing listens on its port yet
    service = start_service(url, log_path=tmp_path / "service.log", ready=False)
    with running(service):
        _wait_for(lambda: _status(f"{service.base}/healthz") == 200, 30)
        assert _status(f"{service.base}/readyz") == 503
        r = sign_up(service.base, new_email("early"))
        assert r.status_code == 503 and r.json()["code"] == "service_unavailable", r.text
        assert int(r.headers["retry-after"]) > 0
        _wait_for(lambda: "database unreachable at start" in service.log(), 15)

        own_postgres.start()
        _wait_for(lambda: _status(f"{service.base}/readyz") == 200, 20)
        assert "migrations applied" in service.log()
        assert sign_up(service.base, new_email("late")).status_code == 201
        assert service.process.poll() is None


def _status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return None


def _wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{getattr(condition, '__name__', condition)}: not within {seconds}s"
            )
        time.sleep(0.05)
