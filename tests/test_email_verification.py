"""Verified addresses: the link's token is single use, lives 24 hours, proves only its own
account's current address, and new links are limited (in-process, frozen clock, SQLite
and PostgreSQL)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from ankra_auth.clock import FrozenClock
from ankra_auth.notify.models import MailOutbox
from tests.helpers import Account, sign_up, verification_token
from tests.test_accounts import assert_problem

VERIFY = "/api/v1/me/email/verify"
AGAIN = "/api/v1/me/email/verification"


def token_of(client: TestClient, account: Account) -> str:
    app = client.app
    with app.state.session_factory() as db:  # type: ignore[attr-defined]
        return verification_token(db, account.email, app.state.settings.secret)  # type: ignore[attr-defined]


def is_verified(client: TestClient, account: Account) -> bool:
    return bool(client.get("/api/v1/me", headers=account.auth).json()["email_verified"])


def test_the_link_verifies_once(client: TestClient) -> None:
    alice = sign_up(client)
    token = token_of(client, alice)
    assert len(token) >= 43  # 256 bits, base64url
    assert not is_verified(client, alice)
    assert client.get("/api/v1/profile/auth", headers=alice.auth).json()["email_verified"] is False

    r = client.post(VERIFY, json={"token": token}, headers=alice.auth)
    assert r.status_code == 204, r.text
    assert is_verified(client, alice)
    assert client.get("/api/v1/profile/auth", headers=alice.auth).json()["email_verified"] is True
    events = client.get("/api/v1/profile/auth/events", headers=alice.auth).json()["events"]
    assert (events[0]["type"], events[0]["detail"]) == (
        "email_verified",
        {"note": "alice@example.com"},
    )
    assert_problem(
        client.post(VERIFY, json={"token": token}, headers=alice.auth), 400, "invalid_token"
    )
    assert_problem(client.post(AGAIN, headers=alice.auth), 409, "email_already_verified")


def test_a_link_proves_nothing_for_another_account(client: TestClient) -> None:
    alice = sign_up(client)
    mallory = sign_up(client, "mallory@example.com")
    token = token_of(client, alice)
    # Mallory cannot spend Alice's link, nor verify her own account with it ...
    assert_problem(
        client.post(VERIFY, json={"token": token}, headers=mallory.auth), 400, "invalid_token"
    )
    assert not is_verified(client, mallory)
    # ... and without a session the token alone does nothing
    assert_problem(client.post(VERIFY, json={"token": token}), 401, "not_authenticated")
    for wrong in ("x", token[:-1] + ("A" if token[-1] != "A" else "B")):
        assert_problem(
            client.post(VERIFY, json={"token": wrong}, headers=alice.auth), 400, "invalid_token"
        )
    r = client.post(VERIFY, json={"token": token}, headers=alice.auth)  # still Alice's to use
    assert r.status_code == 204, r.text


def test_the_link_lives_24_hours(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client)
    token = token_of(client, alice)
    clock.advance(24 * 3600)
    login = client.post(
        "/api/v1/auth/login", json={"email": alice.email, "password": alice.password}
    )
    alice.token = login.json()["access_token"]
    assert_problem(
        client.post(VERIFY, json={"token": token}, headers=alice.auth), 400, "invalid_token"
    )
    assert not is_verified(client, alice)


def test_a_new_link_at_most_once_a_minute_and_five_times_a_day(
    client: TestClient, clock: FrozenClock
) -> None:
    alice = sign_up(client)
    old = token_of(client, alice)
    r = client.post(AGAIN, headers=alice.auth)
    assert r.status_code == 202 and r.content == b"", r.text
    limited = client.post(AGAIN, headers=alice.auth)
    assert_problem(limited, 429, "rate_limited")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    for _ in range(4):
        clock.advance(61)
        assert client.post(AGAIN, headers=alice.auth).status_code == 202
    clock.advance(61)
    limited = client.post(AGAIN, headers=alice.auth)  # the sixth in a day
    assert_problem(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 3600

    with client.app.state.session_factory() as db:  # type: ignore[attr-defined]
        mails = list(db.scalars(select(MailOutbox).where(MailOutbox.kind == "verify_email")))
    assert len(mails) == 1 + 5  # the sign-up's, and five more
    assert len({json.loads(m.payload)["verification_id"] for m in mails}) == 6
    # every link works until one of them is used (each is its own)
    newest = token_of(client, alice)
    assert newest != old
    assert client.post(VERIFY, json={"token": old}, headers=alice.auth).status_code == 204
