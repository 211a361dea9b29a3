"""Where you are signed in: listing sessions, signing one out, or every other one."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from ankra_auth.accounts.models import AuthSession
from ankra_auth.clock import FrozenClock
from ankra_auth.sessions.devices import describe
from tests.helpers import Account, code_now, enroll_totp, sign_up

SESSIONS = "/api/v1/profile/sessions"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Safari/605.1.15"
)


def sign_in(client: TestClient, account: Account, user_agent: str = FIREFOX) -> str:
    r = client.post(
        "/api/v1/auth/login",
        json={"email": account.email, "password": account.password},
        headers={"User-Agent": user_agent},
    )
    assert r.status_code == 200 and r.json()["status"] == "authenticated", r.text
    token: str = r.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def listed(client: TestClient, token: str) -> list[dict[str, Any]]:
    r = client.get(SESSIONS, headers=bearer(token))
    assert r.status_code == 200, r.text
    sessions: list[dict[str, Any]] = r.json()
    return sessions


def event_types(client: TestClient, token: str) -> list[str]:
    r = client.get("/api/v1/profile/auth/events", params={"limit": 100}, headers=bearer(token))
    return [e["type"] for e in r.json()["events"]]


def test_sessions_are_listed_newest_first_with_device_ip_and_method(
    client: TestClient, clock: FrozenClock
) -> None:
    alice = sign_up(client)
    clock.advance(5)
    laptop = sign_in(client, alice, FIREFOX)
    clock.advance(5)
    phone = sign_in(client, alice, SAFARI)

    sessions = listed(client, laptop)
    assert [s["current"] for s in sessions] == [False, True, False]
    newest, current, first = sessions
    assert set(newest) >= {"id", "created_at", "last_seen_at", "ip", "user_agent", "method"}
    assert newest["device"] == "Safari on macOS" and newest["user_agent"] == SAFARI
    assert current["device"] == "Firefox on Linux"
    assert current["method"] == "password" and current["ip"] == "testclient"
    assert newest["created_at"] > current["created_at"] > first["created_at"]
    assert [s["current"] for s in listed(client, phone)] == [True, False, False]


def test_a_second_factor_sign_in_is_listed_by_its_factor(
    client: TestClient, clock: FrozenClock
) -> None:
    alice = sign_up(client)
    enroll_totp(client, alice, clock)
    r = client.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
    mfa_token = r.json()["mfa_token"]
    r = client.post(
        "/api/v1/auth/mfa/totp",
        json={"mfa_token": mfa_token, "code": code_now(alice.totp_secret, clock)},
    )
    token = r.json()["access_token"]
    current = next(s for s in listed(client, token) if s["current"])
    assert current["method"] == "totp"


def test_revoking_a_session_ends_it_at_once_and_is_logged(client: TestClient) -> None:
    alice = sign_up(client)
    other = sign_in(client, alice)
    other_id = next(s["id"] for s in listed(client, other) if s["current"])

    r = client.delete(f"{SESSIONS}/{other_id}", headers=alice.auth)
    assert r.status_code == 204
    r = client.get("/api/v1/me", headers=bearer(other))
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    assert other_id not in {s["id"] for s in listed(client, alice.token)}
    assert event_types(client, alice.token).count("session_revoked") == 1
    # Already ended: nothing to revoke, and no second event.
    r = client.delete(f"{SESSIONS}/{other_id}", headers=alice.auth)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert event_types(client, alice.token).count("session_revoked") == 1


def test_another_users_session_is_not_found_and_stays_alive(client: TestClient) -> None:
    alice = sign_up(client)
    bob = sign_up(client, "bob@example.com")
    bobs_id = listed(client, bob.token)[0]["id"]
    for session_id in (bobs_id, "no-such-session", "x" * 300):
        r = client.delete(f"{SESSIONS}/{session_id}", headers=alice.auth)
        assert r.status_code == 404, r.text
        assert r.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/me", headers=bob.auth).status_code == 200


def test_sign_out_everywhere_else_keeps_the_current_session(client: TestClient) -> None:
    alice = sign_up(client)
    others = [sign_in(client, alice) for _ in range(3)]
    bob = sign_up(client, "bob@example.com")

    r = client.delete(SESSIONS, headers=alice.auth)
    assert r.status_code == 204
    assert client.get("/api/v1/me", headers=alice.auth).status_code == 200
    for token in others:
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert [s["current"] for s in listed(client, alice.token)] == [True]
    assert event_types(client, alice.token).count("session_revoked") == 3
    assert client.get("/api/v1/me", headers=bob.auth).status_code == 200


def test_expired_sessions_are_not_listed(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client)
    clock.advance(12 * 3600 - 60)
    fresh = sign_in(client, alice)
    clock.advance(120)  # alice's first session has expired
    assert [s["current"] for s in listed(client, fresh)] == [True]


def test_last_seen_is_written_at_most_once_a_minute(
    client: TestClient, clock: FrozenClock, app: Any
) -> None:
    alice = sign_up(client)

    def last_seen() -> Any:
        with app.state.session_factory() as db:
            return db.scalar(select(AuthSession.last_seen_at))

    signed_in_at = last_seen()
    clock.advance(30)
    client.get("/api/v1/me", headers=alice.auth)
    assert last_seen() == signed_in_at  # within the minute: no write
    clock.advance(31)
    client.get("/api/v1/me", headers=alice.auth)
    assert last_seen() == clock.now()
    assert listed(client, alice.token)[0]["last_seen_at"] == clock.now().isoformat().replace(
        "+00:00", "Z"
    )


def test_admin_reset_signs_every_session_out(
    client: TestClient, clock: FrozenClock, app: Any
) -> None:
    from ankra_auth.context import RequestContext
    from ankra_auth.profile import service as profile

    alice = sign_up(client)
    enroll_totp(client, alice, clock)
    second = sign_in_with_totp(client, alice, clock)
    with app.state.session_factory() as db:
        profile.admin_reset(db, user_id=user_id(client, alice), ctx=RequestContext(now=clock.now()))
    for token in (alice.token, second):
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    fresh = sign_in(client, alice)
    assert event_types(client, fresh).count("session_revoked") == 2


def test_a_restricted_session_may_list_and_revoke_sessions(
    client: TestClient, clock: FrozenClock
) -> None:
    from tests.test_enforcement import enforcing_org

    member = sign_up(client, "member@example.com")
    other = sign_in(client, member)
    enforcing_org(client, clock, member)

    restricted = sign_in(client, member)
    r = client.get("/api/v1/me", headers=bearer(restricted))
    assert r.status_code == 200
    r = client.get("/api/v1/profile/auth/events", headers=bearer(restricted))
    assert r.status_code == 403 and r.json()["code"] == "enrollment_required"
    sessions = listed(client, restricted)
    assert len(sessions) == 3
    other_id = next(s["id"] for s in listed(client, other) if s["current"])
    assert client.delete(f"{SESSIONS}/{other_id}", headers=bearer(restricted)).status_code == 204
    assert client.delete(SESSIONS, headers=bearer(restricted)).status_code == 204
    assert [s["current"] for s in listed(client, restricted)] == [True]


def test_describe_names_browsers_and_the_cli() -> None:
    assert describe(FIREFOX) == "Firefox on Linux"
    assert describe(SAFARI) == "Safari on macOS"
    assert describe("ankra-cli/0.1.0 (Darwin; Python 3.11.7)") == "ankra CLI on macOS"
    assert describe("ankra-cli/0.1.0 (Linux; Python 3.11.7)") == "ankra CLI on Linux"
    assert describe(None) == describe("") == "Unknown device"
    assert describe("curl/8.5.0") == "curl"


def sign_in_with_totp(client: TestClient, account: Account, clock: FrozenClock) -> str:
    clock.advance(30)
    r = client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    r = client.post(
        "/api/v1/auth/mfa/totp",
        json={"mfa_token": r.json()["mfa_token"], "code": code_now(account.totp_secret, clock)},
    )
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def user_id(client: TestClient, account: Account) -> str:
    uid: str = client.get("/api/v1/me", headers=account.auth).json()["id"]
    return uid
