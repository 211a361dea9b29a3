"""A passkey alone is the whole sign-in ("Passkeys first"), through the one door: a software
authenticator against the real app on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ankra_auth.accounts.models import AuthSession, Throttle
from ankra_auth.clock import FrozenClock
from ankra_auth.events.models import SecurityEvent
from ankra_auth.passkeys.models import Passkey, WebAuthnChallenge
from ankra_auth.security import tokens
from tests.helpers import Account, enroll_totp, sign_up, start_login
from tests.soft_authenticator import SoftAuthenticator, b64url, unb64url
from tests.test_accounts import assert_problem
from tests.test_passkeys import login_options, register

OPTIONS = "/api/v1/auth/passkey/options"
ALONE = "/api/v1/auth/passkey"
PASSKEYS = "/api/v1/profile/auth/passkeys"


def alone_options(client: TestClient) -> dict[str, Any]:
    r = client.post(OPTIONS, json={})
    assert r.status_code == 200, r.text
    options: dict[str, Any] = r.json()
    return options


def sign_in_alone(
    client: TestClient, key: SoftAuthenticator, **body: Any
) -> tuple[dict[str, Any], Any]:
    credential = key.get(alone_options(client))
    return credential, client.post(ALONE, json={"credential": credential, **body})


def with_passkey(
    client: TestClient, key: SoftAuthenticator, email: str = "alice@example.com"
) -> Account:
    account = sign_up(client, email)
    register(client, account, key)
    return account


def test_a_passkey_signs_in_by_itself(client: TestClient, app: Any) -> None:
    key = SoftAuthenticator(backup_eligible=True)
    account = with_passkey(client, key)
    (item,) = client.get(PASSKEYS, headers=account.auth).json()
    assert item["aaguid"] == "00010203-0405-0607-0809-0a0b0c0d0e0f"
    assert item["provider"] is None  # not in the list of known authenticators
    assert item["backup_eligible"] is True and item["discoverable"] is True
    assert item["signs_in_alone"] is True

    options = alone_options(client)
    assert options["allowCredentials"] == [] and options["userVerification"] == "required"
    with app.state.session_factory() as db:
        stored = db.scalars(select(WebAuthnChallenge.challenge)).all()
    raw = unb64url(options["challenge"])
    assert raw not in stored and hashlib.sha256(raw).digest() in stored  # kept hashed

    r = client.post(ALONE, json={"credential": key.get(options)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "authenticated" and body["device_token"]
    assert body["enrollment_required"] is False
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["email"] == account.email
    with app.state.session_factory() as db:
        event = db.scalars(
            select(SecurityEvent)
            .where(SecurityEvent.type == "sign_in")
            .order_by(SecurityEvent.seq.desc())
        ).first()
        assert event is not None and (event.method, event.detail) == ("passkey", None)
        assert json.loads(event.data or "{}") == {"passwordless": True}
        token_hash = tokens.hash_token(body["access_token"])
        session = db.scalars(select(AuthSession).where(AuthSession.token_hash == token_hash)).one()
        assert session.method == "passkey"


def test_a_passkey_alone_counts_as_a_recent_check(client: TestClient, clock: FrozenClock) -> None:
    key = SoftAuthenticator()
    account = with_passkey(client, key)
    enroll_totp(client, account, clock)
    clock.advance(11 * 60)
    _, r = sign_in_alone(client, key)
    auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.delete("/api/v1/profile/auth/totp", headers=auth).status_code == 204


def test_unknown_credential(client: TestClient) -> None:
    with_passkey(client, SoftAuthenticator())
    stranger = SoftAuthenticator()
    stranger.create(
        {
            "rp": {"id": "localhost", "name": "Ankra"},
            "user": {"id": b64url(b"nobody"), "name": "x", "displayName": "x"},
            "challenge": b64url(b"c" * 32),
        }
    )
    _, r = sign_in_alone(client, stranger)
    assert_problem(r, 401, "unknown_credential")


def test_a_key_that_does_not_verify_the_user_is_only_a_second_step(
    client: TestClient, clock: FrozenClock
) -> None:
    key = SoftAuthenticator(user_verifies=False, resident=None)
    account = with_passkey(client, key)
    (item,) = client.get(PASSKEYS, headers=account.auth).json()
    assert item["signs_in_alone"] is False and item["discoverable"] is None
    _, r = sign_in_alone(client, key)
    assert_problem(r, 401, "user_verification_required")
    # Still the second step after a password; and its refusal above was no failure.
    mfa = start_login(client, account)["mfa_token"]
    r = client.post(
        "/api/v1/auth/mfa/passkey",
        json={"mfa_token": mfa, "credential": key.get(login_options(client, mfa))},
    )
    assert r.status_code == 200, r.text


def test_a_non_discoverable_key_is_said_to_need_a_password(client: TestClient) -> None:
    account = with_passkey(client, SoftAuthenticator(resident=False))
    (item,) = client.get(PASSKEYS, headers=account.auth).json()
    assert item["discoverable"] is False and item["signs_in_alone"] is False


@pytest.mark.parametrize(
    "lie", ["signature", "challenge", "second_factor_challenge", "user_handle", "origin"]
)
def test_what_does_not_check_out_is_invalid_credential(
    client: TestClient, app: Any, lie: str
) -> None:
    key = SoftAuthenticator()
    account = with_passkey(client, key)
    other_key = SoftAuthenticator()
    with_passkey(client, other_key, "bob@example.com")
    options = alone_options(client)
    if lie == "challenge":
        options = {**options, "challenge": b64url(b"x" * 32)}
    elif lie == "second_factor_challenge":
        options = login_options(client, start_login(client, account)["mfa_token"])
    credential = key.get(
        options,
        tamper=lie == "signature",
        origin="https://evil.example" if lie == "origin" else None,
    )
    if lie == "user_handle":  # bob's handle on alice's key
        bob_handle = next(iter(other_key.credentials.values())).user_handle
        credential["response"]["userHandle"] = b64url(bob_handle)
    r = client.post(ALONE, json={"credential": credential})
    assert_problem(r, 401, "invalid_credential")
    with app.state.session_factory() as db:
        failures = db.scalars(select(Throttle.failures).where(Throttle.key.like("mfa:%"))).all()
    assert failures == [1]  # counted on the credential's account


def test_a_challenge_works_once(client: TestClient) -> None:
    key = SoftAuthenticator(counts=False)
    with_passkey(client, key)
    credential, r = sign_in_alone(client, key)
    assert r.status_code == 200, r.text
    assert_problem(client.post(ALONE, json={"credential": credential}), 401, "invalid_credential")


def test_a_cloned_key_is_refused_and_logged(client: TestClient, app: Any) -> None:
    key = SoftAuthenticator()
    with_passkey(client, key)
    _, r = sign_in_alone(client, key)
    assert r.status_code == 200
    credential = key.get(alone_options(client), sign_count=1)  # the counter went back
    assert_problem(client.post(ALONE, json={"credential": credential}), 401, "invalid_credential")
    with app.state.session_factory() as db:
        types = db.scalars(select(SecurityEvent.type)).all()
    assert "passkey_sign_count_mismatch" in types


def test_a_flood_backs_off_but_the_owners_device_gets_in(client: TestClient) -> None:
    key = SoftAuthenticator()
    account = with_passkey(client, key)
    _, r = sign_in_alone(client, key)
    device_token = r.json()["device_token"]
    for _ in range(10):
        credential = key.get(alone_options(client), tamper=True)
        assert_problem(
            client.post(ALONE, json={"credential": credential}), 401, "invalid_credential"
        )
    _, r = sign_in_alone(client, key)
    assert_problem(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0
    _, r = sign_in_alone(client, key, device_token=device_token)
    assert r.status_code == 200, r.text
    # The account's own password sign-in is unaffected (its budget is the email's).
    assert start_login(client, account)["status"] == "mfa_required"


def test_options_are_limited_per_address(client: TestClient) -> None:
    for _ in range(60):
        assert client.post(OPTIONS, json={}).status_code == 200
    assert_problem(client.post(OPTIONS, json={}), 429, "rate_limited")


def test_passkey_items_name_known_providers(client: TestClient, app: Any) -> None:
    account = with_passkey(client, SoftAuthenticator())
    with app.state.session_factory() as db:
        passkey = db.scalars(select(Passkey)).one()
        passkey.aaguid = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"  # Apple's synced passkeys
        db.commit()
    (item,) = client.get(PASSKEYS, headers=account.auth).json()
    assert item["provider"] == "Apple Passwords"  # the list's name for iCloud Keychain
    with app.state.session_factory() as db:
        db.scalars(select(Passkey)).one().aaguid = "00000000-0000-0000-0000-000000000000"
        db.commit()
    (item,) = client.get(PASSKEYS, headers=account.auth).json()
    assert item["provider"] is None  # Apple's all-zero AAGUID says nothing


def test_registration_asks_for_a_discoverable_credential(client: TestClient) -> None:
    account = sign_up(client)
    r = client.post(f"{PASSKEYS}/options", headers=account.auth)
    options = r.json()
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["extensions"] == {"credProps": True}
