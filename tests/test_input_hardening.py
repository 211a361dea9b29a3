"""Bad input answers problem+json with the contract's code, never a 5xx, on both databases."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers import Account, enroll_totp, sign_up
from tests.live_server import threaded_server

CONTROL = ["\x00", "\x1b]8;;http://evil.example\x1b\\", "\x1b[2J", "\x07", "\x7f", "\x85", "\x9b"]
EVENTS = "/api/v1/profile/auth/events"


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    return body


@pytest.mark.parametrize("bad", CONTROL)
def test_control_characters_in_emails_and_names_are_422(client: TestClient, bad: str) -> None:
    alice = sign_up(client, "alice@example.com")
    sign_up(client, "bob@example.com")
    org_id = client.post("/api/v1/orgs", json={"name": "Acme"}, headers=alice.auth).json()["id"]
    calls = [
        lambda: client.post(
            "/api/v1/users", json={"email": f"eve{bad}@example.com", "password": "x" * 12}
        ),
        lambda: client.post(
            "/api/v1/auth/login", json={"email": f"alice@example.com{bad}", "password": "x" * 12}
        ),
        lambda: client.post("/api/v1/orgs", json={"name": f"Acme{bad}"}, headers=alice.auth),
        lambda: client.post(
            f"/api/v1/orgs/{org_id}/members",
            json={"email": f"bob{bad}@example.com"},
            headers=alice.auth,
        ),
        lambda: client.post(
            "/api/v1/profile/auth/passkeys",
            json={"name": f"Key{bad}", "credential": {}},
            headers=alice.auth,
        ),
    ]
    for call in calls:
        assert_problem(call(), 422, "validation_error")


# Bidi override and isolate, zero-width space, joiner and no-break, line and paragraph
# separators: each reorders or hides what a reader of the name sees.
INVISIBLE = ["\u202e", "\u2066", "\u200b", "\u200d", "\ufeff", "\u2028", "\u2029"]


@pytest.mark.parametrize("bad", INVISIBLE)
def test_format_characters_in_names_are_422(client: TestClient, bad: str) -> None:
    alice = sign_up(client)
    org = client.post("/api/v1/orgs", json={"name": "Acme"}, headers=alice.auth)
    calls = [
        lambda: client.post("/api/v1/orgs", json={"name": f"Ac{bad}me"}, headers=alice.auth),
        lambda: client.post(
            "/api/v1/profile/auth/passkeys",
            json={"name": f"Key{bad}", "credential": {}},
            headers=alice.auth,
        ),
        lambda: client.patch(
            f"/api/v1/profile/auth/passkeys/{'0' * 32}",
            json={"name": f"{bad}Key"},
            headers=alice.auth,
        ),
    ]
    for call in calls:
        assert_problem(call(), 422, "validation_error")
    names = [o["name"] for o in client.get("/api/v1/orgs", headers=alice.auth).json()]
    assert names == [org.json()["name"]]


def test_a_lone_surrogate_is_422_not_a_database_error(client: TestClient) -> None:
    raw = b'{"email": "a\\ud800@example.com", "password": "correct horse battery"}'
    r = client.post("/api/v1/auth/login", content=raw, headers={"Content-Type": "application/json"})
    assert_problem(r, 422, "validation_error")


@pytest.mark.parametrize(
    "bad_id", ["%00", "x" * 300, "ZZZZ", "0" * 31, "g" * 32, "%E2%80%AE" + "0" * 31]
)
def test_path_ids_that_cannot_exist_are_404(client: TestClient, bad_id: str) -> None:
    alice = sign_up(client)
    for method, path, body in [
        ("PATCH", f"/api/v1/orgs/{bad_id}", {"require_two_factor": True}),
        ("GET", f"/api/v1/orgs/{bad_id}/members", None),
        ("DELETE", f"/api/v1/orgs/{'0' * 32}/members/{bad_id}", None),
        ("PATCH", f"/api/v1/profile/auth/passkeys/{bad_id}", {"name": "x"}),
        ("DELETE", f"/api/v1/profile/auth/passkeys/{bad_id}", None),
        ("DELETE", f"/api/v1/profile/sessions/{bad_id}", None),
        ("POST", f"/api/v1/invitations/{bad_id}/accept", None),
        ("DELETE", f"/api/v1/invitations/{bad_id}", None),
        ("DELETE", f"/api/v1/profile/sso/{bad_id}", None),
    ]:
        r = client.request(method, path, json=body, headers=alice.auth)
        assert_problem(r, 404, "not_found")


def _cursor(raw: bytes, *, pad: bool = False) -> str:
    encoded = base64.urlsafe_b64encode(raw).decode()
    return encoded if pad else encoded.rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        _cursor(b"e9223372036854775808"),  # 2**63
        _cursor(b"e" + b"9" * 40),
        _cursor(b"e+5"),
        _cursor(b"e1_0"),
        _cursor(b"e-1"),
        _cursor(b"e 5"),
        _cursor(b"e05"),
        _cursor(b"e"),
        _cursor("e\u0665".encode()),  # ARABIC-INDIC DIGIT FIVE
        _cursor(b"e1", pad=True),  # padded: not the spelling we issue
        "ZTF",  # "e1" with nonzero trailing bits: decodes, but is not ours
        "\u0665",
        "e5",
        "%00",
        "!!!!",
    ],
)
def test_cursors_the_service_did_not_issue_are_400(client: TestClient, cursor: str) -> None:
    alice = sign_up(client)
    r = client.get(EVENTS, params={"cursor": cursor}, headers=alice.auth)
    assert_problem(r, 400, "invalid_cursor")


def test_an_issued_cursor_still_pages(client: TestClient, clock) -> None:  # type: ignore[no-untyped-def]
    alice = sign_up(client)
    enroll_totp(client, alice, clock)
    first = client.get(EVENTS, params={"limit": 1}, headers=alice.auth).json()
    r = client.get(EVENTS, params={"limit": 1, "cursor": first["next_cursor"]}, headers=alice.auth)
    assert r.status_code == 200, r.text
    assert r.json()["events"][0]["id"] != first["events"][0]["id"]


def test_answers_carrying_secrets_are_not_cached(client: TestClient, clock) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/users", json={"email": "a@example.com", "password": "x" * 12})
    assert r.headers["cache-control"] == "no-store"
    r = client.post("/api/v1/auth/login", json={"email": "a@example.com", "password": "x" * 12})
    assert r.headers["cache-control"] == "no-store"
    account = Account(email="a@example.com", password="x" * 12, token=r.json()["access_token"])
    r = client.post("/api/v1/profile/auth/totp", headers=account.auth)
    assert "secret" in r.json() and r.headers["cache-control"] == "no-store"
    enroll_totp(client, account, clock)
    r = client.post("/api/v1/auth/login", json={"email": "a@example.com", "password": "x" * 12})
    assert "mfa_token" in r.json() and r.headers["cache-control"] == "no-store"
    assert client.get("/api/v1/profile/auth", headers=account.auth).headers["cache-control"] == (
        "no-store"
    )
    # errors too: a problem can echo what the client sent
    assert client.get("/api/v1/nothing-here").headers["cache-control"] == "no-store"
    assert client.get("/login").headers["cache-control"] == "no-store"


LIMIT = 64 * 1024


def test_a_declared_body_over_64_kib_is_413(client: TestClient) -> None:
    body = b'{"email": "a@example.com", "password": "' + b"x" * LIMIT + b'"}'
    r = client.post(
        "/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert_problem(r, 413, "payload_too_large")
    # at the limit it is read and judged as usual
    ok = b'{"email": "a@example.com", "password": "' + b"x" * (LIMIT - 60) + b'"}'
    assert len(ok) <= LIMIT
    r = client.post("/api/v1/auth/login", content=ok, headers={"Content-Type": "application/json"})
    assert_problem(r, 422, "validation_error")


@pytest.fixture
def live(app: FastAPI) -> Iterator[str]:
    with threaded_server(app) as base:
        yield base


def test_a_chunked_body_is_cut_off_at_64_kib(live: str) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"email": "a@example.com", "password": "'
        for _ in range(50 * 16):  # up to 50 MiB, if the server kept reading
            sent += 64 * 1024
            yield b"x" * (64 * 1024)
        yield b'"}'

    with httpx.Client(base_url=live, timeout=30) as http:
        try:
            r = http.post(
                "/api/v1/auth/login",
                content=chunks(),
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError:
            pytest.fail("the server dropped the connection instead of answering 413")
    assert_problem(r, 413, "payload_too_large")
    assert sent < 10 * 1024 * 1024, "the body was read far past the limit"
    with httpx.Client(base_url=live, timeout=30) as http:
        assert http.get("/healthz").status_code == 200
