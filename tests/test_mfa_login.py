"""The second-factor step of sign-in: every number in the contract's table."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ankra_auth.clock import FrozenClock
from tests.conftest import PUBLIC_URL
from tests.helpers import Account, code_now, enroll_totp, sign_up, start_login
from tests.test_accounts import assert_problem

TOTP = "/api/v1/auth/mfa/totp"
RECOVERY = "/api/v1/auth/mfa/recovery-code"


def enrolled(client: TestClient, clock: FrozenClock, email: str = "alice@example.com") -> Account:
    account = sign_up(client, email)
    enroll_totp(client, account, clock)
    return account


def test_login_asks_for_a_second_factor(client: TestClient, clock: FrozenClock) -> None:
    account = enrolled(client, clock)
    body = start_login(client, account)
    assert set(body) == {"status", "mfa_token", "expires_in", "methods"}
    assert body["status"] == "mfa_required" and body["expires_in"] == 300
    assert body["methods"] == ["totp", "recovery_code"]
    assert len(body["mfa_token"]) >= 22


def test_previous_current_and_next_step_accepted(client: TestClient, clock: FrozenClock) -> None:
    account = enrolled(client, clock)
    for offset in (-1, 0, 1):
        clock.advance(90)  # a fresh window each round, beyond the last used step
        mfa = start_login(client, account)["mfa_token"]
        r = client.post(
            TOTP, json={"mfa_token": mfa, "code": code_now(account.totp_secret, clock, offset)}
        )
        assert r.status_code == 200, (offset, r.text)
        assert r.json()["status"] == "authenticated"
    clock.advance(90)
    mfa = start_login(client, account)["mfa_token"]
    r = client.post(TOTP, json={"mfa_token": mfa, "code": code_now(account.totp_secret, clock, 2)})
    assert_problem(r, 401, "invalid_code")


def test_a_step_is_accepted_once(client: TestClient, clock: FrozenClock) -> None:
    account = enrolled(client, clock)
    code = code_now(account.totp_secret, clock)
    first = start_login(client, account)["mfa_token"]
    assert client.post(TOTP, json={"mfa_token": first, "code": code}).status_code == 200
    second = start_login(client, account)["mfa_token"]
    replay = client.post(TOTP, json={"mfa_token": second, "code": code})
    body = assert_problem(replay, 401, "invalid_code")  # a replay fails like a wrong code
    assert body["attempts_remaining"] == 4
    # An older step than the last accepted one is a replay too.
    older = client.post(
        TOTP, json={"mfa_token": second, "code": code_now(account.totp_secret, clock, -1)}
    )
    assert_problem(older, 401, "invalid_code")


def test_pending_login_is_single_use(client: TestClient, clock: FrozenClock) -> None:
    account = enrolled(client, clock)
    mfa = start_login(client, account)["mfa_token"]
    assert (
        client.post(
            TOTP, json={"mfa_token": mfa, "code": code_now(account.totp_secret, clock)}
        ).status_code
        == 200
    )
    clock.advance(30)
    r = client.post(TOTP, json={"mfa_token": mfa, "code": code_now(account.totp_secret, clock)})
    assert_problem(r, 401, "mfa_token_invalid")
    r = client.post(RECOVERY, json={"mfa_token": mfa, "code": account.recovery_codes[0]})
    assert_problem(r, 401, "mfa_token_invalid")


def test_pending_login_expires_after_five_minutes(client: TestClient, clock: FrozenClock) -> None:
    account = enrolled(client, clock)
    mfa = start_login(client, account)["mfa_token"]
    clock.advance(300)
    r = client.post(TOTP, json={"mfa_token": mfa, "code": code_now(account.totp_secret, clock)})
    assert_problem(r, 401, "mfa_token_invalid")


def test_five_failures_void_the_pending_login(client: TestClient, clock: FrozenClock) -> None:
    account = enrolled(client, clock)
    mfa = start_login(client, account)["mfa_token"]
    remaining = []
    for attempt in range(4):
        path, code = (TOTP, "000000") if attempt % 2 else (RECOVERY, "AAAAA-AAAAA")
        remaining.append(
            assert_problem(
                client.post(path, json={"mfa_token": mfa, "code": code}), 401, "invalid_code"
            )["attempts_remaining"]
        )
    assert remaining == [4, 3, 2, 1]
    assert_problem(
        client.post(TOTP, json={"mfa_token": mfa, "code": "000000"}), 401, "too_many_attempts"
    )
    # Even the right code no longer works with this token.
    r = client.post(TOTP, json={"mfa_token": mfa, "code": code_now(account.totp_secret, clock)})
    assert_problem(r, 401, "mfa_token_invalid")
    # A new sign-in still works (4 + 1 failures stay under the account throttle).
    fresh = start_login(client, account)["mfa_token"]
    assert (
        client.post(
            TOTP, json={"mfa_token": fresh, "code": code_now(account.totp_secret, clock)}
        ).status_code
        == 200
    )


def test_malformed_codes_are_refused_before_they_spend_an_attempt(
    client: TestClient, clock: FrozenClock
) -> None:
    """A code that cannot be right by its form is a 422, and costs none of the pending
    login's 5 attempts nor the account's budget (the contract's "Numbers")."""
    account = enrolled(client, clock)
    mfa = start_login(client, account)["mfa_token"]
    for _ in range(3):
        for code in ("12345", "abcdef", "１２３４５６", "1234567"):
            assert_problem(
                client.post(TOTP, json={"mfa_token": mfa, "code": code}), 422, "validation_error"
            )
        for code in ("ABCDE-1234", "ABCDE-12345-X", "UUUUU-UUUUU"):
            assert_problem(
                client.post(RECOVERY, json={"mfa_token": mfa, "code": code}),
                422,
                "validation_error",
            )
    wrong = client.post(TOTP, json={"mfa_token": mfa, "code": "000000"})
    assert assert_problem(wrong, 401, "invalid_code")["attempts_remaining"] == 4
    assert_problem(
        client.post(TOTP, json={"mfa_token": "x" * 201, "code": "1"}), 422, "validation_error"
    )
    assert_problem(
        client.post(TOTP, json={"mfa_token": "unknown", "code": "123456"}), 401, "mfa_token_invalid"
    )
    r = client.post(
        TOTP, json={"mfa_token": mfa, "code": " ".join(code_now(account.totp_secret, clock))}
    )
    assert r.status_code == 200, r.text


def test_recovery_codes_work_once_with_lenient_input(
    client: TestClient, clock: FrozenClock
) -> None:
    account = enrolled(client, clock)
    code = account.recovery_codes[0]
    lenient = f" {code.lower().replace('-', ' ')} "
    mfa = start_login(client, account)["mfa_token"]
    r = client.post(RECOVERY, json={"mfa_token": mfa, "code": lenient})
    assert r.status_code == 200, r.text
    assert r.json()["recovery_codes_remaining"] == 9 and r.json()["status"] == "authenticated"
    mfa = start_login(client, account)["mfa_token"]
    assert_problem(
        client.post(RECOVERY, json={"mfa_token": mfa, "code": code}), 401, "invalid_code"
    )
    methods = start_login(client, account)["methods"]
    assert methods == ["totp", "recovery_code"]


def test_account_backoff_after_ten_failures(client: TestClient, clock: FrozenClock) -> None:
    account = enrolled(client, clock)
    for _ in range(2):  # two pending logins, five failures each
        mfa = start_login(client, account)["mfa_token"]
        for _ in range(5):
            client.post(TOTP, json={"mfa_token": mfa, "code": "000000"})
    mfa = start_login(client, account)["mfa_token"]
    good = {"mfa_token": mfa, "code": code_now(account.totp_secret, clock)}
    r = client.post(TOTP, json=good)
    body = assert_problem(r, 429, "rate_limited")
    assert r.headers["Retry-After"] == "60" and body["retry_after"] == 60
    clock.advance(59)
    assert_problem(client.post(TOTP, json=good), 429, "rate_limited")
    clock.advance(1)
    # After the minute, one more failure doubles the backoff to two minutes.
    assert_problem(
        client.post(TOTP, json={"mfa_token": mfa, "code": "000000"}), 401, "invalid_code"
    )
    r = client.post(TOTP, json={"mfa_token": mfa, "code": code_now(account.totp_secret, clock)})
    assert r.headers["Retry-After"] == "120"
    clock.advance(120)
    r = client.post(TOTP, json={"mfa_token": mfa, "code": code_now(account.totp_secret, clock)})
    assert r.status_code == 200, r.text
    # A success resets the count: ten new failures are needed before the next block.
    for _ in range(2):
        mfa = start_login(client, account)["mfa_token"]
        for _ in range(4):
            assert client.post(TOTP, json={"mfa_token": mfa, "code": "000000"}).status_code == 401
    mfa = start_login(client, account)["mfa_token"]
    clock.advance(30)
    assert (
        client.post(
            TOTP, json={"mfa_token": mfa, "code": code_now(account.totp_secret, clock)}
        ).status_code
        == 200
    )


def test_backoff_is_capped_at_one_hour(client: TestClient, clock: FrozenClock) -> None:
    account = enrolled(client, clock)
    seen = []
    for _ in range(9):  # failures 10..18 once blocks expire
        mfa = start_login(client, account)["mfa_token"]
        while True:
            r = client.post(TOTP, json={"mfa_token": mfa, "code": "000000"})
            if r.status_code == 429:
                seen.append(int(r.headers["Retry-After"]))
                clock.advance(int(r.headers["Retry-After"]))
                break
            if r.json()["code"] != "invalid_code":
                break
    assert seen[:7] == [60, 120, 240, 480, 960, 1920, 3600]
    assert max(seen) == 3600


def test_password_failures_are_throttled_per_account(
    client: TestClient, clock: FrozenClock
) -> None:
    account = sign_up(client)
    for _ in range(10):
        r = client.post(
            "/api/v1/auth/login", json={"email": account.email, "password": "wrong-password"}
        )
        assert_problem(r, 401, "invalid_credentials")
    r = client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert_problem(r, 429, "rate_limited")
    assert r.headers["Retry-After"] == "60"
    # Unknown emails are throttled exactly alike, so the answer reveals nothing.
    for _ in range(10):
        client.post(
            "/api/v1/auth/login", json={"email": "ghost@example.com", "password": "wrong-password"}
        )
    r = client.post(
        "/api/v1/auth/login", json={"email": "ghost@example.com", "password": "wrong-password"}
    )
    assert_problem(r, 429, "rate_limited")
    clock.advance(60)
    r = client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert r.status_code == 200


def test_sessions_from_second_factor_work(client: TestClient, clock: FrozenClock) -> None:
    account = enrolled(client, clock)
    mfa = start_login(client, account)["mfa_token"]
    r = client.post(TOTP, json={"mfa_token": mfa, "code": code_now(account.totp_secret, clock)})
    token = r.json()["access_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["email"] == account.email and me.json()["two_factor_enabled"] is True


def test_second_factor_answers_carry_the_page_cookies_and_the_schema_fields(
    client: TestClient, clock: FrozenClock
) -> None:
    """The sign-in answers are built as JSON directly (json_response): from our own pages
    they still carry both HttpOnly cookies, and exactly the response model's fields."""
    account = enrolled(client, clock)
    page = {"Origin": PUBLIC_URL}
    fields = {"status", "access_token", "token_type", "expires_in", "enrollment_required"}
    fields |= {"device_token"}
    mfa = start_login(client, account)["mfa_token"]
    code = code_now(account.totp_secret, clock)
    r = client.post(TOTP, json={"mfa_token": mfa, "code": code}, headers=page)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert set(r.json()) == fields and r.json()["token_type"] == "bearer"  # noqa: S105
    names = {c.split("=", 1)[0] for c in r.headers.get_list("set-cookie")}
    assert names == {"ankra_session", "ankra_device"}
    mfa = start_login(client, account)["mfa_token"]
    r = client.post(RECOVERY, json={"mfa_token": mfa, "code": account.recovery_codes[0]})
    assert r.status_code == 200 and "set-cookie" not in r.headers  # not from our pages
    assert set(r.json()) == fields | {"recovery_codes_remaining"}
