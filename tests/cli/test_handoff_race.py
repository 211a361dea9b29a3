"""Single use under concurrency: one loopback code, twenty simultaneous exchanges."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import httpx

from tests.cli.handoff_steps import authorize, exchange, handoff_token, new_verifier, query
from tests.cli.live_accounts import enroll_totp, sign_up, start_login
from tests.live_server import service_process

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
