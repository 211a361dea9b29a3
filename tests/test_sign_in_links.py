"""Single-use sign-in links: the CLI opens the pages signed in, without a second sign-in."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from ankra_auth.clock import FrozenClock
from tests.conftest import PUBLIC_URL
from tests.helpers import PASSWORD, sign_up
from tests.live_server import service_process
from tests.race import race
from tests.test_accounts import assert_problem

LINKS = "/api/v1/auth/sign-in-links"
ORIGIN = {"Origin": PUBLIC_URL}


def new_link(client: TestClient, auth: dict[str, str], next_path: str | None = None) -> str:
    body = {} if next_path is None else {"next": next_path}
    r = client.post(LINKS, json=body, headers=auth)
    assert r.status_code == 201, r.text
    assert r.json()["expires_in"] == 60
    url: str = r.json()["url"]
    assert url.startswith(f"{PUBLIC_URL}/auth/link/")
    return url.removeprefix(PUBLIC_URL)


def test_a_link_signs_the_browser_in_once(client: TestClient) -> None:
    account = sign_up(client)
    path = new_link(client, account.auth)
    client.cookies.clear()
    page = client.get(path)
    assert page.status_code == 200 and f"Continue as {account.email}" in page.text
    assert "set-cookie" not in page.headers  # opening the URL alone signs no one in
    done = client.post(path, headers=ORIGIN, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/profile/authentication"
    assert client.get("/api/v1/me").json()["email"] == account.email
    client.cookies.clear()
    again = client.post(path, headers=ORIGIN, follow_redirects=False)
    assert again.status_code == 200 and "expired or was already used" in again.text
    assert "set-cookie" not in again.headers


def test_a_link_refuses_cross_site_posts(client: TestClient) -> None:
    account = sign_up(client)
    path = new_link(client, account.auth)
    client.cookies.clear()
    for headers in ({}, {"Origin": "http://evil.example"}):
        assert_problem(client.post(path, headers=headers), 403, "csrf_failed")
    # Still unspent: the real page can use it.
    assert client.post(path, headers=ORIGIN, follow_redirects=False).status_code == 303


def test_a_link_expires_after_a_minute(client: TestClient, clock: FrozenClock) -> None:
    account = sign_up(client)
    path = new_link(client, account.auth)
    clock.advance(60)
    client.cookies.clear()
    assert "expired or was already used" in client.get(path).text
    assert "expired or was already used" in client.post(path, headers=ORIGIN).text


def test_a_link_inherits_the_sessions_last_check(client: TestClient, clock: FrozenClock) -> None:
    account = sign_up(client)
    clock.advance(9 * 60)
    path = new_link(client, account.auth)
    client.cookies.clear()
    client.post(path, headers=ORIGIN, follow_redirects=False)
    clock.advance(2 * 60)  # 11 minutes after the password, 2 after the link
    r = client.post("/api/v1/profile/auth/recovery-codes", headers=ORIGIN)
    assert_problem(r, 403, "reauthentication_required")


def test_a_link_of_a_signed_out_session_is_dead(client: TestClient) -> None:
    account = sign_up(client)
    path = new_link(client, account.auth)
    assert client.post("/api/v1/auth/logout", headers=account.auth).status_code == 204
    client.cookies.clear()
    assert "expired or was already used" in client.post(path, headers=ORIGIN).text
    assert_problem(client.get("/api/v1/me"), 401, "not_authenticated")


def test_a_link_only_leads_to_this_site(client: TestClient) -> None:
    account = sign_up(client)
    for evil in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        path = new_link(client, account.auth, evil)
        client.cookies.clear()
        done = client.post(path, headers=ORIGIN, follow_redirects=False)
        assert done.headers["location"] == "/profile/authentication"
    path = new_link(client, account.auth, "/secure-account")
    client.cookies.clear()
    assert (
        client.post(path, headers=ORIGIN, follow_redirects=False).headers["location"]
        == "/secure-account"
    )


def test_links_need_a_session(client: TestClient) -> None:
    assert_problem(client.post(LINKS, json={}), 401, "not_authenticated")


def test_one_link_raced_signs_in_once(database_url: str, tmp_path: Path) -> None:
    with service_process(database_url, log_path=tmp_path / "server.log", workers=2) as base:
        with httpx.Client(base_url=base) as http:
            http.post("/api/v1/users", json={"email": "race@example.com", "password": PASSWORD})
            token = http.post(
                "/api/v1/auth/login", json={"email": "race@example.com", "password": PASSWORD}
            ).json()["access_token"]
            url = http.post(LINKS, json={}, headers={"Authorization": f"Bearer {token}"}).json()[
                "url"
            ]
        responses = race(
            [
                lambda h: h.post(url, headers={"Origin": base}, follow_redirects=False)
                for _ in range(20)
            ]
        )
    assert sorted(r.status_code for r in responses) == [200] * 19 + [303]
    assert sum("set-cookie" in r.headers for r in responses) == 1
