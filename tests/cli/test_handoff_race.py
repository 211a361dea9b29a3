"""Single use under concurrency: one loopback code, twenty simultaneous exchanges; one
device hand-off, ten simultaneous approvals, and an approval racing the poll that burns it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import httpx

from tests.cli.handoff_steps import (
    authorize,
    enter_user_code,
    exchange,
    handoff_token,
    new_verifier,
    poll,
    query,
)
from tests.cli.live_accounts import LiveAccount, enroll_totp, sign_up, start_login
from tests.live_server import service_process
from tests.race import race

RACERS = 20


def test_concurrent_exchanges_of_one_code_succeed_once(database_url: str, tmp_path: Path) -> None:
    with (
        service_process(database_url, log_path=tmp_path / "server.log", workers=2) as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        account = enroll_totp(sign_up(base))
        verifier = new_verifier()
        r = authorize(http, start_login(account), verifier=verifier)
        assert r.status_code == 201, r.text
        token = handoff_token(r.json()["browser_url"])
        r = http.post(f"/api/v1/auth/cli/handoff/{token}/totp", json={"code": account.next_code()})
        assert r.status_code == 200, r.text
        code = query(r.json()["redirect_url"])["code"][0]

        start = Barrier(RACERS)

        def race(_: int) -> httpx.Response:
            with httpx.Client(base_url=base, timeout=30) as own:
                start.wait()
                return exchange(own, code, verifier)

        with ThreadPoolExecutor(RACERS) as pool:
            answers = list(pool.map(race, range(RACERS)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [400] * (RACERS - 1), [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 400} == {"invalid_grant"}


def _opened_device(http: httpx.Client, account: LiveAccount) -> tuple[dict[str, str], str, str]:
    verifier = new_verifier()
    r = authorize(http, start_login(account), verifier=verifier, redirect_uri=None)
    assert r.status_code == 201, r.text
    started = r.json()
    r = enter_user_code(http, started["user_code"])
    assert r.status_code == 200, r.text
    return started, verifier, r.json()["approval_token"]


def _recovery_left(http: httpx.Client, account: LiveAccount) -> int:
    status = http.get("/api/v1/profile/auth", headers=account.auth).json()
    return int(status["recovery_codes_remaining"])


def test_concurrent_device_approvals_spend_one_recovery_code(
    database_url: str, tmp_path: Path
) -> None:
    with (
        service_process(database_url, log_path=tmp_path / "server.log", workers=2) as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        account = enroll_totp(sign_up(base))
        started, verifier, handle = _opened_device(http, account)
        answers = race(
            [
                lambda own, code=code: own.post(
                    f"{base}/api/v1/auth/cli/device/recovery-code",
                    json={"approval_token": handle, "code": code},
                )
                for code in account.recovery_codes
            ]
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200] + [401] * (len(answers) - 1), [a.text for a in answers]
        assert _recovery_left(http, account) == 9
        assert poll(http, started["device_code"], verifier).status_code == 200


def _approve_while_burning(base: str, http: httpx.Client, account: LiveAccount, code: str) -> None:
    started, _, handle = _opened_device(http, account)
    before = _recovery_left(http, account)
    approve, burn = race(
        [
            lambda own: own.post(
                f"{base}/api/v1/auth/cli/device/recovery-code",
                json={"approval_token": handle, "code": code},
            ),
            lambda own: own.post(
                f"{base}/api/v1/auth/cli/token",
                json={"device_code": started["device_code"], "code_verifier": "v" * 43},
            ),
        ]
    )
    assert burn.json()["code"] == "invalid_grant", burn.text
    # Either the approval won (the code is spent, then the terminal's grant was burned),
    # or the burn won and the code was not spent at all; never refused yet spent.
    if approve.status_code == 200:
        assert _recovery_left(http, account) == before - 1
    else:
        assert approve.json()["code"] == "mfa_token_invalid", approve.text
        assert _recovery_left(http, account) == before


def test_an_approval_racing_the_burning_poll_never_spends_a_factor_for_nothing(
    database_url: str, tmp_path: Path
) -> None:
    with (
        service_process(database_url, log_path=tmp_path / "server.log", workers=2) as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        account = enroll_totp(sign_up(base))
        for code in account.recovery_codes[:3]:
            _approve_while_burning(base, http, account, code)
