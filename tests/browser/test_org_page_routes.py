"""``/orgs/{id}`` over plain HTTP: a session first, the same 404 page for an organisation
the visitor is not in as for none at all, the name escaped, and odd ids never a 500."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.browser.test_page_routes import data_attribute, sign_in_with_cookie, web  # noqa: F401
from tests.helpers import sign_up
from tests.soft_authenticator import SoftAuthenticator
from tests.test_orgs import accept, invite
from tests.test_passkeys import register


def test_org_page_needs_a_session_and_membership(web: TestClient) -> None:  # noqa: F811
    owner = sign_up(web, "owner@example.com")
    dave = sign_up(web, "dave@example.com")
    org = web.post("/api/v1/orgs", json={"name": "Acme <b>Corp</b>"}, headers=owner.auth).json()
    other = web.post("/api/v1/orgs", json={"name": "Umbrella"}, headers=owner.auth).json()
    invite(web, owner, org["id"], dave)
    accept(web, dave, org["id"])
    web.cookies.clear()

    r = web.get(f"/orgs/{org['id']}")
    assert (r.status_code, r.headers["location"]) == (303, f"/login?next=/orgs/{org['id']}")

    sign_in_with_cookie(web, "dave@example.com")
    r = web.get(f"/orgs/{org['id']}")
    assert r.status_code == 200
    assert "<h1>Acme &lt;b&gt;Corp&lt;/b&gt;</h1>" in r.text  # autoescaped
    assert data_attribute(r.text, "org") == org["id"]
    assert data_attribute(r.text, "role") == "member"
    assert 'data-form="policy"' not in r.text  # the policy form is for owners

    not_in = web.get(f"/orgs/{other['id']}")
    unknown = web.get("/orgs/" + "0" * 32)
    assert not_in.status_code == unknown.status_code == 404
    assert not_in.text == unknown.text and "Page not found" in not_in.text

    web.cookies.clear()
    sign_in_with_cookie(web, "owner@example.com")
    r = web.get(f"/orgs/{org['id']}")
    assert r.status_code == 200 and 'data-form="policy"' in r.text


def test_odd_org_ids_never_break_the_page(web: TestClient) -> None:  # noqa: F811
    sign_up(web, "dave@example.com")
    sign_in_with_cookie(web, "dave@example.com")
    for path in ("/orgs/%00", "/orgs/%ff%fe", "/orgs/" + "x" * 5000):
        r = web.get(path)
        assert r.status_code == 404 and "Page not found" in r.text, (path, r.status_code)


def test_a_passkey_requirement_is_worded_before_any_script_runs(web: TestClient) -> None:  # noqa: F811
    owner = sign_up(web, "owner@example.com")
    register(web, owner, SoftAuthenticator())
    dave = sign_up(web, "dave@example.com")
    org = web.post("/api/v1/orgs", json={"name": "Acme"}, headers=owner.auth).json()
    invite(web, owner, org["id"], dave)
    accept(web, dave, org["id"])
    r = web.patch(f"/api/v1/orgs/{org['id']}", json={"require_passkey": True}, headers=owner.auth)
    assert r.status_code == 200, r.text
    web.cookies.clear()

    sign_in_with_cookie(web, "dave@example.com")
    page = web.get("/secure-account").text
    assert '<h2 id="why-title">A passkey is required</h2>' in page
    assert (
        '<p data-field="why-passkey">Acme requires a passkey. Add one on this device.</p>' in page
    )
    assert '<p data-field="why-two-factor" hidden>' in page
    assert '<p data-field="how-passkey">' in page

    r = web.patch(
        f"/api/v1/orgs/{org['id']}",
        json={"require_two_factor": True, "require_passkey": False},
        headers=owner.auth,
    )
    assert r.status_code == 200, r.text
    page = web.get("/secure-account").text  # two-factor only: worded as before
    assert '<h2 id="why-title">Two-factor authentication is required</h2>' in page
    assert '<p data-field="why-passkey" hidden></p>' in page
    assert '<p data-field="why-two-factor">' in page
