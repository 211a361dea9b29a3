"""Device tokens (OWASP "device cookies"): a flood from elsewhere does not lock out known devices.

In-process with a frozen clock, on SQLite and PostgreSQL; the concurrent versions against
real service processes are in tests/test_races.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from ankra_auth.clock import FrozenClock
from ankra_auth.device_tokens.models import DeviceToken
from ankra_auth.events.models import SecurityEvent
from ankra_auth.security import tokens
from tests.cli.handoff_steps import authorize, exchange, handoff_token, new_verifier, query
from tests.conftest import PUBLIC_URL
from tests.helpers import Account, code_now, enroll_totp, sign_up
from tests.test_accounts import assert_problem

LOGIN = "/api/v1/auth/login"
TOTP = "/api/v1/auth/mfa/totp"
WRONG = "wrong-password"


def login(client: TestClient, account: Account, password: str, token: str | None = None) -> Any:
    body = {"email": account.email, "password": password}
    if token is not None:
        body["device_token"] = token
    return client.post(LOGIN, json=body)


def device_token_of_sign_up(client: TestClient, account: Account) -> str:
    r = login(client, account, account.password)
    assert r.status_code == 200, r.text
    token: str = r.json()["device_token"]
    return token


def flood_passwords(client: TestClient, account: Account, count: int = 10) -> None:
    """Wrong passwords from an attacker without a token: the email goes into backoff."""
    for _ in range(count):
        login(client, account, WRONG)
    assert_problem(login(client, account, account.password), 429, "rate_limited")


def stored_tokens(client: TestClient) -> list[DeviceToken]:
    with client.app.state.session_factory() as db:  # type: ignore[attr-defined]
        return list(db.scalars(select(DeviceToken)))


def test_every_authenticated_answer_carries_a_new_device_token(
    client: TestClient, clock: FrozenClock
) -> None:
    account = sign_up(client)
    r = login(client, account, account.password)
    body = r.json()
    token = body["device_token"]
    assert len(token) >= 22  # >= 128 bits, URL-safe base64
    rows = stored_tokens(client)
    # Stored only as a hash, bound to the account, living one year.
    assert tokens.hash_token(token) in {row.token_hash for row in rows}
    assert all(token not in (row.token_hash, row.id) for row in rows)
    mine = next(row for row in rows if row.token_hash == tokens.hash_token(token))
    assert mine.expires_at == clock.now() + timedelta(days=365)
    # A second factor's answer carries one too.
    enroll_totp(client, account, clock)
    mfa = login(client, account, account.password, token).json()["mfa_token"]
    r = client.post(TOTP, json={"mfa_token": mfa, "code": code_now(account.totp_secret, clock)})
    assert r.status_code == 200, r.text
    assert r.json()["device_token"] not in ("", token)  # rotated


def test_owner_with_a_device_token_gets_in_during_a_password_flood(
    client: TestClient, clock: FrozenClock
) -> None:
    account = sign_up(client)
    token = device_token_of_sign_up(client, account)
    flood_passwords(client, account, 30)
    # The attacker (no token) stays refused; the owner's device gets in.
    assert_problem(login(client, account, WRONG), 429, "rate_limited")
    r = login(client, account, account.password, token)
    assert r.status_code == 200, r.text
    # A typo on the known device counts on the token, not on the email's backoff.
    new_token = r.json()["device_token"]
    assert_problem(login(client, account, WRONG, new_token), 401, "invalid_credentials")
    assert login(client, account, account.password, new_token).status_code == 200


def test_rotation_retires_the_token_the_sign_in_counted_on(
    client: TestClient, clock: FrozenClock
) -> None:
    account = sign_up(client)
    old = device_token_of_sign_up(client, account)
    new = login(client, account, account.password, old).json()["device_token"]
    assert new != old
    flood_passwords(client, account)
    assert_problem(login(client, account, account.password, old), 429, "rate_limited")
    assert login(client, account, account.password, new).status_code == 200


def test_a_token_with_ten_failures_is_void(client: TestClient, clock: FrozenClock) -> None:
    account = sign_up(client)
    stolen = device_token_of_sign_up(client, account)
    for _ in range(10):  # the thief's guesses count on the token, not on the email
        assert_problem(login(client, account, WRONG, stolen), 401, "invalid_credentials")
    # Void: the next attempts count on the email like any other, and the email is not in
    # backoff yet: the token bought nothing beyond its own ten.
    for _ in range(10):
        assert_problem(login(client, account, WRONG, stolen), 401, "invalid_credentials")
    assert_problem(login(client, account, account.password, stolen), 429, "rate_limited")
    clock.advance(60)
    # The owner's next sign-in (which the void token does not help) gets a fresh one.
    r = login(client, account, account.password, stolen)
    assert r.status_code == 200 and r.json()["device_token"] != stolen


def test_a_token_of_another_account_is_not_accepted(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    alices_token = device_token_of_sign_up(client, alice)
    flood_passwords(client, bob)
    assert_problem(login(client, bob, bob.password, alices_token), 429, "rate_limited")
    # Nor did the attempt spend Alice's token.
    flood_passwords(client, alice)
    assert login(client, alice, alice.password, alices_token).status_code == 200


def test_an_expired_or_unknown_token_counts_on_the_email(
    client: TestClient, clock: FrozenClock
) -> None:
    account = sign_up(client)
    token = device_token_of_sign_up(client, account)
    clock.advance(int(timedelta(days=365).total_seconds()))
    flood_passwords(client, account)
    assert_problem(login(client, account, account.password, token), 429, "rate_limited")
    assert_problem(login(client, account, account.password, "x" * 43), 429, "rate_limited")


def test_second_factors_count_on_the_token_the_login_started_with(
    client: TestClient, clock: FrozenClock
) -> None:
    account = sign_up(client)
    enroll_totp(client, account, clock)
    # A full sign-in issues the owner's token.
    mfa = login(client, account, account.password).json()["mfa_token"]
    token = client.post(
        TOTP, json={"mfa_token": mfa, "code": code_now(account.totp_secret, clock)}
    ).json()["device_token"]
    clock.advance(30)
    # The attacker has the password but no token: ten wrong codes put the account into backoff.
    for _ in range(2):
        mfa = login(client, account, account.password).json()["mfa_token"]
        for _ in range(5):
            client.post(TOTP, json={"mfa_token": mfa, "code": "000000"})
    attacker = login(client, account, account.password).json()["mfa_token"]
    code = code_now(account.totp_secret, clock)
    assert_problem(
        client.post(TOTP, json={"mfa_token": attacker, "code": code}), 429, "rate_limited"
    )
    # The owner's device: its login remembers the token, so its codes count there.
    owner = login(client, account, account.password, token).json()["mfa_token"]
    assert_problem(
        client.post(TOTP, json={"mfa_token": owner, "code": "000000"}), 401, "invalid_code"
    )
    r = client.post(TOTP, json={"mfa_token": owner, "code": code})
    assert r.status_code == 200, r.text


def test_second_factor_failures_on_the_token_void_it(
    client: TestClient, clock: FrozenClock
) -> None:
    account = sign_up(client)
    enroll_totp(client, account, clock)
    mfa = login(client, account, account.password).json()["mfa_token"]
    token = client.post(
        TOTP, json={"mfa_token": mfa, "code": code_now(account.totp_secret, clock)}
    ).json()["device_token"]
    clock.advance(30)
    # Password and token stolen: ten wrong codes count on the token (the account is untouched).
    for _ in range(2):
        mfa = login(client, account, account.password, token).json()["mfa_token"]
        for _ in range(5):
            client.post(TOTP, json={"mfa_token": mfa, "code": "000000"})
    # Void: the next ten count on the account, which then backs off for everyone.
    for _ in range(2):
        mfa = login(client, account, account.password, token).json()["mfa_token"]
        for _ in range(5):
            client.post(TOTP, json={"mfa_token": mfa, "code": "000000"})
    mfa = login(client, account, account.password, token).json()["mfa_token"]
    r = client.post(TOTP, json={"mfa_token": mfa, "code": code_now(account.totp_secret, clock)})
    assert_problem(r, 429, "rate_limited")


def test_refused_attempts_record_one_throttled_event_per_window(
    client: TestClient, clock: FrozenClock
) -> None:
    account = sign_up(client)
    enroll_totp(client, account, clock)
    for window in range(2):
        for _ in range(3):
            mfa = login(client, account, account.password).json()["mfa_token"]
            for _ in range(5):
                client.post(TOTP, json={"mfa_token": mfa, "code": "000000"})
        if window == 0:
            clock.advance(60)  # the first window ends; the next failure opens a second one
    with client.app.state.session_factory() as db:  # type: ignore[attr-defined]
        types = list(db.scalars(select(SecurityEvent.type)))
    assert types.count("throttled") == 2


def test_pages_keep_the_device_token_in_an_httponly_cookie(
    client: TestClient, clock: FrozenClock
) -> None:
    account = sign_up(client)
    page = {"Origin": PUBLIC_URL}
    r = client.post(
        LOGIN, json={"email": account.email, "password": account.password}, headers=page
    )
    cookies = r.headers.get_list("set-cookie")
    device = next(c for c in cookies if c.startswith("ankra_device="))
    # Path=/: the single sign-on start reads it too (its second factor counts on it).
    assert "HttpOnly" in device and "Path=/;" in device
    assert "SameSite=strict" in device and "Max-Age=31536000" in device
    flood_passwords(client, account)
    # The page sends no token in the body: the cookie is read (only on our own pages' requests).
    assert_problem(login(client, account, account.password), 429, "rate_limited")
    r = client.post(
        LOGIN, json={"email": account.email, "password": account.password}, headers=page
    )
    assert r.status_code == 200, r.text
    # Signing out keeps the device known.
    session = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.post("/api/v1/auth/logout", headers=session).status_code == 204
    r = client.post(
        LOGIN, json={"email": account.email, "password": account.password}, headers=page
    )
    assert r.status_code == 200, r.text


def test_the_cli_exchange_answers_with_a_device_token_bound_to_its_login(
    client: TestClient, clock: FrozenClock
) -> None:
    account = sign_up(client)
    enroll_totp(client, account, clock)
    mfa = login(client, account, account.password).json()["mfa_token"]
    token = client.post(
        TOTP, json={"mfa_token": mfa, "code": code_now(account.totp_secret, clock)}
    ).json()["device_token"]
    clock.advance(30)
    # The CLI logs in with its token, the browser approves, the terminal exchanges.
    mfa = login(client, account, account.password, token).json()["mfa_token"]
    verifier = new_verifier()
    url = authorize(client, mfa, verifier=verifier).json()["browser_url"]
    r = client.post(
        f"/api/v1/auth/cli/handoff/{handoff_token(url)}/totp",
        json={"code": code_now(account.totp_secret, clock)},
    )
    assert r.status_code == 200, r.text
    r = exchange(client, query(r.json()["redirect_url"])["code"][0], verifier)
    assert r.status_code == 200, r.text
    rotated = r.json()["device_token"]
    assert rotated != token
    # The token the CLI logged in with is retired; the new one works during a flood.
    flood_passwords(client, account)
    assert_problem(login(client, account, account.password, token), 429, "rate_limited")
    assert login(client, account, account.password, rotated).status_code == 200


def test_clients_that_never_send_the_token_back_keep_at_most_twenty(
    client: TestClient, clock: FrozenClock
) -> None:
    account = sign_up(client)
    first = device_token_of_sign_up(client, account)
    for _ in range(25):
        clock.advance(1)
        device_token_of_sign_up(client, account)
    assert len(stored_tokens(client)) == 20
    flood_passwords(client, account)  # the oldest was dropped: it is no longer known
    assert_problem(login(client, account, account.password, first), 429, "rate_limited")
