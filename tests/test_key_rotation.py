"""Secret-key rotation: what was sealed or keyed under an old key keeps working, then moves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient

from ankra_auth.app import create_app
from ankra_auth.clock import FrozenClock
from ankra_auth.config import Settings
from tests.conftest import PUBLIC_URL
from tests.helpers import Account, code_now, enroll_totp, sign_up, start_login
from tests.test_admin import run_admin

KEY_A = "key-a-" + "a" * 40
KEY_B = "key-b-" + "b" * 40


@contextmanager
def serving(settings: Settings, clock: FrozenClock, **keys: str | None) -> Iterator[TestClient]:
    """The service restarted with other keys (same database, same clock)."""
    app = create_app(settings.model_copy(update=keys), clock)
    try:
        with TestClient(app, base_url=PUBLIC_URL) as client:
            yield client
    finally:
        app.state.engine.dispose()


def totp_sign_in(client: TestClient, account: Account, clock: FrozenClock) -> int:
    clock.advance(30)  # a fresh time step for every sign-in
    mfa_token = start_login(client, account)["mfa_token"]
    r = client.post(
        "/api/v1/auth/mfa/totp",
        json={"mfa_token": mfa_token, "code": code_now(account.totp_secret, clock)},
    )
    return r.status_code


def recovery_sign_in(client: TestClient, account: Account) -> int:
    mfa_token = start_login(client, account)["mfa_token"]
    code = account.recovery_codes.pop()
    r = client.post("/api/v1/auth/mfa/recovery-code", json={"mfa_token": mfa_token, "code": code})
    return r.status_code


def test_rotating_the_secret_key(settings: Settings, clock: FrozenClock) -> None:
    with serving(settings, clock, secret_key=KEY_A) as client:
        account = sign_up(client, "rotate@example.com")
        enroll_totp(client, account, clock)
        other = sign_up(client, "rotate-too@example.com")
        enroll_totp(client, other, clock)

    # Restarted under key B, with key A (and some older key) as previous keys.
    with serving(settings, clock, secret_key=KEY_B, secret_key_previous=f"old-x,{KEY_A}") as client:
        assert totp_sign_in(client, account, clock) == 200
        assert recovery_sign_in(client, account) == 200

    env = {"ANKRA_DATABASE_URL": settings.database_url, "ANKRA_SECRET_KEY": KEY_B}
    rotate = run_admin("rotate-secrets", env={**env, "ANKRA_SECRET_KEY_PREVIOUS": KEY_A})
    assert rotate.returncode == 0, rotate.stderr
    assert "2 re-sealed, 0 already under the current key" in rotate.stdout
    again = run_admin("rotate-secrets", env={**env, "ANKRA_SECRET_KEY_PREVIOUS": KEY_A})
    assert "0 re-sealed, 2 already under the current key" in again.stdout

    with serving(settings, clock, secret_key=KEY_B) as client:
        assert totp_sign_in(client, account, clock) == 200
        assert totp_sign_in(client, other, clock) == 200
        # Recovery-code hashes cannot be re-keyed: without key A they no longer verify,
        # which is why key A stays in ANKRA_SECRET_KEY_PREVIOUS until users regenerate.
        assert recovery_sign_in(client, other) == 401

    with serving(settings, clock, secret_key=KEY_B, secret_key_previous=KEY_A) as client:
        assert recovery_sign_in(client, other) == 200


def test_rotate_secrets_reports_secrets_no_key_opens(
    settings: Settings, clock: FrozenClock
) -> None:
    with serving(settings, clock, secret_key=KEY_A) as client:
        enroll_totp(client, sign_up(client, "lost@example.com"), clock)
    env = {"ANKRA_DATABASE_URL": settings.database_url, "ANKRA_SECRET_KEY": KEY_B}
    result = run_admin("rotate-secrets", env=env)
    assert result.returncode == 1
    assert "0 re-sealed, 0 already under the current key, 1 opened by no configured key" in (
        result.stdout
    )


def test_a_password_backoff_begun_under_the_old_key_holds(
    settings: Settings, clock: FrozenClock
) -> None:
    wrong = {"email": "backoff@example.com", "password": "not the password"}
    with serving(settings, clock, secret_key=KEY_A) as client:
        sign_up(client, wrong["email"])
        for _ in range(10):
            assert client.post("/api/v1/auth/login", json=wrong).status_code == 401
        assert client.post("/api/v1/auth/login", json=wrong).status_code == 429
    with serving(settings, clock, secret_key=KEY_B, secret_key_previous=KEY_A) as client:
        assert client.post("/api/v1/auth/login", json=wrong).status_code == 429
