"""Single use under concurrency, against a real service process on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from ankra_auth.security import totp
from tests.helpers import PASSWORD
from tests.live_server import service_process
from tests.race import race

RACERS = 20


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    with service_process(database_url, log_path=tmp_path / "server.log", workers=2) as base:
        yield base


def enroll(base: str, email: str) -> tuple[str, list[str]]:
    """Sign up and confirm TOTP with the *previous* step's code, leaving the current step unused."""
    http = httpx.Client(base_url=base, timeout=30)
    assert (
        http.post("/api/v1/users", json={"email": email, "password": PASSWORD}).status_code == 201
    )
    token = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()[
        "access_token"
    ]
    auth = {"Authorization": f"Bearer {token}"}
    secret = http.post("/api/v1/profile/auth/totp", headers=auth).json()["secret"]
    step = totp.time_step(datetime.now(UTC)) - 1
    r = http.post(
        "/api/v1/profile/auth/totp/confirm",
        json={"code": totp.code_at_step(secret=secret, step=step)},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    return secret, r.json()["recovery_codes"]


def pending_logins(base: str, email: str, count: int) -> list[str]:
    with httpx.Client(base_url=base, timeout=30) as http:
        return [
            http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()[
                "mfa_token"
            ]
            for _ in range(count)
        ]


def outcome(responses: list[httpx.Response]) -> tuple[int, set[int]]:
    successes = sum(r.status_code == 200 for r in responses)
    return successes, {r.status_code for r in responses}


def test_one_recovery_code_raced_across_pending_logins(server: str) -> None:
    _, codes = enroll(server, "race-rc@example.com")
    tokens = pending_logins(server, "race-rc@example.com", RACERS)
    url = f"{server}/api/v1/auth/mfa/recovery-code"
    responses = race(
        [lambda http, t=t: http.post(url, json={"mfa_token": t, "code": codes[0]}) for t in tokens]
    )
    successes, statuses = outcome(responses)
    assert successes == 1, [r.text for r in responses]
    assert statuses <= {200, 401, 429}
    winner = next(r for r in responses if r.status_code == 200).json()
    assert winner["recovery_codes_remaining"] == 9


def test_one_totp_code_raced_across_pending_logins(server: str) -> None:
    secret, _ = enroll(server, "race-totp@example.com")
    tokens = pending_logins(server, "race-totp@example.com", RACERS)
    # The next step's code: valid for the whole race even if a step boundary passes.
    code = totp.code_at_step(secret=secret, step=totp.time_step(datetime.now(UTC)) + 1)
    url = f"{server}/api/v1/auth/mfa/totp"
    responses = race(
        [lambda http, t=t: http.post(url, json={"mfa_token": t, "code": code}) for t in tokens]
    )
    successes, statuses = outcome(responses)
    assert successes == 1, [r.text for r in responses]
    assert statuses <= {200, 401, 429}


def test_one_pending_login_raced_with_different_valid_codes(server: str) -> None:
    _, codes = enroll(server, "race-pending@example.com")
    [token] = pending_logins(server, "race-pending@example.com", 1)
    url = f"{server}/api/v1/auth/mfa/recovery-code"
    responses = race(
        [lambda http, c=c: http.post(url, json={"mfa_token": token, "code": c}) for c in codes]
    )
    successes, _ = outcome(responses)
    assert successes == 1, [r.text for r in responses]
    assert all(r.json()["code"] == "mfa_token_invalid" for r in responses if r.status_code != 200)
    # Losers did not spend their codes: nine remain.
    with httpx.Client(base_url=server) as http:
        winner = next(r for r in responses if r.status_code == 200).json()
        profile = http.get(
            "/api/v1/profile/auth", headers={"Authorization": f"Bearer {winner['access_token']}"}
        )
        assert profile.json()["recovery_codes_remaining"] == 9
