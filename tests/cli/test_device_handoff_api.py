"""The device hand-off (RFC 8628, section 5.4) in process, frozen clock, SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ankra_auth.clock import FrozenClock
from tests.cli.handoff_steps import (
    authorize,
    device_factor,
    enter_user_code,
    new_verifier,
    poll,
)
from tests.conftest import PUBLIC_URL
from tests.helpers import Account, code_now, enroll_totp, sign_up, start_login

CROCKFORD_CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


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


def _device(client: TestClient, account: Account) -> tuple[dict[str, Any], str]:
    verifier = new_verifier()
    r = authorize(
        client, start_login(client, account)["mfa_token"], verifier=verifier, redirect_uri=None
    )
    assert r.status_code == 201, r.text
    return r.json(), verifier


def _recovery_left(client: TestClient, account: Account) -> int:
    status = client.get("/api/v1/profile/auth", headers=account.auth).json()
    return int(status["recovery_codes_remaining"])


def test_device_hand_off_typed_code_then_totp_while_the_cli_polls(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    mfa = start_login(client, account)["mfa_token"]
    verifier = new_verifier()
    requested_at = clock.now()
    r = authorize(client, mfa, verifier=verifier, redirect_uri=None)
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    started = r.json()
    assert set(started) == {"browser_url", "user_code", "device_code", "interval", "expires_in"}
    # One fixed page for everyone: nothing in it that names this hand-off.
    assert started["browser_url"] == f"{PUBLIC_URL}/cli/device"
    assert CROCKFORD_CODE.fullmatch(started["user_code"]), started["user_code"]
    assert len(started["device_code"]) >= 22
    assert started["interval"] == 5 and started["expires_in"] == 600
    device_code = started["device_code"]
    # The device hand-off took the pending login over: its mfa_token no longer works.
    r = client.post(
        "/api/v1/auth/mfa/totp",
        json={"mfa_token": mfa, "code": code_now(account.totp_secret, clock)},
    )
    _problem(r, 401, "mfa_token_invalid")

    _problem(poll(client, device_code, verifier), 400, "authorization_pending")
    _problem(poll(client, device_code, verifier), 400, "slow_down")
    clock.advance(5)
    _problem(poll(client, device_code, verifier), 400, "authorization_pending")

    # The person types the code sloppily: lower case, spaces, no dash.
    typed = started["user_code"].replace("-", " ").lower()
    clock.advance(30)
    r = enter_user_code(client, f"  {typed} ")
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    opened = r.json()
    assert set(opened) == {
        "approval_token",
        "email",
        "ip",
        "requested_at",
        "methods",
        "expires_in",
        "sso_provider",
        "passkey_alone",
    }
    assert opened["sso_provider"] is None  # set for `ankra login --sso --no-browser` only
    assert opened["passkey_alone"] is False  # true for `ankra login --passkey --no-browser`
    assert opened["email"] == account.email
    assert opened["ip"] == "testclient"  # the terminal's address, as the service saw it
    assert datetime.fromisoformat(opened["requested_at"]) == requested_at
    assert opened["methods"] == ["totp", "recovery_code"]
    assert opened["expires_in"] == 600 - 35
    assert len(opened["approval_token"]) >= 22

    r = device_factor(
        client, opened["approval_token"], "totp", code_now(account.totp_secret, clock)
    )
    assert r.status_code == 200 and r.json() == {"redirect_url": None}, r.text
    # Approved: the handle and the code open nothing any more.
    r = device_factor(
        client, opened["approval_token"], "totp", code_now(account.totp_secret, clock, 1)
    )
    _problem(r, 401, "mfa_token_invalid")
    _problem(enter_user_code(client, started["user_code"]), 400, "invalid_user_code")

    r = poll(client, device_code, verifier)
    assert r.status_code == 200, r.text
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.status_code == 200 and me.json()["email"] == account.email
    clock.advance(5)
    _problem(poll(client, device_code, verifier), 400, "invalid_grant")
    event = client.get("/api/v1/profile/auth/events", headers=account.auth).json()["events"][1]
    assert event["type"] == "cli_login_approved" and event["method"] == "totp"
    assert event["detail"] == {"note": "device hand-off requested from testclient"}


def test_the_user_code_is_never_stored_or_served(
    client: TestClient, account: Account, app: Any
) -> None:
    started, _ = _device(client, account)
    page = client.get(started["browser_url"].removeprefix(PUBLIC_URL))
    assert page.status_code == 200 and "Code from your terminal" in page.text
    for secret in (
        started["user_code"],
        started["user_code"].replace("-", ""),
        started["device_code"],
    ):
        assert secret not in page.text
    from sqlalchemy import text

    with app.state.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM cli_grants")).all()
    dump = repr(rows)
    assert started["user_code"].replace("-", "") not in dump and started["user_code"] not in dump


@pytest.mark.parametrize("typed", ["", "ABCD", "ABCD-EFGH-J", "ABCU-EFGH", "ÄBCD-EFGH"])
def test_malformed_codes_are_wrong_codes(client: TestClient, account: Account, typed: str) -> None:
    _device(client, account)
    r = enter_user_code(client, typed)
    if typed == "":
        _problem(r, 422, "validation_error")
    else:
        _problem(r, 400, "invalid_user_code")


def test_wrong_codes_are_throttled_per_address(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    started, _ = _device(client, account)
    right = started["user_code"]
    wrong = "0000-0000" if right != "0000-0000" else "1111-1111"
    # A right code gives its reservation back: it never uses up the budget...
    assert enter_user_code(client, right).status_code == 200
    for _ in range(10):
        _problem(enter_user_code(client, wrong), 400, "invalid_user_code")
    # ...nor resets it: after ten wrong codes, even the right one waits.
    body = _problem(enter_user_code(client, right), 429, "rate_limited")
    assert 0 < body["retry_after"] <= 15 * 60
    r = enter_user_code(client, wrong)
    assert _problem(r, 429, "rate_limited") and int(r.headers["retry-after"]) > 0
    clock.advance(15 * 60)
    # The window has passed, but the hand-off too (10 minutes): a fresh one opens.
    fresh, _ = _device(client, account)
    assert enter_user_code(client, fresh["user_code"]).status_code == 200


def test_retyping_the_code_replaces_the_approval_handle(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    started, verifier = _device(client, account)
    first = enter_user_code(client, started["user_code"]).json()["approval_token"]
    second = enter_user_code(client, started["user_code"]).json()["approval_token"]
    code = code_now(account.totp_secret, clock)
    _problem(device_factor(client, first, "totp", code), 401, "mfa_token_invalid")
    assert device_factor(client, second, "totp", code).status_code == 200
    clock.advance(5)
    assert poll(client, started["device_code"], verifier).status_code == 200


def test_pages_do_not_open_each_others_grants(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    started, _ = _device(client, account)
    handle = enter_user_code(client, started["user_code"]).json()["approval_token"]
    # The device handle is not a loopback page token, nor is the device code anything.
    _problem(client.get(f"/api/v1/auth/cli/handoff/{handle}"), 401, "mfa_token_invalid")
    for guess in (started["device_code"], started["user_code"]):
        r = client.post(f"/api/v1/auth/cli/handoff/{guess}/totp", json={"code": "123456"})
        _problem(r, 401, "mfa_token_invalid")
        _problem(device_factor(client, guess, "totp", "123456"), 401, "mfa_token_invalid")
    # A loopback token does not open the device endpoints.
    r = authorize(client, start_login(client, account)["mfa_token"], verifier=new_verifier())
    token = r.json()["browser_url"].rsplit("/", 1)[-1]
    _problem(device_factor(client, token, "totp", "123456"), 401, "mfa_token_invalid")
    assert _recovery_left(client, account) == 10


def test_a_burned_grant_spends_no_factor(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    started, verifier = _device(client, account)
    handle = enter_user_code(client, started["user_code"]).json()["approval_token"]
    _problem(poll(client, started["device_code"], new_verifier()), 400, "invalid_grant")
    r = device_factor(client, handle, "recovery-code", account.recovery_codes[0])
    _problem(r, 401, "mfa_token_invalid")
    r = device_factor(client, handle, "totp", code_now(account.totp_secret, clock))
    _problem(r, 401, "mfa_token_invalid")
    assert _recovery_left(client, account) == 10
    _problem(enter_user_code(client, started["user_code"]), 400, "invalid_user_code")
    clock.advance(5)
    _problem(poll(client, started["device_code"], verifier), 400, "invalid_grant")


def test_an_expired_hand_off_cannot_be_approved(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    started, verifier = _device(client, account)
    handle = enter_user_code(client, started["user_code"]).json()["approval_token"]
    clock.advance(599)
    _problem(poll(client, started["device_code"], verifier), 400, "authorization_pending")
    clock.advance(1)
    _problem(poll(client, started["device_code"], verifier), 400, "expired_token")
    r = device_factor(client, handle, "recovery-code", account.recovery_codes[0])
    _problem(r, 401, "mfa_token_invalid")
    _problem(enter_user_code(client, started["user_code"]), 400, "invalid_user_code")
    assert _recovery_left(client, account) == 10
    _problem(poll(client, "unknown-device-code", verifier), 400, "invalid_grant")


def test_an_approved_code_not_collected_in_60_seconds_expires(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    started, verifier = _device(client, account)
    handle = enter_user_code(client, started["user_code"]).json()["approval_token"]
    assert (
        device_factor(client, handle, "recovery-code", account.recovery_codes[0]).status_code == 200
    )
    clock.advance(61)
    _problem(poll(client, started["device_code"], verifier), 400, "expired_token")


def test_device_hand_off_with_a_passkey(client: TestClient, clock: FrozenClock) -> None:
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
    started, verifier = _device(client, account)
    opened = enter_user_code(client, started["user_code"]).json()
    assert opened["methods"] == ["passkey", "recovery_code"]
    body = {"approval_token": opened["approval_token"]}
    options = client.post("/api/v1/auth/cli/device/passkey/options", json=body).json()
    assert options["rpId"] == "localhost"
    r = client.post(
        "/api/v1/auth/cli/device/passkey", json={**body, "credential": authenticator.get(options)}
    )
    assert r.status_code == 200 and r.json() == {"redirect_url": None}, r.text
    clock.advance(5)
    assert poll(client, started["device_code"], verifier).status_code == 200


def test_a_voided_hand_off_opens_no_more(
    client: TestClient, clock: FrozenClock, account: Account
) -> None:
    started, _ = _device(client, account)
    handle = enter_user_code(client, started["user_code"]).json()["approval_token"]
    for _ in range(4):
        _problem(device_factor(client, handle, "totp", "000000"), 401, "invalid_code")
    _problem(device_factor(client, handle, "totp", "000000"), 401, "too_many_attempts")
    _problem(enter_user_code(client, started["user_code"]), 400, "invalid_user_code")
