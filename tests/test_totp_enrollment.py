"""Authenticator app set-up, confirmation, removal and the profile summary."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from ankra_auth.clock import FrozenClock
from ankra_auth.totp.models import TotpDevice
from tests.helpers import code_now, enroll_totp, sign_up, start_login
from tests.test_accounts import assert_problem


def profile(client: TestClient, auth: dict[str, str]) -> dict:  # type: ignore[type-arg]
    r = client.get("/api/v1/profile/auth", headers=auth)
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def test_start_shows_secret_uri_and_qr(client: TestClient) -> None:
    account = sign_up(client)
    r = client.post("/api/v1/profile/auth/totp", headers=account.auth)
    assert r.status_code == 201
    body = r.json()
    assert len(body["secret"]) == 32
    assert body["otpauth_uri"].startswith("otpauth://totp/Ankra:alice%40example.com?")
    assert body["qr_svg"].startswith("<svg")
    # Starting again replaces the unconfirmed secret.
    again = client.post("/api/v1/profile/auth/totp", headers=account.auth).json()
    assert again["secret"] != body["secret"]


def test_secret_is_encrypted_at_rest(client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    account = sign_up(client)
    secret = client.post("/api/v1/profile/auth/totp", headers=account.auth).json()["secret"]
    with app.state.session_factory() as db:
        stored = db.scalar(select(TotpDevice.secret_encrypted))
    assert secret not in stored


def test_confirm_turns_2fa_on_and_returns_ten_codes_once(
    client: TestClient, clock: FrozenClock
) -> None:
    account = sign_up(client)
    assert profile(client, account.auth)["two_factor_enabled"] is False
    enroll_totp(client, account, clock)
    assert len(account.recovery_codes) == 10
    assert profile(client, account.auth) == {
        "two_factor_enabled": True,
        "totp_enabled": True,
        "passkey_count": 0,
        "recovery_codes_remaining": 10,
        "enforced_by": [],
        "enrollment_required": False,
        "email_verified": False,
    }
    assert client.get("/api/v1/me", headers=account.auth).json()["two_factor_enabled"] is True
    assert_problem(
        client.post("/api/v1/profile/auth/totp", headers=account.auth), 409, "totp_already_enabled"
    )


def test_confirm_errors(client: TestClient, clock: FrozenClock) -> None:
    account = sign_up(client)
    r = client.post(
        "/api/v1/profile/auth/totp/confirm", json={"code": "123456"}, headers=account.auth
    )
    assert_problem(r, 409, "totp_not_started")
    secret = client.post("/api/v1/profile/auth/totp", headers=account.auth).json()["secret"]
    wrong = code_now(secret, clock, offset_steps=5)
    r = client.post("/api/v1/profile/auth/totp/confirm", json={"code": wrong}, headers=account.auth)
    assert_problem(r, 400, "invalid_code")
    assert profile(client, account.auth)["two_factor_enabled"] is False


def test_remove_totp_needs_reauth_and_is_refused_as_last_factor(
    client: TestClient, clock: FrozenClock
) -> None:
    account = sign_up(client)
    enroll_totp(client, account, clock)
    r = client.delete("/api/v1/profile/auth/totp", headers=account.auth)
    assert_problem(r, 409, "last_factor")
    clock.advance(11 * 60)
    r = client.delete("/api/v1/profile/auth/totp", headers=account.auth)
    assert_problem(r, 403, "reauthentication_required")
    r = client.post(
        "/api/v1/auth/reauthenticate", json={"password": "wrong-password"}, headers=account.auth
    )
    assert_problem(r, 401, "invalid_credentials")
    r = client.post(
        "/api/v1/auth/reauthenticate", json={"password": account.password}, headers=account.auth
    )
    assert r.status_code == 204
    assert_problem(
        client.delete("/api/v1/profile/auth/totp", headers=account.auth), 409, "last_factor"
    )


def test_remove_totp_not_found(client: TestClient) -> None:
    account = sign_up(client)
    assert_problem(
        client.delete("/api/v1/profile/auth/totp", headers=account.auth), 404, "not_found"
    )


def test_regenerate_recovery_codes(client: TestClient, clock: FrozenClock) -> None:
    account = sign_up(client)
    r = client.post("/api/v1/profile/auth/recovery-codes", headers=account.auth)
    assert_problem(r, 409, "two_factor_not_enabled")
    enroll_totp(client, account, clock)
    r = client.post("/api/v1/profile/auth/recovery-codes", headers=account.auth)
    assert r.status_code == 200
    fresh = r.json()["recovery_codes"]
    assert len(fresh) == 10 and not set(fresh) & set(account.recovery_codes)
    # The old set stopped working.
    mfa = start_login(client, account)["mfa_token"]
    r = client.post(
        "/api/v1/auth/mfa/recovery-code", json={"mfa_token": mfa, "code": account.recovery_codes[0]}
    )
    assert_problem(r, 401, "invalid_code")
    r = client.post("/api/v1/auth/mfa/recovery-code", json={"mfa_token": mfa, "code": fresh[0]})
    assert r.status_code == 200 and r.json()["recovery_codes_remaining"] == 9
    fresh_session = {"Authorization": f"Bearer {r.json()['access_token']}"}
    clock.advance(9 * 60)
    r = client.post("/api/v1/profile/auth/recovery-codes", headers=fresh_session)
    assert r.status_code == 200  # the recovery-code sign-in itself was a recent check
    clock.advance(2 * 60)
    r = client.post("/api/v1/profile/auth/recovery-codes", headers=fresh_session)
    assert_problem(r, 403, "reauthentication_required")


def test_disable_two_factor_removes_everything(client: TestClient, clock: FrozenClock) -> None:
    account = sign_up(client)
    enroll_totp(client, account, clock)
    clock.advance(11 * 60)
    assert_problem(
        client.delete("/api/v1/profile/auth", headers=account.auth),
        403,
        "reauthentication_required",
    )
    client.post(
        "/api/v1/auth/reauthenticate", json={"password": account.password}, headers=account.auth
    )
    assert client.delete("/api/v1/profile/auth", headers=account.auth).status_code == 204
    assert profile(client, account.auth) == {
        "two_factor_enabled": False,
        "totp_enabled": False,
        "passkey_count": 0,
        "recovery_codes_remaining": 0,
        "enforced_by": [],
        "enrollment_required": False,
        "email_verified": False,
    }
    login = client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert login.json()["status"] == "authenticated"
    # Enrolling again works and issues a new set.
    enroll_totp(client, account, clock)
    assert len(account.recovery_codes) == 10
