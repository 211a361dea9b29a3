"""Passkeys end to end over the API, with a software authenticator producing real signatures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ankra_auth.app import create_app
from ankra_auth.clock import FrozenClock
from ankra_auth.config import Settings
from tests.conftest import PUBLIC_URL
from tests.helpers import Account, enroll_totp, sign_up, start_login
from tests.sent_statements import record_statements
from tests.soft_authenticator import SoftAuthenticator, b64url, unb64url

PASSKEYS = "/api/v1/profile/auth/passkeys"
OPTIONS = f"{PASSKEYS}/options"
LOGIN_OPTIONS = "/api/v1/auth/mfa/passkey/options"
LOGIN = "/api/v1/auth/mfa/passkey"


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    return body


def registration_options(client: TestClient, account: Account) -> dict[str, Any]:
    r = client.post(OPTIONS, headers=account.auth)
    assert r.status_code == 200, r.text
    options: dict[str, Any] = r.json()
    return options


def register(
    client: TestClient, account: Account, authenticator: SoftAuthenticator, name: str = "Laptop"
) -> dict[str, Any]:
    credential = authenticator.create(registration_options(client, account))
    r = client.post(PASSKEYS, json={"name": name, "credential": credential}, headers=account.auth)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def login_options(client: TestClient, mfa_token: str) -> dict[str, Any]:
    r = client.post(LOGIN_OPTIONS, json={"mfa_token": mfa_token})
    assert r.status_code == 200, r.text
    options: dict[str, Any] = r.json()
    return options


def event_types(client: TestClient, account: Account) -> list[str]:
    r = client.get("/api/v1/profile/auth/events", params={"limit": 100}, headers=account.auth)
    assert r.status_code == 200, r.text
    return [e["type"] for e in r.json()["events"]]


def test_register_and_sign_in_with_a_passkey(client: TestClient) -> None:
    account = sign_up(client)
    key = SoftAuthenticator(transports=["usb", "nfc"])

    options = registration_options(client, account)
    assert options["rp"] == {"id": "localhost", "name": "Ankra"}
    assert options["user"]["name"] == "alice@example.com"
    assert options["excludeCredentials"] == []
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-7, -8, -257]
    assert options["authenticatorSelection"] == {
        "residentKey": "preferred",
        "requireResidentKey": False,
        "userVerification": "preferred",
    }
    assert options["attestation"] == "none"
    assert options["timeout"] == 60000
    assert len(unb64url(options["challenge"])) >= 16

    r = client.post(
        PASSKEYS,
        json={"name": "  YubiKey  ", "credential": key.create(options)},
        headers=account.auth,
    )
    assert r.status_code == 201, r.text
    registered = r.json()
    assert len(registered["recovery_codes"]) == 10
    passkey = registered["passkey"]
    assert passkey["name"] == "YubiKey"
    assert passkey["transports"] == ["nfc", "usb"]
    assert passkey["last_used_at"] is None and passkey["backed_up"] is False

    profile = client.get("/api/v1/profile/auth", headers=account.auth).json()
    assert profile["two_factor_enabled"] is True and profile["passkey_count"] == 1

    started = start_login(client, account)
    assert started["status"] == "mfa_required"
    assert started["methods"] == ["passkey", "recovery_code"]
    options = login_options(client, started["mfa_token"])
    assert options["rpId"] == "localhost"
    assert options["userVerification"] == "preferred"
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(next(iter(key.credentials)))]
    assert sorted(options["allowCredentials"][0]["transports"]) == ["nfc", "usb"]

    r = client.post(LOGIN, json={"mfa_token": started["mfa_token"], "credential": key.get(options)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "authenticated" and body["token_type"] == "bearer"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["two_factor_enabled"] is True

    # The pending login is spent: the same token cannot be used again.
    r = client.post(LOGIN_OPTIONS, json={"mfa_token": started["mfa_token"]})
    assert_problem(r, 401, "mfa_token_invalid")

    listed = client.get(PASSKEYS, headers=account.auth).json()
    assert listed[0]["last_used_at"] is not None
    events = client.get("/api/v1/profile/auth/events", headers=account.auth).json()["events"]
    assert {"type": "sign_in", "method": "passkey"} in [
        {"type": e["type"], "method": e["method"]} for e in events
    ]
    added = next(e for e in events if e["type"] == "passkey_added")
    assert added["detail"]["note"] == "YubiKey"
    assert "recovery_codes_issued" in [e["type"] for e in events]


def test_list_shape_and_exclusion_of_existing_keys(client: TestClient) -> None:
    account = sign_up(client)
    assert client.get(PASSKEYS, headers=account.auth).json() == []
    key = SoftAuthenticator(transports=["internal", "hybrid"], backup_eligible=True)
    first = register(client, account, key, name="Phone")["passkey"]

    listed = client.get(PASSKEYS, headers=account.auth).json()
    assert listed == [first]
    assert set(first) == {
        "id",
        "name",
        "created_at",
        "last_used_at",
        "backed_up",
        "transports",
        # Passkeys first: who made it, synced or not, and whether it signs in by itself.
        "provider",
        "aaguid",
        "backup_eligible",
        "discoverable",
        "signs_in_alone",
        # For the pages' signalAllAcceptedCredentials(): the WebAuthn id, base64url.
        "credential_id",
    }
    (raw_id,) = key.credentials
    assert first["credential_id"] == b64url(raw_id)
    assert first["backed_up"] is True
    assert first["created_at"].startswith("2026-11-27T12:00:15")

    options = registration_options(client, account)
    assert [c["id"] for c in options["excludeCredentials"]] == [b64url(next(iter(key.credentials)))]
    assert client.get(PASSKEYS).status_code == 401


def test_recovery_codes_only_when_the_enrollment_turns_two_factor_on(
    client: TestClient, clock: FrozenClock
) -> None:
    alice = sign_up(client)
    assert len(register(client, alice, SoftAuthenticator())["recovery_codes"]) == 10
    assert register(client, alice, SoftAuthenticator(), name="Second")["recovery_codes"] is None
    assert event_types(client, alice).count("recovery_codes_issued") == 1

    bob = sign_up(client, "bob@example.com")
    enroll_totp(client, bob, clock)
    assert register(client, bob, SoftAuthenticator())["recovery_codes"] is None


@pytest.mark.parametrize(
    ("lie", "message"),
    [
        ({"origin": "http://evil.example"}, "origin"),
        ({"rp_id": "evil.example"}, "RP ID"),
    ],
)
def test_registration_refuses_wrong_origin_or_rp_id(
    client: TestClient, lie: dict[str, str], message: str
) -> None:
    account = sign_up(client)
    credential = SoftAuthenticator().create(registration_options(client, account), **lie)
    r = client.post(PASSKEYS, json={"name": "Key", "credential": credential}, headers=account.auth)
    assert message in assert_problem(r, 400, "invalid_credential")["detail"]
    assert client.get(PASSKEYS, headers=account.auth).json() == []


def test_registration_challenge_is_single_use_bound_and_expires(
    client: TestClient, clock: FrozenClock
) -> None:
    alice = sign_up(client)
    bob = sign_up(client, "bob@example.com")
    key = SoftAuthenticator()
    options = registration_options(client, alice)
    credential = key.create(options)
    # Bob cannot finish Alice's ceremony.
    r = client.post(PASSKEYS, json={"name": "Key", "credential": credential}, headers=bob.auth)
    assert_problem(r, 400, "invalid_credential")
    r = client.post(PASSKEYS, json={"name": "Key", "credential": credential}, headers=alice.auth)
    assert r.status_code == 201, r.text
    # Replayed: the same response, and a new key answering the spent challenge.
    r = client.post(PASSKEYS, json={"name": "Key", "credential": credential}, headers=alice.auth)
    assert_problem(r, 400, "invalid_credential")
    r = client.post(
        PASSKEYS,
        json={"name": "Key", "credential": SoftAuthenticator().create(options)},
        headers=alice.auth,
    )
    assert_problem(r, 400, "invalid_credential")
    # A failed verification spends the challenge too.
    options = registration_options(client, alice)
    bad = SoftAuthenticator().create(options, origin="http://evil.example")
    r = client.post(PASSKEYS, json={"name": "Key", "credential": bad}, headers=alice.auth)
    assert_problem(r, 400, "invalid_credential")
    r = client.post(
        PASSKEYS,
        json={"name": "Key", "credential": SoftAuthenticator().create(options)},
        headers=alice.auth,
    )
    assert_problem(r, 400, "invalid_credential")
    # Expired after five minutes.
    options = registration_options(client, alice)
    clock.advance(5 * 60 + 1)
    r = client.post(
        PASSKEYS,
        json={"name": "Key", "credential": SoftAuthenticator().create(options)},
        headers=alice.auth,
    )
    assert_problem(r, 400, "invalid_credential")
    assert len(client.get(PASSKEYS, headers=alice.auth).json()) == 1


def _client_data(challenge: Any, kind: str = "webauthn.create") -> str:
    return b64url(json.dumps({"type": kind, "challenge": challenge, "origin": PUBLIC_URL}).encode())


MALFORMED: list[Any] = [
    {},
    {"id": 5, "rawId": None, "response": "nope", "type": "public-key"},
    {"id": "a", "rawId": "a", "type": "public-key", "response": {}},
    {"id": "a", "rawId": "a", "type": "public-key", "response": {"clientDataJSON": "!!!"}},
    {"response": {"clientDataJSON": b64url(b"[1, 2]")}},
    {"response": {"clientDataJSON": b64url(b"\xff\xfe")}},
    {"response": {"clientDataJSON": _client_data(12)}},
    {"response": {"clientDataJSON": _client_data({"x": 1})}},
]


@pytest.mark.parametrize("credential", MALFORMED)
def test_malformed_registration_credentials_are_400(client: TestClient, credential: Any) -> None:
    account = sign_up(client)
    registration_options(client, account)
    r = client.post(PASSKEYS, json={"name": "Key", "credential": credential}, headers=account.auth)
    assert_problem(r, 400, "invalid_credential")


def test_malformed_credential_with_a_live_challenge_is_400(client: TestClient) -> None:
    account = sign_up(client)
    key = SoftAuthenticator()
    good = key.create(registration_options(client, account))
    # Right challenge, broken rest: each one spends a fresh challenge and fails cleanly.
    variants: list[dict[str, Any]] = []
    for mutate in (
        lambda c: c["response"].update(attestationObject="AAAA"),
        lambda c: c["response"].update(attestationObject=b64url(b"\xa1\x01\x02")),
        lambda c: c["response"].update(attestationObject=7),
        lambda c: c.update(rawId=b64url(b"other"), id=b64url(b"other")),
        lambda c: c.update(type="password"),
        lambda c: c.update(authenticatorAttachment="wristwatch"),
        lambda c: c["response"].update(transports="usb"),
    ):
        fresh = key.create(registration_options(client, account))
        mutate(fresh)
        variants.append(fresh)
    for credential in variants:
        r = client.post(
            PASSKEYS, json={"name": "Key", "credential": credential}, headers=account.auth
        )
        if credential["response"].get("transports") == "usb":
            assert r.status_code == 201, r.text  # odd transports are merely ignored
            assert r.json()["passkey"]["transports"] == []
        else:
            assert_problem(r, 400, "invalid_credential")
    r = client.post(PASSKEYS, json={"name": "Key", "credential": "text"}, headers=account.auth)
    assert_problem(r, 422, "validation_error")
    for name in ("", "   ", "x" * 101):
        r = client.post(PASSKEYS, json={"name": name, "credential": good}, headers=account.auth)
        assert_problem(r, 422, "validation_error")


def test_login_failures_count_down_then_void_the_pending_login(client: TestClient) -> None:
    alice = sign_up(client)
    bob = sign_up(client, "bob@example.com")
    key = SoftAuthenticator()
    bobs_key = SoftAuthenticator()
    register(client, alice, key)
    register(client, bob, bobs_key)
    token = start_login(client, alice)["mfa_token"]

    def attempt(credential: dict[str, Any]) -> httpx.Response:
        return client.post(LOGIN, json={"mfa_token": token, "credential": credential})

    r = attempt(key.get(login_options(client, token), origin="http://evil.example"))
    assert assert_problem(r, 401, "invalid_code")["attempts_remaining"] == 4
    r = attempt(key.get(login_options(client, token), rp_id="evil.example"))
    assert assert_problem(r, 401, "invalid_code")["attempts_remaining"] == 3
    r = attempt(key.get(login_options(client, token), tamper=True))
    assert assert_problem(r, 401, "invalid_code")["attempts_remaining"] == 2
    spent = login_options(client, token)
    bobs = bobs_key.get(spent, credential_id=next(iter(bobs_key.credentials)))
    r = attempt(bobs)
    assert assert_problem(r, 401, "invalid_code")["attempts_remaining"] == 1
    # A genuine assertion on the challenge Bob's attempt spent: a replayed challenge.
    r = attempt(key.get(spent))
    assert_problem(r, 401, "too_many_attempts")
    assert_problem(attempt(key.get(spent)), 401, "mfa_token_invalid")
    assert_problem(client.post(LOGIN_OPTIONS, json={"mfa_token": token}), 401, "mfa_token_invalid")
    types = event_types(client, alice)
    assert types.count("second_factor_failed") == 5 and "pending_login_voided" in types


def test_login_refuses_replays_and_unknown_credentials(client: TestClient) -> None:
    account = sign_up(client)
    key = SoftAuthenticator()
    register(client, account, key)
    first = start_login(client, account)["mfa_token"]
    options = login_options(client, first)
    good = key.get(options)
    assert client.post(LOGIN, json={"mfa_token": first, "credential": good}).status_code == 200

    token = start_login(client, account)["mfa_token"]
    # The whole earlier response again: its challenge belonged to another login, and is spent.
    r = client.post(LOGIN, json={"mfa_token": token, "credential": good})
    assert assert_problem(r, 401, "invalid_code")["attempts_remaining"] == 4
    # A credential nobody registered.
    stranger = SoftAuthenticator()
    stranger.create(registration_options(client, account))
    unknown = stranger.get(
        login_options(client, token), credential_id=next(iter(stranger.credentials))
    )
    r = client.post(LOGIN, json={"mfa_token": token, "credential": unknown})
    assert assert_problem(r, 401, "invalid_code")["attempts_remaining"] == 3
    # Answering with no options fetched for this login.
    r = client.post(LOGIN, json={"mfa_token": "not-a-token", "credential": good})
    assert_problem(r, 401, "mfa_token_invalid")
    r = client.post(LOGIN_OPTIONS, json={"mfa_token": "not-a-token"})
    assert_problem(r, 401, "mfa_token_invalid")


@pytest.mark.parametrize("credential", MALFORMED[:5])
def test_malformed_login_credential_is_a_failed_attempt(
    client: TestClient, credential: Any
) -> None:
    account = sign_up(client)
    register(client, account, SoftAuthenticator())
    token = start_login(client, account)["mfa_token"]
    login_options(client, token)
    r = client.post(LOGIN, json={"mfa_token": token, "credential": credential})
    assert assert_problem(r, 401, "invalid_code")["attempts_remaining"] == 4


def test_broken_assertion_fields_are_failed_attempts(client: TestClient) -> None:
    account = sign_up(client)
    key = SoftAuthenticator()
    register(client, account, key)
    token = start_login(client, account)["mfa_token"]
    mutations = [
        lambda c: c["response"].update(authenticatorData="AAAA"),
        lambda c: c["response"].update(signature=b64url(b"\x30\x02\x01")),
        lambda c: c["response"].update(userHandle=b64url(b"someone-else")),
        lambda c: c["response"].update(userHandle=17),
    ]
    for expected, mutate in zip((4, 3, 2, 1), mutations, strict=True):
        credential = key.get(login_options(client, token))
        mutate(credential)
        r = client.post(LOGIN, json={"mfa_token": token, "credential": credential})
        assert assert_problem(r, 401, "invalid_code")["attempts_remaining"] == expected


def test_sign_count_must_advance(client: TestClient) -> None:
    account = sign_up(client)
    key = SoftAuthenticator()  # counter starts at 1 on registration
    register(client, account, key)
    token = start_login(client, account)["mfa_token"]
    r = client.post(
        LOGIN, json={"mfa_token": token, "credential": key.get(login_options(client, token))}
    )
    assert r.status_code == 200, r.text  # counter 2

    token = start_login(client, account)["mfa_token"]
    for count, remaining in ((2, 4), (1, 3), (0, 2)):
        credential = key.get(login_options(client, token), sign_count=count)
        r = client.post(LOGIN, json={"mfa_token": token, "credential": credential})
        assert assert_problem(r, 401, "invalid_code")["attempts_remaining"] == remaining
    # Refused assertions did not move the stored counter: 3 is still ahead of it.
    credential = key.get(login_options(client, token), sign_count=3)
    r = client.post(LOGIN, json={"mfa_token": token, "credential": credential})
    assert r.status_code == 200, r.text
    events = client.get("/api/v1/profile/auth/events", headers=account.auth).json()["events"]
    mismatches = [e for e in events if e["type"] == "passkey_sign_count_mismatch"]
    assert len(mismatches) == 3
    assert all(e["method"] == "passkey" and "Laptop" in e["detail"]["note"] for e in mismatches)


def test_keys_without_a_counter_sign_in_repeatedly(client: TestClient) -> None:
    account = sign_up(client)
    key = SoftAuthenticator(counts=False)
    register(client, account, key)
    for _ in range(2):
        token = start_login(client, account)["mfa_token"]
        credential = key.get(login_options(client, token))
        r = client.post(LOGIN, json={"mfa_token": token, "credential": credential})
        assert r.status_code == 200, r.text


def test_rename_and_remove(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client)
    bob = sign_up(client, "bob@example.com")
    first = register(client, alice, SoftAuthenticator(), name="Laptop")["passkey"]
    second = register(client, alice, SoftAuthenticator(), name="Phone")["passkey"]
    bobs = register(client, bob, SoftAuthenticator())["passkey"]

    r = client.patch(
        f"{PASSKEYS}/{first['id']}", json={"name": " Work laptop "}, headers=alice.auth
    )
    assert r.status_code == 200, r.text
    assert r.json() == {**first, "name": "Work laptop"}
    assert_problem(
        client.patch(f"{PASSKEYS}/{bobs['id']}", json={"name": "Mine"}, headers=alice.auth),
        404,
        "not_found",
    )
    assert_problem(
        client.patch(f"{PASSKEYS}/nope", json={"name": "x"}, headers=alice.auth), 404, "not_found"
    )
    assert_problem(
        client.patch(f"{PASSKEYS}/{first['id']}", json={"name": ""}, headers=alice.auth),
        422,
        "validation_error",
    )

    assert_problem(client.delete(f"{PASSKEYS}/{bobs['id']}", headers=alice.auth), 404, "not_found")
    assert client.delete(f"{PASSKEYS}/{first['id']}", headers=alice.auth).status_code == 204
    assert_problem(client.delete(f"{PASSKEYS}/{first['id']}", headers=alice.auth), 404, "not_found")
    r = client.delete(f"{PASSKEYS}/{second['id']}", headers=alice.auth)
    assert_problem(r, 409, "last_factor")
    assert [p["id"] for p in client.get(PASSKEYS, headers=alice.auth).json()] == [second["id"]]

    enroll_totp(client, alice, clock)  # another factor: now the passkey may go
    clock.advance(11 * 60)  # ...but not without a recent password check
    r = client.delete(f"{PASSKEYS}/{second['id']}", headers=alice.auth)
    assert_problem(r, 403, "reauthentication_required")
    r = client.post(
        "/api/v1/auth/reauthenticate", json={"password": alice.password}, headers=alice.auth
    )
    assert r.status_code == 204, r.text
    assert client.delete(f"{PASSKEYS}/{second['id']}", headers=alice.auth).status_code == 204
    assert client.get(PASSKEYS, headers=alice.auth).json() == []
    types = event_types(client, alice)
    assert types.count("passkey_removed") == 2 and "passkey_renamed" in types
    assert len(client.get(PASSKEYS, headers=bob.auth).json()) == 1


@pytest.fixture
def second_app(settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    """Another instance on the same database: nothing shared but the database."""
    application = create_app(settings, clock)
    with TestClient(application, base_url=PUBLIC_URL) as other:
        yield other
    application.state.engine.dispose()


def test_ceremonies_finish_on_another_instance(client: TestClient, second_app: TestClient) -> None:
    account = sign_up(client)
    key = SoftAuthenticator()
    credential = key.create(registration_options(second_app, account))
    r = client.post(PASSKEYS, json={"name": "Key", "credential": credential}, headers=account.auth)
    assert r.status_code == 201, r.text

    token = start_login(client, account)["mfa_token"]
    options = login_options(client, token)
    r = second_app.post(LOGIN, json={"mfa_token": token, "credential": key.get(options)})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "authenticated"


def test_a_passkey_step_is_two_statements_on_postgresql(
    client: TestClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BEGIN, the read that admits the attempt (and spends the challenge and reads the key),
    the one write, COMMIT: four round trips. The challenge's spend is in the admission's
    statement, so a wrong assertion has spent it too."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the admission's joined spend is PostgreSQL's; SQLite runs it apart")
    account = sign_up(client)
    key = SoftAuthenticator()
    register(client, account, key)
    token = start_login(client, account)["mfa_token"]
    options = login_options(client, token)
    sent = record_statements(monkeypatch)
    wrong = client.post(
        LOGIN, json={"mfa_token": token, "credential": key.get(options, tamper=True)}
    )
    assert assert_problem(wrong, 401, "invalid_code")["attempts_remaining"] == 4
    assert sent[0].startswith("WITH pending AS") and "UPDATE webauthn_challenges" in sent[0]
    # The challenge the wrong assertion answered is spent: the right one on it is a replay.
    r = client.post(LOGIN, json={"mfa_token": token, "credential": key.get(options)})
    assert assert_problem(r, 401, "invalid_code")["attempts_remaining"] == 3
    sent.clear()
    r = client.post(
        LOGIN, json={"mfa_token": token, "credential": key.get(login_options(client, token))}
    )
    assert r.status_code == 200, r.text
    assert len(sent) == 2, sent
    assert sent[0].startswith("WITH pending AS") and sent[1].startswith("WITH spent_factor AS")
