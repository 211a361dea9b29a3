"""Sign-in calls from a page at an address that is not allowed: 403 ``origin_not_allowed``,
and nothing read, counted, spent or created (hardening/sign_in_origin.py)."""

from __future__ import annotations

import json
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from ankra_auth.accounts.models import AuthSession, Throttle
from ankra_auth.challenges.models import PendingLogin
from ankra_auth.clock import FrozenClock
from ankra_auth.events.models import SecurityEvent
from tests.conftest import PUBLIC_URL
from tests.helpers import code_now, enroll_totp, sign_up, start_login

WRONG = {"Origin": "http://127.0.0.1:8000"}
TOTP = "/api/v1/auth/mfa/totp"


def assert_origin_refused(response, origin: str = WRONG["Origin"]) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "origin_not_allowed"
    assert body["allowed_origins"] == [PUBLIC_URL]
    assert body["login_url"] == f"{PUBLIC_URL}/login"
    assert origin in body["detail"] and f"{PUBLIC_URL}/login" in body["detail"]
    assert "set-cookie" not in response.headers


def snapshot(app: FastAPI) -> dict[str, list[str]]:
    """Every row of the tables a sign-in writes: sessions, pending logins (with their
    attempt counts), throttle counts, security events."""
    with app.state.session_factory() as db:
        return {
            model.__tablename__: sorted(map(repr, db.execute(select(model.__table__)).all()))
            for model in (AuthSession, PendingLogin, Throttle, SecurityEvent)
        }


def test_every_sign_in_operation_refuses_a_foreign_origin(app: FastAPI, client: TestClient) -> None:
    """Checked before routing: every route under /api/v1/auth/, today's and tomorrow's."""
    routes = [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/v1/auth/")
        for method in operations
    ]
    assert len(routes) > 15
    for method, path in routes:
        url = re.sub(r"\{[^}]+\}", "0" * 32, path)
        for origin in ("http://127.0.0.1:8000", "https://evil.example", "null"):
            response = client.request(method, url, json={}, headers={"Origin": origin})
            assert_origin_refused(response, origin)


def test_a_foreign_origin_creates_nothing_and_spends_nothing(
    app: FastAPI, client: TestClient, clock: FrozenClock
) -> None:
    account = sign_up(client)
    enroll_totp(client, account, clock)
    before = snapshot(app)

    # The right password from the wrong address: no pending login, no count, no event.
    credentials = {"email": account.email, "password": account.password}
    assert_origin_refused(client.post("/api/v1/auth/login", json=credentials, headers=WRONG))
    # Nor does a body the routes would refuse get further than the origin check.
    assert_origin_refused(client.post("/api/v1/auth/login", content=b"{", headers=WRONG))
    assert snapshot(app) == before  # type: ignore[arg-type]

    # A right code from the wrong address is not spent: the same code then signs in.
    mfa_token = start_login(client, account)["mfa_token"]
    code = code_now(account.totp_secret, clock)
    body = {"mfa_token": mfa_token, "code": code}
    after_login = snapshot(app)
    for _ in range(6):  # more than the pending login's 5 attempts: none of them counted
        assert_origin_refused(client.post(TOTP, json=body, headers=WRONG))
    assert snapshot(app) == after_login  # type: ignore[arg-type]
    signed_in = client.post(TOTP, json=body, headers={"Origin": PUBLIC_URL})
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["status"] == "authenticated"
    assert "ankra_session" in signed_in.headers.get("set-cookie", "")


def test_requests_without_origin_and_from_allowed_origins_pass(client: TestClient) -> None:
    account = sign_up(client)
    credentials = {"email": account.email, "password": account.password}
    for headers in ({}, {"Origin": PUBLIC_URL}, {"Origin": PUBLIC_URL + "/"}):
        r = client.post("/api/v1/auth/login", json=credentials, headers=headers)
        assert r.status_code == 200, r.text
    # Only sign-in paths: elsewhere a foreign Origin meets the routes' own rules.
    r = client.post(
        "/api/v1/users", json={"email": "b@example.com", "password": "x" * 12}, headers=WRONG
    )
    assert r.status_code == 201


def test_the_openapi_document_names_the_problem(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    login = spec["paths"]["/api/v1/auth/login"]["post"]["responses"]["403"]
    assert login == {"$ref": "#/components/responses/OriginNotAllowed"}
    shared = spec["components"]["responses"]["OriginNotAllowed"]["content"]
    examples = shared["application/problem+json"]["examples"]
    example = spec["components"]["examples"]["OriginNotAllowed"]["value"]
    assert set(examples) == {"origin_not_allowed"} and example["code"] == "origin_not_allowed"
    problem = spec["components"]["schemas"]["OriginNotAllowedProblem"]
    assert {"allowed_origins", "login_url"} <= set(json.dumps(problem).split('"'))
    assert "403" not in spec["paths"]["/api/v1/users"]["post"]["responses"]
