"""Organisations that require 2FA: restricted sessions, the allow-list, lifting it by enrolling."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ankra_auth.admin import cli
from ankra_auth.api.deps import ENROLLMENT_ROUTES, ENROLLMENT_SELF_ROUTES
from ankra_auth.clock import FrozenClock
from ankra_auth.config import Settings
from tests.helpers import Account, code_now, enroll_totp, sign_up, start_login
from tests.test_orgs import (
    accept,
    add_member,
    assert_problem,
    create_org,
    invitation_to,
    invite,
    set_enforcement,
)

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DUMMY_ID = "0" * 32
EVENTS = "/api/v1/profile/auth/events"


def requirement(
    org_id: str, name: str, restriction: str | None, *, met: bool = False
) -> dict[str, object]:
    """An ``enforced_by`` item of an organisation that requires two-factor, no grace."""
    return {
        "id": org_id,
        "name": name,
        "required": "two_factor",
        "due_at": None,
        "met": met,
        "restriction": restriction,
    }


def enforcing_org(
    client: TestClient, clock: FrozenClock, *members: Account, name: str = "Acme"
) -> tuple[Account, dict[str, Any]]:
    """An owner with 2FA, an organisation that requires it, and these accounts as members."""
    owner = sign_up(client, f"owner-{name.lower()}@example.com")
    enroll_totp(client, owner, clock)
    org = create_org(client, owner, name)
    for member in members:
        add_member(client, owner, org["id"], member)
    return owner, set_enforcement(client, owner, org["id"], True)


def login(client: TestClient, account: Account) -> dict[str, Any]:
    """Password sign-in for an account without 2FA; returns the authenticated answer."""
    body = start_login(client, account)
    assert body["status"] == "authenticated", body
    return body


def is_enrollment_required(r: Any) -> bool:
    return bool(r.status_code == 403 and r.json().get("code") == "enrollment_required")


def test_enforcement_restricts_an_open_session_at_once(
    client: TestClient, clock: FrozenClock
) -> None:
    bob = sign_up(client, "bob@example.com")
    assert client.get("/api/v1/orgs", headers=bob.auth).status_code == 200

    _, org = enforcing_org(client, clock, bob)

    # the session bob opened before is restricted from the next request on
    assert_problem(
        client.get(f"/api/v1/orgs/{org['id']}/members", headers=bob.auth),
        403,
        "enrollment_required",
    )
    assert_problem(
        client.get("/api/v1/profile/auth/events", headers=bob.auth), 403, "enrollment_required"
    )
    assert client.get("/api/v1/me", headers=bob.auth).status_code == 200
    r = client.get("/api/v1/profile/auth", headers=bob.auth)
    assert r.status_code == 200
    assert r.json()["enrollment_required"] is True
    assert r.json()["enforced_by"] == [requirement(org["id"], "Acme", "enroll")]
    # a new sign-in says so up front
    assert login(client, bob)["enrollment_required"] is True


def test_enrolling_lifts_the_restriction_in_the_same_session(
    client: TestClient, clock: FrozenClock
) -> None:
    bob = sign_up(client, "bob@example.com")
    _, org = enforcing_org(client, clock, bob)
    assert is_enrollment_required(client.get(EVENTS, headers=bob.auth))

    enroll_totp(client, bob, clock)  # start + confirm, with the restricted token

    assert client.get(EVENTS, headers=bob.auth).status_code == 200
    r = client.get("/api/v1/orgs", headers=bob.auth)
    assert r.status_code == 200, r.text
    assert [o["id"] for o in r.json()] == [org["id"]]
    profile = client.get("/api/v1/profile/auth", headers=bob.auth).json()
    assert profile["enrollment_required"] is False
    assert profile["enforced_by"] == [requirement(org["id"], "Acme", None, met=True)]
    # and the next sign-in needs the second factor, then is unrestricted
    body = start_login(client, bob)
    assert body["status"] == "mfa_required"
    r = client.post(
        "/api/v1/auth/mfa/totp",
        json={"mfa_token": body["mfa_token"], "code": code_now(bob.totp_secret, clock)},
    )
    assert r.status_code == 200 and r.json()["enrollment_required"] is False


def test_member_of_two_orgs_where_one_enforces(client: TestClient, clock: FrozenClock) -> None:
    bob = sign_up(client, "bob@example.com")
    relaxed_owner = sign_up(client, "relaxed@example.com")
    relaxed = create_org(client, relaxed_owner, "Relaxed")
    add_member(client, relaxed_owner, relaxed["id"], bob)
    assert login(client, bob)["enrollment_required"] is False
    assert client.get("/api/v1/profile/auth", headers=bob.auth).json()["enforced_by"] == []

    _, strict = enforcing_org(client, clock, bob, name="Strict")

    assert login(client, bob)["enrollment_required"] is True
    profile = client.get("/api/v1/profile/auth", headers=bob.auth).json()
    assert profile["enforced_by"] == [requirement(strict["id"], "Strict", "enroll")]
    assert profile["enrollment_required"] is True
    # the relaxed org's other member is not affected
    assert client.get("/api/v1/orgs", headers=relaxed_owner.auth).status_code == 200


def test_switching_enforcement_off_lifts_it(client: TestClient, clock: FrozenClock) -> None:
    bob = sign_up(client, "bob@example.com")
    owner, org = enforcing_org(client, clock, bob)
    assert is_enrollment_required(client.get(EVENTS, headers=bob.auth))
    set_enforcement(client, owner, org["id"], False)
    assert client.get(EVENTS, headers=bob.auth).status_code == 200
    assert client.get("/api/v1/profile/auth", headers=bob.auth).json()["enforced_by"] == []


def test_joining_an_enforcing_org_restricts_only_after_accepting(
    client: TestClient, clock: FrozenClock
) -> None:
    owner, org = enforcing_org(client, clock)
    bob = sign_up(client, "bob@example.com")
    added = invite(client, owner, org["id"], bob)
    assert added["two_factor_enabled"] is None
    # invited, not a member: no requirement reaches him
    assert client.get("/api/v1/profile/auth/events", headers=bob.auth).status_code == 200
    assert login(client, bob)["enrollment_required"] is False
    assert client.get("/api/v1/profile/auth", headers=bob.auth).json()["enforced_by"] == []

    joined = accept(client, bob, org["id"])
    assert joined["require_two_factor"] is True
    assert is_enrollment_required(client.get("/api/v1/profile/auth/events", headers=bob.auth))
    assert login(client, bob)["enrollment_required"] is True


def test_a_stranger_cannot_be_forced_into_a_restricted_session(
    client: TestClient, clock: FrozenClock
) -> None:
    """Issue 10, finding 6: create an org, add a stranger, switch enforcement on."""
    attacker = sign_up(client, "attacker@example.com")
    enroll_totp(client, attacker, clock)
    victim = sign_up(client, "victim@example.com")
    org = create_org(client, attacker, "Totally Legit")
    invited = invite(client, attacker, org["id"], victim)
    set_enforcement(client, attacker, org["id"], True)

    # the attacker learns nothing about the victim's 2FA
    assert invited["two_factor_enabled"] is None
    r = client.get(f"/api/v1/orgs/{org['id']}/members", headers=attacker.auth)
    assert [(m["status"], m["two_factor_enabled"]) for m in r.json()] == [
        ("active", True),
        ("invited", None),
    ]
    # the victim is not restricted, sees the invitation, and declines it
    assert login(client, victim)["enrollment_required"] is False
    for path in ("/api/v1/orgs", "/api/v1/profile/auth/events", "/api/v1/profile/auth/passkeys"):
        assert client.get(path, headers=victim.auth).status_code == 200, path
    invitation = invitation_to(client, victim, org["id"])
    assert invitation["org"]["require_two_factor"] is True
    r = client.delete(f"/api/v1/invitations/{invitation['id']}", headers=victim.auth)
    assert r.status_code == 204
    assert client.get("/api/v1/invitations", headers=victim.auth).json() == []


def test_leaving_from_a_restricted_session_lifts_it(client: TestClient, clock: FrozenClock) -> None:
    bob = sign_up(client, "bob@example.com")
    owner, strict = enforcing_org(client, clock, bob, name="Strict")
    _, other = enforcing_org(client, clock, bob, name="Other")
    bob_id = client.get("/api/v1/me", headers=bob.auth).json()["id"]
    owner_id = client.get("/api/v1/me", headers=owner.auth).json()["id"]

    # a restricted session sees its organisations, and leaves one
    r = client.get("/api/v1/orgs", headers=bob.auth)
    assert r.status_code == 200
    assert {o["name"] for o in r.json()} == {"Strict", "Other"}
    # ... but removes nobody else
    assert is_enrollment_required(
        client.delete(f"/api/v1/orgs/{strict['id']}/members/{owner_id}", headers=bob.auth)
    )
    r = client.delete(f"/api/v1/orgs/{strict['id']}/members/{bob_id}", headers=bob.auth)
    assert r.status_code == 204, r.text
    assert is_enrollment_required(client.get("/api/v1/profile/auth/events", headers=bob.auth))
    profile = client.get("/api/v1/profile/auth", headers=bob.auth).json()
    assert profile["enforced_by"] == [requirement(other["id"], "Other", "enroll")]

    # leaving the last enforcing org lifts the restriction at once, in the same session
    r = client.delete(f"/api/v1/orgs/{other['id']}/members/{bob_id}", headers=bob.auth)
    assert r.status_code == 204, r.text
    profile = client.get("/api/v1/profile/auth", headers=bob.auth).json()
    assert profile["enrollment_required"] is False and profile["enforced_by"] == []
    assert client.get("/api/v1/profile/auth/events", headers=bob.auth).status_code == 200
    assert client.get("/api/v1/orgs", headers=bob.auth).json() == []


def test_a_restricted_owner_removes_nobody_but_may_leave(
    client: TestClient, clock: FrozenClock
) -> None:
    owner, org = enforcing_org(client, clock)
    carol = sign_up(client, "carol@example.com")
    dave = sign_up(client, "dave@example.com")
    erin = sign_up(client, "erin@example.com")
    add_member(client, owner, org["id"], carol, role="owner")
    add_member(client, owner, org["id"], dave)
    invite(client, owner, org["id"], erin)
    ids = {a.email: client.get("/api/v1/me", headers=a.auth).json()["id"] for a in (owner, carol)}
    dave_id = client.get("/api/v1/me", headers=dave.auth).json()["id"]
    erin_id = client.get("/api/v1/me", headers=erin.auth).json()["id"]

    # carol is an owner without 2FA: restricted, so she neither removes nor withdraws
    for target in (dave_id, erin_id, ids[owner.email]):
        r = client.delete(f"/api/v1/orgs/{org['id']}/members/{target}", headers=carol.auth)
        assert_problem(r, 403, "enrollment_required")
    # the first owner leaves; carol is the last owner now, and may not leave either
    r = client.delete(f"/api/v1/orgs/{org['id']}/members/{ids[owner.email]}", headers=owner.auth)
    assert r.status_code == 204
    r = client.delete(f"/api/v1/orgs/{org['id']}/members/{ids[carol.email]}", headers=carol.auth)
    assert_problem(r, 409, "last_owner")
    assert is_enrollment_required(client.get("/api/v1/profile/auth/events", headers=carol.auth))


def test_a_restricted_session_answers_invitations(client: TestClient, clock: FrozenClock) -> None:
    bob = sign_up(client, "bob@example.com")
    enforcing_org(client, clock, bob, name="Strict")
    other_owner = sign_up(client, "relaxed@example.com")
    relaxed = create_org(client, other_owner, "Relaxed")
    later = create_org(client, other_owner, "Later")
    invite(client, other_owner, relaxed["id"], bob)
    invite(client, other_owner, later["id"], bob)

    assert {
        i["org"]["name"] for i in client.get("/api/v1/invitations", headers=bob.auth).json()
    } == {
        "Relaxed",
        "Later",
    }
    assert accept(client, bob, relaxed["id"])["name"] == "Relaxed"
    declined = invitation_to(client, bob, later["id"])
    r = client.delete(f"/api/v1/invitations/{declined['id']}", headers=bob.auth)
    assert r.status_code == 204
    assert {o["name"] for o in client.get("/api/v1/orgs", headers=bob.auth).json()} == {
        "Strict",
        "Relaxed",
    }
    assert is_enrollment_required(client.get("/api/v1/profile/auth/events", headers=bob.auth))


def test_owner_without_two_factor_cannot_enforce(client: TestClient) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    org = create_org(client, alice)
    add_member(client, alice, org["id"], bob)
    r = client.patch(
        f"/api/v1/orgs/{org['id']}", json={"require_two_factor": True}, headers=alice.auth
    )
    assert_problem(r, 409, "owner_two_factor_required")
    # nothing changed: nobody is restricted
    assert client.get("/api/v1/orgs", headers=bob.auth).json()[0]["require_two_factor"] is False
    assert login(client, bob)["enrollment_required"] is False


def test_an_unenrolled_co_owner_is_restricted_too(client: TestClient, clock: FrozenClock) -> None:
    owner, org = enforcing_org(client, clock)
    carol = sign_up(client, "carol@example.com")
    add_member(client, owner, org["id"], carol, role="owner")
    r = client.patch(
        f"/api/v1/orgs/{org['id']}", json={"require_two_factor": False}, headers=carol.auth
    )
    assert_problem(r, 403, "enrollment_required")


def test_disabling_two_factor_is_refused_while_enforced(
    client: TestClient, clock: FrozenClock
) -> None:
    bob = sign_up(client, "bob@example.com")
    enroll_totp(client, bob, clock)
    owner, org = enforcing_org(client, clock, bob)

    r = client.delete("/api/v1/profile/auth", headers=bob.auth)
    assert_problem(r, 409, "two_factor_enforced")
    assert "Acme" in r.json()["detail"]
    profile = client.get("/api/v1/profile/auth", headers=bob.auth).json()
    assert profile["two_factor_enabled"] is True and profile["recovery_codes_remaining"] == 10
    # the authenticator app is his last factor: it cannot go either
    assert_problem(client.delete("/api/v1/profile/auth/totp", headers=bob.auth), 409, "last_factor")

    set_enforcement(client, owner, org["id"], False)
    assert client.delete("/api/v1/profile/auth", headers=bob.auth).status_code == 204
    assert (
        client.get("/api/v1/profile/auth", headers=bob.auth).json()["two_factor_enabled"] is False
    )


def _operations(app: Any) -> list[tuple[str, str, str]]:
    """(method, path, operation id) of every operation that needs a session, from the spec."""
    found = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            requirements = operation.get("security") or []
            if any("HTTPBearer" in requirement for requirement in requirements):
                found.append((method, path, operation["operationId"]))
    return found


def _call(client: TestClient, method: str, path: str, token: str) -> Any:
    url = re.sub(r"\{[^}]+\}", DUMMY_ID, path)
    body = {} if method not in ("get", "head", "options") else None
    return client.request(
        method.upper(), url, json=body, headers={"Authorization": f"Bearer {token}"}
    )


def test_allow_list_is_the_spec_enrollment_routes() -> None:
    """SPEC: me, profile status, TOTP start/confirm, passkey options/register/list, the
    orgs list, the invitations endpoints, the sessions endpoints, logout; and leaving an
    org (own id only)."""
    assert (
        frozenset(
            {
                "get_me",
                "get_profile_auth",
                "start_totp",
                "confirm_totp",
                "passkey_registration_options",
                "register_passkey",
                "list_passkeys",
                "list_orgs",
                "list_invitations",
                "accept_invitation",
                "decline_invitation",
                "logout",
                "list_sessions",
                "revoke_session",
                "revoke_other_sessions",
            }
        )
        == ENROLLMENT_ROUTES
    )
    assert frozenset({"remove_org_member"}) == ENROLLMENT_SELF_ROUTES


def test_restricted_session_reaches_exactly_the_enrollment_routes(
    client: TestClient, clock: FrozenClock
) -> None:
    bob = sign_up(client, "bob@example.com")
    enforcing_org(client, clock, bob)
    operations = _operations(client.app)
    ids = {op_id for _, _, op_id in operations}
    # the spec does have both kinds, and the non-passkey enrollment routes are all there
    assert {"get_me", "get_profile_auth", "start_totp", "confirm_totp", "logout"} <= ids
    assert {"list_orgs", "update_org", "list_security_events", "remove_totp"} <= ids
    unauthenticated = {"login", "create_user", "login_with_totp", "healthz", "readyz"}
    assert not unauthenticated & ids

    blocked = [op for op in operations if op[2] not in ENROLLMENT_ROUTES]
    allowed = [op for op in operations if op[2] in ENROLLMENT_ROUTES]
    for method, path, op_id in blocked:
        r = _call(client, method, path, bob.token)
        assert is_enrollment_required(r), (op_id, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    # the self-only route passes on one's own id (here: an unknown organisation)
    bob_id = client.get("/api/v1/me", headers=bob.auth).json()["id"]
    assert {op[2] for op in blocked} >= ENROLLMENT_SELF_ROUTES
    r = client.delete(f"/api/v1/orgs/{DUMMY_ID}/members/{bob_id}", headers=bob.auth)
    assert_problem(r, 404, "not_found")

    # the blocked calls changed nothing: bob's first session is still restricted and open
    assert client.get("/api/v1/me", headers=bob.auth).status_code == 200
    profile = client.get("/api/v1/profile/auth", headers=bob.auth).json()
    assert profile["enrollment_required"] is True and len(profile["enforced_by"]) == 1

    for method, path, op_id in allowed:
        # a fresh restricted session each: logout and "sign out everywhere else" end others
        token = login(client, bob)["access_token"]
        r = _call(client, method, path, token)
        assert not is_enrollment_required(r), (op_id, r.text)
        assert r.status_code < 500, (op_id, r.status_code, r.text)


def test_unrestricted_sessions_pass_the_same_routes(client: TestClient, clock: FrozenClock) -> None:
    """The control for the test above: without enforcement nothing answers enrollment_required."""
    bob = sign_up(client, "bob@example.com")
    owner = sign_up(client, "owner@example.com")
    org = create_org(client, owner)
    add_member(client, owner, org["id"], bob)
    for method, path, op_id in _operations(client.app):
        if op_id == "logout":
            continue
        r = _call(client, method, path, bob.token)
        assert not is_enrollment_required(r), (op_id, r.text)
    assert client.get("/api/v1/me", headers=bob.auth).status_code == 200


def test_admin_reset_of_an_enforced_member(
    client: TestClient, clock: FrozenClock, settings: Settings
) -> None:
    bob = sign_up(client, "bob@example.com")
    enroll_totp(client, bob, clock)
    _, org = enforcing_org(client, clock, bob)
    assert client.get(EVENTS, headers=bob.auth).status_code == 200

    env = {"ANKRA_DATABASE_URL": settings.database_url, "ANKRA_SECRET_KEY": settings.secret_key}
    result = CliRunner().invoke(cli, ["users", "reset-2fa", "BOB@example.com"], env=env)
    assert result.exit_code == 0, result.output
    assert "bob@example.com" in result.output.lower()

    # his open session is restricted now, and so is the next sign-in
    assert is_enrollment_required(client.get(EVENTS, headers=bob.auth))
    body = login(client, bob)
    assert body["enrollment_required"] is True
    token = {"Authorization": f"Bearer {body['access_token']}"}
    profile = client.get("/api/v1/profile/auth", headers=token).json()
    assert profile["two_factor_enabled"] is False and profile["recovery_codes_remaining"] == 0
    assert profile["enforced_by"] == [requirement(org["id"], "Acme", "enroll")]
    # enrolling again lifts it
    bob.token = body["access_token"]
    enroll_totp(client, bob, clock)
    assert client.get(EVENTS, headers=bob.auth).status_code == 200

    unknown = CliRunner().invoke(cli, ["users", "reset-2fa", "nobody@example.com"], env=env)
    assert unknown.exit_code == 1
