"""``ankra login --passkey``: the CLI hand-off whose whole sign-in is a passkey alone, in
process with a software authenticator, on SQLite and PostgreSQL. The loopback page's
passkey approves the grant for the account it names; the device page's passkey only names
the account, and nothing is approved until the person's Approve there (Deny tells the
terminal)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ankra_auth.accounts.models import AuthSession
from ankra_auth.clock import FrozenClock
from ankra_auth.events.models import SecurityEvent
from ankra_auth.security import pkce, tokens
from tests.cli.handoff_steps import (
    REDIRECT,
    enter_user_code,
    exchange,
    handoff_token,
    new_verifier,
    poll,
    query,
)
from tests.conftest import PUBLIC_URL
from tests.helpers import Account, code_now, enroll_totp, sign_up
from tests.soft_authenticator import SoftAuthenticator, b64url
from tests.test_accounts import assert_problem

AUTHORIZE = "/api/v1/auth/cli/authorize"
HANDOFF = "/api/v1/auth/cli/handoff"
DEVICE = "/api/v1/auth/cli/device"
SAME_ORIGIN = {"Origin": PUBLIC_URL}


def with_passkey(client: TestClient, key: SoftAuthenticator, email: str) -> Account:
    account = sign_up(client, email)
    options = client.post("/api/v1/profile/auth/passkeys/options", headers=account.auth).json()
    r = client.post(
        "/api/v1/profile/auth/passkeys",
        json={"name": "Laptop", "credential": key.create(options)},
        headers=account.auth,
    )
    assert r.status_code == 201, r.text
    return account


def authorize_passkey(
    client: TestClient, verifier: str, *, loopback: bool = True, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "passkey": True,
        "code_challenge": pkce.s256_challenge(verifier),
        "code_challenge_method": "S256",
        **extra,
    }
    if loopback:
        body |= {"redirect_uri": REDIRECT, "state": "state-123"}
    r = client.post(AUTHORIZE, json=body)
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    started: dict[str, Any] = r.json()
    return started


def loopback_sign_in(client: TestClient, token: str, key: SoftAuthenticator, **get: Any) -> Any:
    r = client.post(f"{HANDOFF}/{token}/passkey-alone/options", json={})
    assert r.status_code == 200, r.text
    credential = key.get(r.json(), **get)
    return client.post(f"{HANDOFF}/{token}/passkey-alone", json={"credential": credential})


def events(app: Any, type_: str) -> list[SecurityEvent]:
    with app.state.session_factory() as db:
        return list(
            db.scalars(
                select(SecurityEvent).where(SecurityEvent.type == type_).order_by(SecurityEvent.seq)
            )
        )


def test_loopback_a_passkey_alone_signs_the_terminal_in(client: TestClient, app: Any) -> None:
    key = SoftAuthenticator(origin=PUBLIC_URL)
    account = with_passkey(client, key, "alice@example.com")
    verifier = new_verifier()
    started = authorize_passkey(client, verifier)
    assert started["browser_url"].startswith(f"{PUBLIC_URL}/cli/login/")
    token = handoff_token(started["browser_url"])

    # The page knows no account yet: it asks for a passkey alone.
    r = client.get(f"{HANDOFF}/{token}")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "methods": [],
        "email": None,
        "expires_in": 300,
        "device_hand_off": False,
        "ip": None,
        "requested_at": None,
        "passkey_alone": True,
    }
    options = client.post(f"{HANDOFF}/{token}/passkey-alone/options", json={}).json()
    assert options["allowCredentials"] == [] and options["userVerification"] == "required"
    # Not a second factor's grant: the factor endpoints of the page open nothing.
    assert_problem(
        client.post(f"{HANDOFF}/{token}/passkey/options", json={}), 401, "mfa_token_invalid"
    )

    r = client.post(f"{HANDOFF}/{token}/passkey-alone", json={"credential": key.get(options)})
    assert r.status_code == 200, r.text
    redirect_url = r.json()["redirect_url"]
    assert redirect_url.startswith("http://127.0.0.1:53682/callback?from=ankra&")
    params = query(redirect_url)
    assert params["state"] == ["state-123"]
    r = exchange(client, params["code"][0], verifier)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "authenticated" and body["device_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["email"] == account.email

    (approved,) = events(app, "cli_login_approved")
    assert (approved.user_id, approved.method) == (me.json()["id"], "passkey")
    sign_in = events(app, "sign_in")[-1]
    assert (sign_in.method, sign_in.detail) == ("passkey", "via the CLI")
    with app.state.session_factory() as db:
        session = db.scalars(
            select(AuthSession).where(
                AuthSession.token_hash == tokens.hash_token(body["access_token"])
            )
        ).one()
        assert session.method == "cli"
    # Once: the page's token opens nothing more.
    assert_problem(client.get(f"{HANDOFF}/{token}"), 401, "mfa_token_invalid")
    r = client.post(f"{HANDOFF}/{token}/passkey-alone/options", json={})
    assert_problem(r, 401, "mfa_token_invalid")
    r = client.post(f"{HANDOFF}/{token}/passkey-alone", json={"credential": key.get(options)})
    assert_problem(r, 401, "mfa_token_invalid")


def test_loopback_refusals_are_those_of_a_passkey_alone(client: TestClient) -> None:
    key = SoftAuthenticator(origin=PUBLIC_URL)
    with_passkey(client, key, "alice@example.com")
    token = handoff_token(authorize_passkey(client, new_verifier())["browser_url"])

    unknown = SoftAuthenticator(origin=PUBLIC_URL)
    unknown.create(
        {
            "rp": {"id": "localhost", "name": "Ankra"},
            "user": {"id": b64url(b"nobody"), "name": "x", "displayName": "x"},
            "challenge": b64url(b"c" * 32),
        }
    )
    assert_problem(loopback_sign_in(client, token, unknown), 401, "unknown_credential")
    assert_problem(loopback_sign_in(client, token, key, tamper=True), 401, "invalid_credential")
    no_pin = SoftAuthenticator(origin=PUBLIC_URL, user_verifies=False)
    with_passkey(client, no_pin, "carol@example.com")
    assert_problem(loopback_sign_in(client, token, no_pin), 401, "user_verification_required")
    # None of these spent the hand-off: the right passkey still signs in.
    r = loopback_sign_in(client, token, key)
    assert r.status_code == 200 and r.json()["redirect_url"], r.text


def test_authorize_takes_exactly_one_way_in(client: TestClient) -> None:
    challenge = pkce.s256_challenge(new_verifier())
    base = {"code_challenge": challenge, "code_challenge_method": "S256"}
    for body in (
        {**base, "passkey": True, "sso_provider": "corp"},
        {**base, "passkey": True, "mfa_token": "x" * 43},
        {**base, "passkey": False},
        base,
    ):
        assert_problem(client.post(AUTHORIZE, json=body), 422, "validation_error")
    bad = {**base, "passkey": True, "redirect_uri": "https://evil.example/cb", "state": "s"}
    assert_problem(client.post(AUTHORIZE, json=bad), 400, "invalid_redirect_uri")


def open_device(client: TestClient, verifier: str) -> tuple[dict[str, Any], dict[str, Any]]:
    started = authorize_passkey(client, verifier, loopback=False)
    assert started["browser_url"] == f"{PUBLIC_URL}/cli/device"
    r = enter_user_code(client, started["user_code"])
    assert r.status_code == 200, r.text
    return started, r.json()


def device_sign_in(client: TestClient, handle: str, key: SoftAuthenticator) -> Any:
    body = {"approval_token": handle}
    r = client.post(f"{DEVICE}/passkey-alone/options", json=body)
    assert r.status_code == 200, r.text
    return client.post(f"{DEVICE}/passkey-alone", json={**body, "credential": key.get(r.json())})


def test_device_a_passkey_approves_nothing_until_approve(
    client: TestClient, clock: FrozenClock, app: Any
) -> None:
    key = SoftAuthenticator(origin=PUBLIC_URL)
    account = with_passkey(client, key, "alice@example.com")
    verifier = new_verifier()
    started, opened = open_device(client, verifier)
    # What the page shows before anything is asked: no account yet, the terminal's address.
    assert opened["passkey_alone"] is True and opened["email"] is None
    assert opened["methods"] == [] and opened["sso_provider"] is None
    assert opened["ip"] == "testclient" and opened["requested_at"]
    handle = opened["approval_token"]
    # Approve before a passkey named the account: nothing to approve.
    r = client.post(f"{DEVICE}/approve", json={"approval_token": handle}, headers=SAME_ORIGIN)
    assert_problem(r, 401, "mfa_token_invalid")
    # The second-factor calls of the page do not take a passkey-first grant either.
    r = client.post(f"{DEVICE}/passkey/options", json={"approval_token": handle})
    assert_problem(r, 401, "mfa_token_invalid")

    r = device_sign_in(client, handle, key)
    assert r.status_code == 200, r.text
    assert r.json() == {"email": account.email}
    clock.advance(5)
    assert_problem(poll(client, started["device_code"], verifier), 400, "authorization_pending")
    assert events(app, "cli_login_approved") == []
    # The code opens the grant no more: whoever else holds it cannot approve it elsewhere.
    assert_problem(enter_user_code(client, started["user_code"]), 400, "invalid_user_code")
    # Neither can another passkey rebind it.
    r = client.post(f"{DEVICE}/passkey-alone/options", json={"approval_token": handle})
    assert_problem(r, 401, "mfa_token_invalid")
    options = client.post("/api/v1/auth/passkey/options", json={}).json()
    r = client.post(
        f"{DEVICE}/passkey-alone", json={"approval_token": handle, "credential": key.get(options)}
    )
    assert_problem(r, 401, "mfa_token_invalid")

    # Only a same-origin POST with the page's handle approves it.
    r = client.post(f"{DEVICE}/approve", json={"approval_token": handle})
    assert_problem(r, 403, "csrf_failed")
    r = client.post(f"{DEVICE}/approve", json={"approval_token": "x" * 43}, headers=SAME_ORIGIN)
    assert_problem(r, 401, "mfa_token_invalid")
    clock.advance(5)
    assert_problem(poll(client, started["device_code"], verifier), 400, "authorization_pending")
    r = client.post(f"{DEVICE}/approve", json={"approval_token": handle}, headers=SAME_ORIGIN)
    assert r.status_code == 204, r.text

    clock.advance(5)
    r = poll(client, started["device_code"], verifier)
    assert r.status_code == 200, r.text
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.json()["email"] == account.email
    (approved,) = events(app, "cli_login_approved")
    assert approved.method == "passkey" and "testclient" in (approved.detail or "")
    r = client.post(f"{DEVICE}/approve", json={"approval_token": handle}, headers=SAME_ORIGIN)
    assert_problem(r, 401, "mfa_token_invalid")  # once


def test_device_deny_tells_the_terminal(client: TestClient, clock: FrozenClock, app: Any) -> None:
    key = SoftAuthenticator(origin=PUBLIC_URL)
    with_passkey(client, key, "alice@example.com")
    verifier = new_verifier()
    started, opened = open_device(client, verifier)
    handle = opened["approval_token"]
    assert device_sign_in(client, handle, key).status_code == 200
    assert_problem(
        client.post(f"{DEVICE}/deny", json={"approval_token": handle}), 403, "csrf_failed"
    )
    r = client.post(f"{DEVICE}/deny", json={"approval_token": handle}, headers=SAME_ORIGIN)
    assert r.status_code == 204, r.text
    clock.advance(5)
    body = assert_problem(poll(client, started["device_code"], verifier), 400, "access_denied")
    assert "denied in the browser" in body["detail"]
    r = client.post(f"{DEVICE}/approve", json={"approval_token": handle}, headers=SAME_ORIGIN)
    assert_problem(r, 401, "mfa_token_invalid")
    assert events(app, "cli_login_approved") == []


def test_device_deny_before_any_passkey(client: TestClient, clock: FrozenClock) -> None:
    verifier = new_verifier()
    started, opened = open_device(client, verifier)
    r = client.post(
        f"{DEVICE}/deny", json={"approval_token": opened["approval_token"]}, headers=SAME_ORIGIN
    )
    assert r.status_code == 204, r.text
    clock.advance(5)
    assert_problem(poll(client, started["device_code"], verifier), 400, "access_denied")


@pytest.mark.parametrize("device", [False, True])
def test_the_clis_device_token_counts_and_is_replaced(
    client: TestClient, clock: FrozenClock, device: bool
) -> None:
    """The device token `ankra login --passkey` sends: the passkey's attempt counts on it
    (a flood from elsewhere does not lock the terminal out), and the new one replaces it."""
    key = SoftAuthenticator(origin=PUBLIC_URL)
    account = with_passkey(client, key, "alice@example.com")
    enroll_totp(client, account, clock)
    first = client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    ).json()
    r = client.post(
        "/api/v1/auth/mfa/totp",
        json={"mfa_token": first["mfa_token"], "code": code_now(account.totp_secret, clock)},
    )
    old_token = r.json()["device_token"]
    # A flood of failures from elsewhere puts the account's second factor into backoff.
    for _ in range(10):
        r = client.post(
            "/api/v1/auth/passkey",
            json={
                "credential": key.get(
                    client.post("/api/v1/auth/passkey/options", json={}).json(), tamper=True
                )
            },
        )
        assert r.status_code == 401, r.text
    assert_problem(
        client.post(
            "/api/v1/auth/passkey",
            json={
                "credential": key.get(client.post("/api/v1/auth/passkey/options", json={}).json())
            },
        ),
        429,
        "rate_limited",
    )
    verifier = new_verifier()
    if device:
        started, opened = open_device_with(client, verifier, old_token)
        assert device_sign_in(client, opened["approval_token"], key).status_code == 200
        r = client.post(
            f"{DEVICE}/approve",
            json={"approval_token": opened["approval_token"]},
            headers=SAME_ORIGIN,
        )
        assert r.status_code == 204, r.text
        clock.advance(5)
        r = poll(client, started["device_code"], verifier)
    else:
        started = authorize_passkey(client, verifier, device_token=old_token)
        r = loopback_sign_in(client, handoff_token(started["browser_url"]), key)
        assert r.status_code == 200, r.text
        r = exchange(client, query(r.json()["redirect_url"])["code"][0], verifier)
    assert r.status_code == 200, r.text
    assert r.json()["device_token"] != old_token
    # The old one was replaced: a password sign-in with it counts on the account again.
    with client.app.state.session_factory() as db:  # type: ignore[attr-defined]
        from ankra_auth.device_tokens.models import DeviceToken

        hashes = set(db.scalars(select(DeviceToken.token_hash)))
    assert tokens.hash_token(old_token) not in hashes
    assert tokens.hash_token(r.json()["device_token"]) in hashes


def open_device_with(
    client: TestClient, verifier: str, device_token: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    started = authorize_passkey(client, verifier, loopback=False, device_token=device_token)
    r = enter_user_code(client, started["user_code"])
    assert r.status_code == 200, r.text
    return started, r.json()
