"""Accounts, password sign-in, sessions and problem+json answers."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy.exc
from fastapi.testclient import TestClient

from ankra_auth.app import create_app
from ankra_auth.clock import FrozenClock
from tests.helpers import PASSWORD, sign_up


def assert_problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    return body  # type: ignore[no-any-return]


def test_create_user_and_me(client: TestClient) -> None:
    r = client.post("/api/v1/users", json={"email": "Bob@Example.com", "password": PASSWORD})
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"id", "email", "created_at"} and body["email"] == "bob@example.com"
    assert body["created_at"].endswith("Z") or body["created_at"].endswith("+00:00")
    login = client.post(
        "/api/v1/auth/login", json={"email": "bob@example.com", "password": PASSWORD}
    ).json()
    assert login["status"] == "authenticated" and login["token_type"] == "bearer"
    assert login["enrollment_required"] is False and login["expires_in"] > 0
    assert len(login["access_token"]) >= 22  # >= 128 bits of base64url
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {login['access_token']}"})
    assert me.json() == {
        "id": body["id"],
        "email": "bob@example.com",
        "two_factor_enabled": False,
        "email_verified": False,  # a sign-up proves nothing: the mailed link does
    }


def test_email_taken_regardless_of_case(client: TestClient) -> None:
    sign_up(client, "carol@example.com")
    r = client.post("/api/v1/users", json={"email": "CAROL@example.com", "password": PASSWORD})
    assert_problem(r, 409, "email_taken")


def test_password_length_bounds(client: TestClient) -> None:
    for password in ("short", "x" * 129):
        r = client.post("/api/v1/users", json={"email": "d@example.com", "password": password})
        body = assert_problem(r, 422, "validation_error")
        assert body["errors"][0]["loc"] == ["body", "password"]
    assert (
        client.post(
            "/api/v1/users", json={"email": "d@example.com", "password": "x" * 128}
        ).status_code
        == 201
    )


def test_wrong_password_and_unknown_email_answer_alike(client: TestClient) -> None:
    sign_up(client, "erin@example.com")
    wrong = client.post(
        "/api/v1/auth/login", json={"email": "erin@example.com", "password": "nope-nope"}
    )
    unknown = client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "nope-nope"}
    )
    a, b = (
        assert_problem(wrong, 401, "invalid_credentials"),
        assert_problem(unknown, 401, "invalid_credentials"),
    )
    assert a == b


def test_me_needs_a_valid_session(client: TestClient, clock: FrozenClock) -> None:
    assert_problem(client.get("/api/v1/me"), 401, "not_authenticated")
    assert_problem(
        client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}), 401, "not_authenticated"
    )
    account = sign_up(client)
    clock.advance(12 * 3600 + 1)  # default session lifetime
    assert_problem(client.get("/api/v1/me", headers=account.auth), 401, "not_authenticated")


def test_logout_revokes_the_session(client: TestClient) -> None:
    account = sign_up(client)
    assert client.post("/api/v1/auth/logout", headers=account.auth).status_code == 204
    assert_problem(client.get("/api/v1/me", headers=account.auth), 401, "not_authenticated")


def test_malformed_json_is_a_validation_problem(client: TestClient) -> None:
    r = client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(r, 422, "validation_error")
    r = client.post("/api/v1/auth/login", json=["a", "list"])
    assert_problem(r, 422, "validation_error")


def test_unknown_route_and_method_are_problems(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/nope"), 404, "not_found")
    assert_problem(client.put("/api/v1/auth/login", json={}), 405, "method_not_allowed")


def test_cookie_session_needs_an_allowed_origin_for_unsafe_requests(client: TestClient) -> None:
    sign_up(client, "frank@example.com")
    r = client.post(
        "/api/v1/auth/login",
        json={"email": "frank@example.com", "password": PASSWORD},
        headers={"Origin": "http://localhost:8000"},
    )
    cookie = r.cookies.get("ankra_session")
    assert (
        cookie
        and "httponly" in r.headers["set-cookie"].lower()
        and "samesite=lax" in r.headers["set-cookie"].lower()
    )
    client.cookies.clear()
    client.cookies.set("ankra_session", cookie)
    assert client.get("/api/v1/me").status_code == 200
    evil = client.post("/api/v1/profile/auth/totp", headers={"Origin": "http://evil.example"})
    assert_problem(evil, 403, "csrf_failed")
    missing = client.post("/api/v1/profile/auth/totp")
    assert_problem(missing, 403, "csrf_failed")
    ok = client.post("/api/v1/profile/auth/totp", headers={"Origin": "http://localhost:8000"})
    assert ok.status_code == 201


def test_api_clients_get_no_cookie(client: TestClient) -> None:
    sign_up(client, "gina@example.com")
    r = client.post("/api/v1/auth/login", json={"email": "gina@example.com", "password": PASSWORD})
    assert "set-cookie" not in r.headers


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok"}


def test_an_unreachable_database_is_a_503_problem(client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    from ankra_auth.db import make_session_factory

    app.state.session_factory = make_session_factory(
        create_engine(
            "postgresql+psycopg://ankra@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
        )
    )
    r = client.post("/api/v1/auth/login", json={"email": "a@example.com", "password": "whatever1"})
    assert_problem(r, 503, "service_unavailable")
    assert r.headers["Retry-After"] == "1"


@pytest.mark.parametrize(
    "lost_race",
    [
        sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("duplicate key")),
        psycopg.errors.UniqueViolation("duplicate key"),  # the event loop's TOTP sign-in
    ],
    ids=["sqlalchemy", "psycopg"],
)
def test_a_uniqueness_race_is_a_409_problem(settings, clock, lost_race: Exception) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings, clock)

    @app.post("/raced")
    def raced() -> None:
        raise lost_race

    with TestClient(app, raise_server_exceptions=False) as client:
        assert_problem(client.post("/raced"), 409, "conflict")
    app.state.engine.dispose()
