"""SIGTERM drains: requests in flight finish, new connections are refused, the exit is 0;
and a rolling restart of two instances behind the deploy's nginx loses no request."""

from __future__ import annotations

import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import new_postgres_database
from tests.faults.nginx import nginx_in_front
from tests.faults.services import Service, new_email, running, start_service
from tests.helpers import PASSWORD
from tests.postgres_server import PostgresServer

pytestmark = pytest.mark.faults

IN_FLIGHT = 16


def _refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


def test_sigterm_finishes_requests_in_flight_and_refuses_new_ones(tmp_path: Path) -> None:
    # One argon2 hash at a time: sixteen sign-ups queue inside the service.
    env = {"ANKRA_PASSWORD_HASH_CONCURRENCY": "1", "ANKRA_SHUTDOWN_GRACE_SECONDS": "15"}
    service = start_service(
        f"sqlite:///{tmp_path / 'ankra.db'}", log_path=tmp_path / "service.log", extra_env=env
    )
    with running(service):
        answers: list[tuple[float, int]] = []
        failures: list[str] = []
        first = threading.Event()
        barrier = threading.Barrier(IN_FLIGHT)

        def sign_up() -> None:
            with httpx.Client(timeout=30) as http:
                barrier.wait()
                try:
                    r = http.post(
                        f"{service.base}/api/v1/users",
                        json={"email": new_email("drain"), "password": PASSWORD},
                    )
                    answers.append((time.monotonic(), r.status_code))
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))
                finally:
                    first.set()

        threads = [threading.Thread(target=sign_up, daemon=True) for _ in range(IN_FLIGHT)]
        for thread in threads:
            thread.start()
        assert first.wait(30)
        service.process.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        deadline = stopped_at + 5
        while not _refused(service.port):
            assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
            time.sleep(0.02)
        refused_at = time.monotonic()
        for thread in threads:
            thread.join(timeout=30)
        assert service.process.wait(timeout=30) == 0, service.log()

    assert not failures, failures
    assert sorted(status for _, status in answers) == [201] * IN_FLIGHT
    finished_after = [t for t, _ in answers if t > refused_at]
    # Not vacuous: requests were still being answered after the port had closed.
    assert finished_after, "every request finished before the service stopped listening"
    print(f"{len(finished_after)} of {IN_FLIGHT} answered after new connections were refused")


def test_a_request_on_a_connection_open_before_sigterm_is_still_answered(tmp_path: Path) -> None:
    """What a proxy does: connect, then send. The stop must not reset that request."""
    service = start_service(f"sqlite:///{tmp_path / 'ankra.db'}", log_path=tmp_path / "service.log")
    with running(service), socket.create_connection(("127.0.0.1", service.port)) as early:
        time.sleep(0.2)  # accepted, no request yet
        service.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while not _refused(service.port):  # the stop has begun: the port is closed
            assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
            time.sleep(0.01)
        early.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        early.settimeout(10)
        answer = b""
        while chunk := early.recv(65536):
            answer += chunk
        assert service.process.wait(timeout=30) == 0, service.log()
    # Answered, then closed by the service (recv saw the end of the stream).
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert answer.endswith(b'{"status":"ok"}'), answer


def test_the_drain_is_bounded_by_the_grace_period(tmp_path: Path) -> None:
    env = {"ANKRA_SHUTDOWN_GRACE_SECONDS": "1"}
    service = start_service(
        f"sqlite:///{tmp_path / 'ankra.db'}", log_path=tmp_path / "service.log", extra_env=env
    )
    with running(service), socket.create_connection(("127.0.0.1", service.port)) as stuck:
        # A request whose body never arrives keeps its connection in flight forever.
        stuck.sendall(
            b"POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        time.sleep(0.3)
        began = time.monotonic()
        service.process.send_signal(signal.SIGTERM)
        assert service.process.wait(timeout=15) == 0, service.log()
        took = time.monotonic() - began
    assert took < 1 + 3, f"took {took:.1f}s to stop with a grace period of 1s"
    assert "timeout graceful shutdown exceeded" in service.log()


def test_a_rolling_restart_behind_nginx_loses_no_request(
    postgres: PostgresServer | str, tmp_path: Path
) -> None:
    if isinstance(postgres, str):
        pytest.skip("needs a fresh database on a server this test run controls")
    url = new_postgres_database(postgres)
    public = {"ANKRA_PUBLIC_URL": "http://localhost:8000"}
    logs = tmp_path / "logs"
    logs.mkdir()
    instances = [
        start_service(url, log_path=logs / f"{name}.log", extra_env=public) for name in "ab"
    ]
    live: list[Service] = list(instances)
    try:
        with nginx_in_front(tmp_path / "nginx", [s.port for s in instances]) as proxy:
            answers: list[str] = []
            problems: list[str] = []
            going = threading.Event()
            going.set()

            def traffic() -> None:
                with httpx.Client(timeout=30) as http:
                    while going.is_set():
                        email = new_email("rolling")
                        try:
                            r = http.post(
                                f"{proxy}/api/v1/users",
                                json={"email": email, "password": PASSWORD},
                            )
                            answers.append(f"sign-up {r.status_code}")
                            if r.status_code != 201:
                                problems.append(f"sign-up {r.status_code} {r.text}")
                                continue
                            r = http.post(
                                f"{proxy}/api/v1/auth/login",
                                json={"email": email, "password": PASSWORD},
                            )
                            answers.append(f"login {r.status_code}")
                            if r.status_code != 200:
                                problems.append(f"login {r.status_code} {r.text}")
                                continue
                            auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
                            r = http.get(f"{proxy}/api/v1/me", headers=auth)
                            answers.append(f"me {r.status_code}")
                            if r.status_code != 200:
                                problems.append(f"me {r.status_code} {r.text}")
                        except httpx.HTTPError as exc:
                            problems.append(repr(exc))

            threads = [threading.Thread(target=traffic, daemon=True) for _ in range(4)]
            for thread in threads:
                thread.start()
            try:
                time.sleep(1)
                for i, old in enumerate(instances):
                    assert old.stop(signal.SIGTERM) == 0, old.log()
                    new = start_service(url, log_path=old.log_path, port=old.port, extra_env=public)
                    live[i] = new
                    # nginx skips an upstream for fail_timeout (5 s) after it refused a
                    # connection; restarting the other one sooner would leave none.
                    time.sleep(5.5)
            finally:
                going.clear()
                for thread in threads:
                    thread.join(timeout=60)
    finally:
        for service in live:
            service.stop()
    assert not problems, problems[:5]
    assert len(answers) > 50, answers
    print(f"{len(answers)} answers through nginx during a rolling restart, none lost")
