from __future__ import annotations

from fastapi.testclient import TestClient

from ankra_auth.clock import FrozenClock
from tests.helpers import code_now, enroll_totp, sign_up, start_login


def test_totp_sign_in_round_trip(client: TestClient, clock: FrozenClock) -> None:
    account = sign_up(client)
    enroll_totp(client, account, clock)
    assert len(account.recovery_codes) == 10
    body = start_login(client, account)
    assert body["status"] == "mfa_required"
    assert body["methods"] == ["totp", "recovery_code"]
    r = client.post(
        "/api/v1/auth/mfa/totp",
        json={"mfa_token": body["mfa_token"], "code": code_now(account.totp_secret, clock)},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "authenticated"
