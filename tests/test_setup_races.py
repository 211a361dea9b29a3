"""Set-ups two tabs run at once: 2xx or 409, never 5xx, and exactly one recovery set.

Against real service processes (two workers) on both databases.
"""

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
from tests.soft_authenticator import SoftAuthenticator

RACERS = 6
KEYS = 4
TOTP = "/api/v1/profile/auth/totp"
PASSKEYS = "/api/v1/profile/auth/passkeys"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    with service_process(database_url, log_path=tmp_path / "server.log", workers=2) as base:
        yield base


def signed_in(base: str, email: str) -> dict[str, str]:
    with httpx.Client(base_url=base, timeout=30) as http:
        body = {"email": email, "password": PASSWORD}
        assert http.post("/api/v1/users", json=body).status_code == 201
        token = http.post("/api/v1/auth/login", json=body).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def no_server_errors(responses: list[httpx.Response], allowed: set[int]) -> None:
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= allowed, [(r.status_code, r.text) for r in responses]


def test_concurrent_totp_starts_answer_2xx_or_409(server: str) -> None:
    auth = signed_in(server, "starts@example.com")
    responses = race([lambda http: http.post(f"{server}{TOTP}", headers=auth)] * RACERS)
    # Serialized on the user: each start replaces the unconfirmed secret before it.
    no_server_errors(responses, {201})


def test_concurrent_passkey_options_and_regenerations_never_5xx(server: str) -> None:
    auth = signed_in(server, "tabs@example.com")
    responses = race([lambda http: http.post(f"{server}{PASSKEYS}/options", headers=auth)] * RACERS)
    no_server_errors(responses, {200, 409})
    enroll = enroll_totp(server, auth)
    assert enroll is not None
    responses = race(
        [lambda http: http.post(f"{server}/api/v1/profile/auth/recovery-codes", headers=auth)]
        * RACERS
    )
    no_server_errors(responses, {200, 409})
    # One set survives: the last regeneration replaced the others whole.
    with httpx.Client(base_url=server, timeout=30) as http:
        status = http.get("/api/v1/profile/auth", headers=auth).json()
    assert status["recovery_codes_remaining"] == 10


def enroll_totp(base: str, auth: dict[str, str]) -> list[str] | None:
    with httpx.Client(base_url=base, timeout=30) as http:
        secret = http.post(TOTP, headers=auth).json()["secret"]
        code = totp.code_at_step(secret=secret, step=totp.time_step(datetime.now(UTC)))
        r = http.post(f"{TOTP}/confirm", json={"code": code}, headers=auth)
        assert r.status_code == 200, r.text
        codes: list[str] | None = r.json()["recovery_codes"]
        return codes


def test_concurrent_totp_confirms_enable_once(server: str) -> None:
    auth = signed_in(server, "confirms@example.com")
    with httpx.Client(base_url=server, timeout=30) as http:
        secret = http.post(TOTP, headers=auth).json()["secret"]
    code = totp.code_at_step(secret=secret, step=totp.time_step(datetime.now(UTC)) + 1)
    responses = race(
        [lambda http: http.post(f"{server}{TOTP}/confirm", json={"code": code}, headers=auth)]
        * RACERS
    )
    no_server_errors(responses, {200, 409})
    assert sum(r.status_code == 200 for r in responses) == 1


def test_totp_confirm_raced_with_passkey_registrations_issues_one_recovery_set(
    server: str,
) -> None:
    for attempt in range(4):  # several rounds: no interleaving may issue two sets
        enroll_both_at_once(server, f"both{attempt}@example.com")


def enroll_both_at_once(server: str, email: str) -> None:
    auth = signed_in(server, email)
    with httpx.Client(base_url=server, timeout=30) as http:
        secret = http.post(TOTP, headers=auth).json()["secret"]
        credentials = [
            SoftAuthenticator().create(
                http.post(f"{PASSKEYS}/options", headers=auth).json(), origin=server
            )
            for _ in range(KEYS)
        ]
    code = totp.code_at_step(secret=secret, step=totp.time_step(datetime.now(UTC)) + 1)
    responses = race(
        [lambda http: http.post(f"{server}{TOTP}/confirm", json={"code": code}, headers=auth)]
        + [
            lambda http, c=c: http.post(
                f"{server}{PASSKEYS}", json={"name": "Key", "credential": c}, headers=auth
            )
            for c in credentials
        ]
    )
    assert [r.status_code for r in responses] == [200] + [201] * KEYS, [r.text for r in responses]
    issued = [r.json()["recovery_codes"] for r in responses if r.json()["recovery_codes"]]
    assert len(issued) == 1, issued
    with httpx.Client(base_url=server, timeout=30) as http:
        assert (
            http.get("/api/v1/profile/auth", headers=auth).json()["recovery_codes_remaining"] == 10
        )
        # the set that was shown is the set that works
        token = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()[
            "mfa_token"
        ]
        r = http.post(
            "/api/v1/auth/mfa/recovery-code", json={"mfa_token": token, "code": issued[0][0]}
        )
        assert r.status_code == 200, r.text
