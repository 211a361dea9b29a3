"""Throttles count before they check: concurrent floods across two service processes.

Two real ``ankra-auth serve`` processes share one database (SQLite file or PostgreSQL);
the flood is split between them. Of any number of concurrent wrong attempts at most 10
are answered with a failure and the rest 429; a right answer sent once the backoff has
begun does not get in, except from the owner's known device (its device token).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from ankra_auth.security import totp
from tests.helpers import PASSWORD
from tests.live_server import service_process
from tests.race import race
from tests.test_races import enroll

FLOOD = 40
PENDING_LOGINS = FLOOD // 5  # five attempts each before a pending login is void
WRONG = "wrong-password"


@dataclass(frozen=True)
class Pair:
    a: str
    b: str

    def instance(self, i: int) -> str:
        return self.a if i % 2 == 0 else self.b


@pytest.fixture
def pair(database_url: str, tmp_path: Path) -> Iterator[Pair]:
    with (
        service_process(database_url, log_path=tmp_path / "a.log") as a,
        service_process(database_url, log_path=tmp_path / "b.log") as b,
    ):
        yield Pair(a, b)


Call = Callable[[httpx.Client], httpx.Response]


class FirstRefusal:
    """Set when the flood's first 429 comes back: from then on the backoff has begun."""

    def __init__(self) -> None:
        self.seen = threading.Event()

    def watch(self, call: Call) -> Call:
        def watched(http: httpx.Client) -> httpx.Response:
            r = call(http)
            if r.status_code == 429:
                self.seen.set()
            return r

        return watched

    def after(self, call: Call) -> Call:
        def delayed(http: httpx.Client) -> httpx.Response:
            assert self.seen.wait(timeout=60), "the flood was never refused"
            return call(http)

        return delayed


def login_call(base: str, email: str, password: str, device_token: str | None = None) -> Call:
    body = {"email": email, "password": password}
    if device_token is not None:
        body["device_token"] = device_token
    return lambda http: http.post(f"{base}/api/v1/auth/login", json=body)


def codes(responses: list[httpx.Response]) -> list[str]:
    return [r.json().get("code", "ok") if r.status_code != 200 else "ok" for r in responses]


def test_wrong_passwords_across_two_instances(pair: Pair) -> None:
    email = "flood-pw@example.com"
    assert (
        httpx.post(
            f"{pair.a}/api/v1/users", json={"email": email, "password": PASSWORD}
        ).status_code
        == 201
    )
    owner = httpx.post(f"{pair.b}/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    device_token = owner.json()["device_token"]

    refusal = FirstRefusal()
    flood = [refusal.watch(login_call(pair.instance(i), email, WRONG)) for i in range(FLOOD)]
    right_without_token = refusal.after(login_call(pair.a, email, PASSWORD))
    right_with_token = refusal.after(login_call(pair.b, email, PASSWORD, device_token))
    *answers, stranger, known = race([*flood, right_without_token, right_with_token])

    seen = codes(answers)
    assert seen.count("invalid_credentials") <= 10, seen
    assert seen.count("invalid_credentials") + seen.count("rate_limited") == FLOOD, seen
    assert stranger.status_code == 429 and stranger.json()["code"] == "rate_limited", stranger.text
    assert int(stranger.headers["Retry-After"]) > 0
    assert known.status_code == 200, known.text  # the owner's device is not locked out
    assert known.json()["status"] == "authenticated"
    # And the attacker still is.
    r = httpx.post(f"{pair.a}/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 429


def test_wrong_second_factors_across_pending_logins_and_instances(pair: Pair) -> None:
    email = "flood-mfa@example.com"
    secret, _ = enroll(pair.a, email)
    with httpx.Client(timeout=30) as http:
        # The owner signs in fully once on a device: that answer carries its token.
        mfa = http.post(
            f"{pair.a}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
        ).json()["mfa_token"]
        step = totp.time_step(datetime.now(UTC))
        done = http.post(
            f"{pair.b}/api/v1/auth/mfa/totp",
            json={"mfa_token": mfa, "code": totp.code_at_step(secret=secret, step=step)},
        )
        assert done.status_code == 200, done.text
        device_token = done.json()["device_token"]
        # The attacker holds the password: pending logins of their own, and one more to try
        # the right code with once the backoff has begun.
        attacker = [
            http.post(
                f"{pair.instance(i)}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
            ).json()["mfa_token"]
            for i in range(PENDING_LOGINS + 1)
        ]
        owners = http.post(
            f"{pair.b}/api/v1/auth/login",
            json={"email": email, "password": PASSWORD, "device_token": device_token},
        ).json()["mfa_token"]
    # The next step's code: unused yet, and valid for the whole race even if a step passes.
    right = totp.code_at_step(secret=secret, step=step + 1)

    def attempt(base: str, mfa_token: str, code: str) -> Call:
        return lambda http: http.post(
            f"{base}/api/v1/auth/mfa/totp", json={"mfa_token": mfa_token, "code": code}
        )

    refusal = FirstRefusal()
    flood = [
        refusal.watch(attempt(pair.instance(i), attacker[i % PENDING_LOGINS], "000000"))
        for i in range(FLOOD)
    ]
    stranger_call = refusal.after(attempt(pair.a, attacker[-1], right))
    owner_call = refusal.after(attempt(pair.b, owners, right))
    *answers, stranger, owner = race([*flood, stranger_call, owner_call])

    seen = codes(answers)
    failed = [c for c in seen if c in ("invalid_code", "too_many_attempts", "mfa_token_invalid")]
    assert len(failed) <= 10, seen
    assert len(failed) + seen.count("rate_limited") == FLOOD, seen
    assert stranger.status_code == 429 and stranger.json()["code"] == "rate_limited", stranger.text
    assert owner.status_code == 200, owner.text
    assert owner.json()["status"] == "authenticated"
