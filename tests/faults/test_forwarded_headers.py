"""Behind the shipped deploy/nginx.conf, a client cannot choose its own IP address: nginx
overwrites ``X-Forwarded-For`` with the address it saw, and the service trusts forwarded
headers only from the proxy (``ANKRA_FORWARDED_ALLOW_IPS``)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ankra_auth.security import pkce
from tests.cli.handoff_steps import new_verifier
from tests.faults.nginx import nginx_in_front
from tests.faults.services import code, new_email, running, start_service
from tests.helpers import PASSWORD

pytestmark = pytest.mark.faults

CHOSEN = "203.0.113.66"  # what the client would like the service to believe


def test_a_client_sent_x_forwarded_for_is_ignored(tmp_path: Path) -> None:
    service = start_service(
        f"sqlite:///{tmp_path / 'ankra.db'}",
        log_path=tmp_path / "service.log",
        extra_env={"ANKRA_FORWARDED_ALLOW_IPS": "127.0.0.1"},
    )
    with running(service), nginx_in_front(tmp_path / "nginx", [service.port]) as proxy:
        lie = {"X-Forwarded-For": CHOSEN}
        with httpx.Client(base_url=proxy, timeout=30, headers=lie) as http:
            email = new_email("forwarded")
            assert http.post(
                "/api/v1/users", json={"email": email, "password": PASSWORD}
            ).is_success
            signed_in = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            auth = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
            sessions = http.get("/api/v1/profile/sessions", headers=auth).json()
            assert [s["ip"] for s in sessions] == ["127.0.0.1"]
            events = http.get("/api/v1/profile/auth/events", headers=auth).json()["events"]
            assert {e["ip"] for e in events} == {"127.0.0.1"}
            # The device page shows the terminal's real address.
            verifier = new_verifier()
            mfa = _mfa_token(http, email, auth)
            started = http.post(
                "/api/v1/auth/cli/authorize",
                json={
                    "mfa_token": mfa,
                    "code_challenge": pkce.s256_challenge(verifier),
                    "code_challenge_method": "S256",
                },
            ).json()
            opened = http.post(
                "/api/v1/auth/cli/device/code", json={"user_code": started["user_code"]}
            )
            assert opened.status_code == 200, opened.text
            assert opened.json()["ip"] == "127.0.0.1"
        # The per-address budget of wrong user codes cannot be escaped by a new "address".
        with httpx.Client(base_url=proxy, timeout=30) as http:
            for i in range(11):
                r = http.post(
                    "/api/v1/auth/cli/device/code",
                    json={"user_code": "0000-0000"},
                    headers={"X-Forwarded-For": f"198.51.100.{i}"},
                )
            assert r.status_code == 429 and r.json()["code"] == "rate_limited", r.text


def _mfa_token(http: httpx.Client, email: str, auth: dict[str, str]) -> str:
    """Turn TOTP on, then start a sign-in that waits for it."""
    secret = http.post("/api/v1/profile/auth/totp", headers=auth).json()["secret"]
    confirmed = http.post(
        "/api/v1/profile/auth/totp/confirm", json={"code": code(secret)}, headers=auth
    )
    assert confirmed.status_code == 200, confirmed.text
    login = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return str(login.json()["mfa_token"])
