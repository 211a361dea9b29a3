"""The hand-off API in process, with a frozen clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from ankra_auth.clock import FrozenClock
from tests.cli.handoff_steps import (
    REDIRECT,
    authorize,
    exchange,
    handoff_token,
    new_verifier,
    query,
)
from tests.conftest import PUBLIC_URL
from tests.helpers import Account, code_now, enroll_totp, sign_up, start_login


@pytest.fixture
def account(client: TestClient, clock: FrozenClock) -> Account:
    account = sign_up(client)
    enroll_totp(client, account, clock)
    return account


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def _loopback_code(client: TestClient, account: Account, clock: FrozenClock, verifier: str) -> str:
    mfa = start_login(client, account)["mfa_token"]
    r = authorize(client, mfa, verifier=verifier)
    assert r.status_code == 201, r.text
    token = handoff_token(r.json()["browser_url"])
    r = client.post(
        f"/api/v1/auth/cli/handoff/{token}/totp",
        json={"code": code_now(account.totp_secret, clock)},
    )
    assert r.status_code == 200, r.text
    return query(r.json()["redirect_url"])["code"][0]


def test_loopback_hand_off_with_totp(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    mfa = start_login(client, account)["mfa_token"]
    verifier = new_verifier()
    r = authorize(client, mfa, verifier=verifier)
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"browser_url"}
    browser_url = r.json()["browser_url"]
    assert browser_url.startswith(f"{PUBLIC_URL}/cli/login/")
    token = handoff_token(browser_url)
    assert len(token) >= 22  # >= 128 bits

    r = client.get(f"/api/v1/auth/cli/handoff/{token}")
    assert r.status_code == 200, r.text
    # The page names the account being signed in.
    assert r.json() == {
        "methods": ["totp", "recovery_code"],
        "email": account.email,
        "expires_in": 300,
        # A loopback hand-off: its redirect reaches only the opener's machine.
        "device_hand_off": False,
        "ip": None,
        "requested_at": None,
        "passkey_alone": False,  # `ankra login --passkey`: a passkey alone signs in
    }

    r = client.post(
        f"/api/v1/auth/cli/handoff/{token}/totp",
        json={"code": code_now(account.totp_secret, clock)},
    )
    assert r.status_code == 200, r.text
    redirect_url = r.json()["redirect_url"]
    assert redirect_url.startswith("http://127.0.0.1:53682/callback?from=ankra&")
    params = query(redirect_url)
    assert params["state"] == ["state-123"] and params["from"] == ["ankra"]
    code = params["code"][0]
    # The browser got no session: completing the step in it grants nothing there.
    assert "set-cookie" not in r.headers

    r = exchange(client, code, verifier)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["status"] == "authenticated" and answer["token_type"] == "bearer"
    assert answer["enrollment_required"] is False
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {answer['access_token']}"})
    assert me.status_code == 200 and me.json()["email"] == account.email

    # Everything is single use: the code, the page, and the CLI's own mfa_token.
    _problem(exchange(client, code, verifier), 400, "invalid_grant")
    _problem(client.get(f"/api/v1/auth/cli/handoff/{token}"), 401, "mfa_token_invalid")
    r = client.post(
        "/api/v1/auth/mfa/totp",
        json={"mfa_token": mfa, "code": code_now(account.totp_secret, clock, 1)},
    )
    _problem(r, 401, "mfa_token_invalid")

    events = client.get("/api/v1/profile/auth/events", headers=account.auth).json()["events"]
    kinds = [(e["type"], e["method"]) for e in events[:2]]
    assert kinds == [("sign_in", "totp"), ("cli_login_approved", "totp")]


def test_redirect_url_replaces_a_code_or_state_of_its_own(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    mfa = start_login(client, account)["mfa_token"]
    uri = "http://localhost:9/cb?code=planted&x=a%20b&state=planted"
    r = authorize(client, mfa, verifier=new_verifier(), redirect_uri=uri, state="real")
    token = handoff_token(r.json()["browser_url"])
    r = client.post(
        f"/api/v1/auth/cli/handoff/{token}/totp",
        json={"code": code_now(account.totp_secret, clock)},
    )
    url = r.json()["redirect_url"]
    assert url.startswith("http://localhost:9/cb?x=a%20b&code=")
    assert query(url)["state"] == ["real"] and len(query(url)["code"]) == 1


def test_wrong_verifier_burns_the_code(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    verifier = new_verifier()
    code = _loopback_code(client, account, clock, verifier)
    _problem(exchange(client, code, new_verifier()), 400, "invalid_grant")
    _problem(exchange(client, code, verifier), 400, "invalid_grant")


def test_code_expires_after_60_seconds(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    verifier = new_verifier()
    code = _loopback_code(client, account, clock, verifier)
    clock.advance(61)
    _problem(exchange(client, code, verifier), 400, "invalid_grant")


def test_code_works_until_60_seconds(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    verifier = new_verifier()
    code = _loopback_code(client, account, clock, verifier)
    clock.advance(59)
    assert exchange(client, code, verifier).status_code == 200


def test_unknown_code_is_invalid_grant(client: TestClient) -> None:
    _problem(exchange(client, "x" * 43, new_verifier()), 400, "invalid_grant")


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1.evil.example:8000/callback",
        "http://127.0.0.1@evil.example:8000/callback",
        "http://evil.example@127.0.0.1:8000/callback",
        "http://user:pass@localhost:8000/callback",
        "https://127.0.0.1:8000/callback",
        "http://evil.example:8000/callback",
        "http://localhost.evil.example:8000/callback",
        "http://127.0.0.1/callback",
        "http://127.0.0.1:8000",
        "http://127.0.0.1:08000/callback",
        "http://127.0.0.1:0/callback",
        "http://127.0.0.1:70000/callback",
        "http://127.0.0.1:8000/callback#fragment",
        "http://127.0.0.1:8000\\@evil.example/callback",
        "http://127.0.0.1:8000/call back",
        "http://127.0.0.2:8000/callback",
        "http://[::ffff:127.0.0.1]:8000/callback",
        "http://0x7f000001:8000/callback",
        "//127.0.0.1:8000/callback",
        "javascript:alert(1)//127.0.0.1:8000/",
        "ftp://127.0.0.1:8000/callback",
    ],
)
def test_only_loopback_redirect_uris(client: TestClient, account: Account, uri: str) -> None:
    mfa = start_login(client, account)["mfa_token"]
    r = authorize(client, mfa, verifier=new_verifier(), redirect_uri=uri)
    _problem(r, 400, "invalid_redirect_uri")


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:8000/callback",
        "http://[::1]:8000/callback",
        "http://localhost:65535/",
        "http://127.0.0.1:1/a/b?c=d",
    ],
)
def test_loopback_redirect_uris_are_accepted(
    client: TestClient, account: Account, uri: str
) -> None:
    mfa = start_login(client, account)["mfa_token"]
    assert authorize(client, mfa, verifier=new_verifier(), redirect_uri=uri).status_code == 201


def test_authorize_needs_a_live_mfa_token(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    _problem(authorize(client, "not-a-token", verifier=new_verifier()), 401, "mfa_token_invalid")
    mfa = start_login(client, account)["mfa_token"]
    clock.advance(301)
    _problem(authorize(client, mfa, verifier=new_verifier()), 401, "mfa_token_invalid")


@pytest.mark.parametrize(
    "change",
    [
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},
        {"code_challenge": "short"},
        {"code_challenge": "a" * 129},
        {"code_challenge": "+" * 43},
    ],
)
def test_pkce_must_be_s256(client: TestClient, account: Account, change: dict[str, Any]) -> None:
    mfa = start_login(client, account)["mfa_token"]
    body = {
        "mfa_token": mfa,
        "redirect_uri": REDIRECT,
        "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        **change,
    }
    body = {k: v for k, v in body.items() if v is not None}
    _problem(client.post("/api/v1/auth/cli/authorize", json=body), 422, "validation_error")


@pytest.mark.parametrize(
    "body",
    [
        {"code_verifier": "v" * 43},
        {"code": "c", "device_code": "d", "code_verifier": "v" * 43},
        {"code": "c", "code_verifier": "short"},
        {"code": "c"},
    ],
)
def test_token_takes_exactly_one_grant(client: TestClient, body: dict[str, Any]) -> None:
    _problem(client.post("/api/v1/auth/cli/token", json=body), 422, "validation_error")


def test_hand_off_failures_behave_like_the_mfa_endpoints(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    mfa = start_login(client, account)["mfa_token"]
    token = handoff_token(authorize(client, mfa, verifier=new_verifier()).json()["browser_url"])
    url = f"/api/v1/auth/cli/handoff/{token}/totp"
    for remaining in (4, 3, 2, 1):
        body = _problem(client.post(url, json={"code": "000000"}), 401, "invalid_code")
        assert body["attempts_remaining"] == remaining
    _problem(client.post(url, json={"code": "000000"}), 401, "too_many_attempts")
    good = {"code": code_now(account.totp_secret, clock)}
    _problem(client.post(url, json=good), 401, "mfa_token_invalid")
    r = client.post("/api/v1/auth/mfa/totp", json={"mfa_token": mfa, **good})
    _problem(r, 401, "mfa_token_invalid")
    types = [
        e["type"]
        for e in client.get("/api/v1/profile/auth/events", headers=account.auth).json()["events"]
    ]
    assert types[:2] == ["pending_login_voided", "second_factor_failed"]


def test_hand_off_and_mfa_endpoint_share_the_attempt_count(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    mfa = start_login(client, account)["mfa_token"]
    token = handoff_token(authorize(client, mfa, verifier=new_verifier()).json()["browser_url"])
    for _ in range(2):
        client.post("/api/v1/auth/mfa/totp", json={"mfa_token": mfa, "code": "000000"})
    # A code that cannot be one is refused before it costs an attempt, here as there.
    r = client.post(f"/api/v1/auth/cli/handoff/{token}/recovery-code", json={"code": "nope"})
    _problem(r, 422, "validation_error")
    r = client.post(f"/api/v1/auth/cli/handoff/{token}/recovery-code", json={"code": "ZZZZZ-ZZZZZ"})
    assert _problem(r, 401, "invalid_code")["attempts_remaining"] == 2


def test_hand_off_is_throttled_per_account(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    for _ in range(2):  # two pending logins, five failures each: ten in a row
        mfa = start_login(client, account)["mfa_token"]
        for _ in range(5):
            client.post("/api/v1/auth/mfa/totp", json={"mfa_token": mfa, "code": "000000"})
    mfa = start_login(client, account)["mfa_token"]
    token = handoff_token(authorize(client, mfa, verifier=new_verifier()).json()["browser_url"])
    r = client.post(
        f"/api/v1/auth/cli/handoff/{token}/totp",
        json={"code": code_now(account.totp_secret, clock)},
    )
    _problem(r, 429, "rate_limited")
    assert int(r.headers["retry-after"]) > 0


def test_hand_off_with_a_recovery_code(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    mfa = start_login(client, account)["mfa_token"]
    verifier = new_verifier()
    token = handoff_token(authorize(client, mfa, verifier=verifier).json()["browser_url"])
    used = account.recovery_codes[0]
    r = client.post(f"/api/v1/auth/cli/handoff/{token}/recovery-code", json={"code": used.lower()})
    assert r.status_code == 200, r.text
    assert exchange(client, query(r.json()["redirect_url"])["code"][0], verifier).status_code == 200
    status = client.get("/api/v1/profile/auth", headers=account.auth).json()
    assert status["recovery_codes_remaining"] == 9
    # Spent: the same recovery code fails in the next hand-off.
    mfa = start_login(client, account)["mfa_token"]
    token = handoff_token(authorize(client, mfa, verifier=verifier).json()["browser_url"])
    r = client.post(f"/api/v1/auth/cli/handoff/{token}/recovery-code", json={"code": used})
    _problem(r, 401, "invalid_code")


def test_unknown_or_expired_hand_off(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    _problem(client.get("/api/v1/auth/cli/handoff/nope"), 401, "mfa_token_invalid")
    r = client.post("/api/v1/auth/cli/handoff/nope/totp", json={"code": "123456"})
    _problem(r, 401, "mfa_token_invalid")
    mfa = start_login(client, account)["mfa_token"]
    token = handoff_token(authorize(client, mfa, verifier=new_verifier()).json()["browser_url"])
    clock.advance(240)
    assert client.get(f"/api/v1/auth/cli/handoff/{token}").json()["expires_in"] == 60
    clock.advance(60)
    _problem(client.get(f"/api/v1/auth/cli/handoff/{token}"), 401, "mfa_token_invalid")
    r = client.post(
        f"/api/v1/auth/cli/handoff/{token}/totp",
        json={"code": code_now(account.totp_secret, clock)},
    )
    _problem(r, 401, "mfa_token_invalid")


def test_one_pending_login_is_approved_once(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    mfa = start_login(client, account)["mfa_token"]
    first = handoff_token(authorize(client, mfa, verifier=new_verifier()).json()["browser_url"])
    second = handoff_token(authorize(client, mfa, verifier=new_verifier()).json()["browser_url"])
    r = client.post(
        f"/api/v1/auth/cli/handoff/{first}/totp",
        json={"code": code_now(account.totp_secret, clock)},
    )
    assert r.status_code == 200
    r = client.post(
        f"/api/v1/auth/cli/handoff/{second}/totp",
        json={"code": code_now(account.totp_secret, clock, 1)},
    )
    _problem(r, 401, "mfa_token_invalid")


def test_hand_off_with_a_passkey(client: TestClient, clock: FrozenClock) -> None:
    from tests.soft_authenticator import SoftAuthenticator

    account = sign_up(client)
    authenticator = SoftAuthenticator(origin=PUBLIC_URL)
    options = client.post("/api/v1/profile/auth/passkeys/options", headers=account.auth).json()
    r = client.post(
        "/api/v1/profile/auth/passkeys",
        json={"name": "Laptop", "credential": authenticator.create(options)},
        headers=account.auth,
    )
    assert r.status_code == 201, r.text

    mfa = start_login(client, account)["mfa_token"]
    verifier = new_verifier()
    token = handoff_token(authorize(client, mfa, verifier=verifier).json()["browser_url"])
    assert client.get(f"/api/v1/auth/cli/handoff/{token}").json()["methods"] == [
        "passkey",
        "recovery_code",
    ]
    base = f"/api/v1/auth/cli/handoff/{token}/passkey"
    options = client.post(f"{base}/options").json()
    assert options["rpId"] == "localhost" and options["allowCredentials"]
    r = client.post(base, json={"credential": authenticator.get(options, tamper=True)})
    assert _problem(r, 401, "invalid_code")["attempts_remaining"] == 4

    options = client.post(f"{base}/options").json()
    r = client.post(base, json={"credential": authenticator.get(options)})
    assert r.status_code == 200, r.text
    code = query(r.json()["redirect_url"])["code"][0]
    assert exchange(client, code, verifier).status_code == 200
    _problem(client.post(f"{base}/options"), 401, "mfa_token_invalid")
