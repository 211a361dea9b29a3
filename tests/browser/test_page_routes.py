"""The page routes over plain HTTP: headers, redirects, no open redirects, static files, no 500s."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ankra_auth.app import create_app
from ankra_auth.clock import FrozenClock
from ankra_auth.config import Settings
from ankra_auth.web.pages import CONTENT_SECURITY_POLICY, safe_next
from tests.helpers import PASSWORD, enroll_totp, sign_up
from tests.test_orgs import accept, invite

BASE = "http://localhost:8000"
ORIGIN = {"Origin": BASE}


@pytest.fixture
def web(tmp_path: Path, template_db: Path, clock: FrozenClock) -> Iterator[TestClient]:
    db_file = tmp_path / "ankra.db"
    shutil.copy(template_db, db_file)
    settings = Settings(
        database_url=f"sqlite:///{db_file}",
        secret_key="page-routes-" + "p" * 32,
        public_url=BASE,
        password_hash_concurrency=4,
    )
    app = create_app(settings, clock)
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        yield client
    app.state.engine.dispose()


def sign_in_with_cookie(client: TestClient, email: str) -> None:
    r = client.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD}, headers=ORIGIN
    )
    assert r.status_code == 200 and "ankra_session" in client.cookies, r.text


def data_attribute(html: str, name: str) -> str:
    match = re.search(rf' data-{name}="([^"]*)"', html)
    assert match, html[:500]
    return unescape(match.group(1))


@pytest.mark.parametrize("path", ["/login", "/cli/login/abc", "/profile/authentication", "/"])
def test_pages_send_strict_security_headers(web: TestClient, path: str) -> None:
    r = web.get(path)
    assert r.status_code in (200, 303)
    assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_pages_have_no_inline_script_or_style(web: TestClient) -> None:
    sign_up(web, "carol@example.com")
    sign_in_with_cookie(web, "carol@example.com")
    for path in ("/login", "/cli/login/abc", "/profile/authentication"):
        html = web.get(path).text
        assert "<style" not in html and " style=" not in html, path
        for tag in re.findall(r"<script[^>]*>", html):
            assert 'src="/static/' in tag, tag


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/profile/authentication?tab=1", True),
        ("/", True),
        ("//evil.example/", False),
        ("/\\evil.example", False),
        ("/\t/evil.example", False),
        ("/\n/evil.example", False),
        ("https://evil.example/", False),
        ("javascript:alert(1)", False),
        ("evil.example", False),
        ("", False),
        ("/" + "a" * 5000, False),
    ],
)
def test_next_stays_on_this_site(web: TestClient, given: str, kept: bool) -> None:
    assert safe_next(given) == (given if kept else "/profile/authentication")
    r = web.get("/login", params={"next": given})
    assert r.status_code == 200
    assert data_attribute(r.text, "next") == safe_next(given)


def test_profile_page_needs_a_session(web: TestClient) -> None:
    r = web.get("/profile/authentication")
    assert (r.status_code, r.headers["location"]) == (303, "/login?next=/profile/authentication")
    web.cookies.set("ankra_session", "not-a-session")
    r = web.get("/profile/authentication")
    assert r.headers["location"] == "/login?next=/profile/authentication"

    sign_up(web, "dave@example.com")
    web.cookies.clear()
    sign_in_with_cookie(web, "dave@example.com")
    r = web.get("/profile/authentication")
    assert r.status_code == 200
    assert data_attribute(r.text, "email") == "dave@example.com"
    assert data_attribute(r.text, "site") == BASE
    # Enrollment is only for restricted sessions: others go where they were going.
    r = web.get("/secure-account", params={"next": "//evil.example"})
    assert (r.status_code, r.headers["location"]) == (303, "/profile/authentication")


def test_restricted_session_is_sent_to_secure_your_account(
    web: TestClient, clock: FrozenClock
) -> None:
    owner = sign_up(web, "owner@example.com")
    enroll_totp(web, owner, clock)
    erin = sign_up(web, "erin@example.com")
    org = web.post("/api/v1/orgs", json={"name": "Acme <b>Corp</b>"}, headers=owner.auth).json()
    invite(web, owner, org["id"], erin)
    accept(web, erin, org["id"])
    r = web.patch(
        f"/api/v1/orgs/{org['id']}", json={"require_two_factor": True}, headers=owner.auth
    )
    assert r.status_code == 200, r.text

    sign_in_with_cookie(web, "erin@example.com")
    r = web.get("/profile/authentication")
    assert r.headers["location"] == "/secure-account?next=/profile/authentication"
    r = web.get("/secure-account", params={"next": "/profile/authentication"})
    assert r.status_code == 200
    assert "Secure your account to continue" in r.text
    assert '<span class="org-name">Acme &lt;b&gt;Corp&lt;/b&gt;</span>' in r.text  # autoescaped
    assert ">Leave Acme &lt;b&gt;Corp&lt;/b&gt;</button>" in r.text
    erin_id = web.get("/api/v1/me", headers=erin.auth).json()["id"]
    assert data_attribute(r.text, "user") == erin_id
    assert data_attribute(r.text, "next") == "/profile/authentication"


def test_secure_account_without_session_goes_to_login_and_back(web: TestClient) -> None:
    r = web.get("/secure-account", params={"next": "/profile/authentication"})
    assert r.headers["location"] == ("/login?next=/secure-account%3Fnext%3D/profile/authentication")


def test_cli_page_token_is_escaped(web: TestClient) -> None:
    r = web.get('/cli/login/"><img src=x onerror=alert(1)>')
    assert r.status_code == 200
    assert "<img" not in r.text
    assert data_attribute(r.text, "token") == '"><img src=x onerror=alert(1)>'


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("login.js", "text/javascript; charset=utf-8"), ("ankra.css", "text/css; charset=utf-8")],
)
def test_static_files_from_the_allow_list(web: TestClient, name: str, content_type: str) -> None:
    r = web.get(f"/static/{name}")
    assert r.status_code == 200
    assert r.headers["content-type"] == content_type
    assert r.headers["x-content-type-options"] == "nosniff"
    assert f"/static/{name}?v=" in web.get("/login").text


def test_module_imports_are_content_addressed(web: TestClient) -> None:
    """A page module imports its helpers by hashed URL, so no browser mixes two releases."""
    body = web.get("/static/login.js").text
    imports = re.findall(r"from '(/static/[a-z0-9-]+\.js\?v=[0-9a-f]{12})'", body)
    assert imports and "from './" not in body
    for url in imports:
        assert web.get(url).status_code == 200


@pytest.mark.parametrize(
    "name", ["app.py", "..%2Fpages.py", "login.JS", "%00", "login.js.map", "ankra.js"]
)
def test_other_static_names_are_not_found(web: TestClient, name: str) -> None:
    r = web.get(f"/static/{name}")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path",
    [
        "/login?next=%00",
        "/login?next=%ff%fe",
        "/login?next=/a&next=//b",
        "/cli/login/%ff",
        "/cli/login/" + "x" * 5000,
        "/secure-account?next=%0d%0aSet-Cookie:x=1",
        "/profile/authentication?next=//evil",
    ],
)
def test_odd_input_never_breaks_a_page(web: TestClient, path: str) -> None:
    web.cookies.set("ankra_session", "\x7f" * 3)
    r = web.get(path)
    assert r.status_code in (200, 303)
    assert "\n" not in r.headers.get("location", "")


def test_pages_are_not_in_the_api_schema(web: TestClient) -> None:
    paths = web.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if not p.startswith("/api/") and p not in ("/healthz", "/readyz")]
