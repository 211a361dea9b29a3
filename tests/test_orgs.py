"""Organisations: ownership, members, and the rules that keep at least one owner."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ankra_auth.clock import FrozenClock
from ankra_auth.context import RequestContext
from ankra_auth.errors import AnkraError
from ankra_auth.orgs import service as orgs
from ankra_auth.orgs.models import Membership
from tests.conftest import T0
from tests.helpers import Account, enroll_totp, sign_up, verify_in_app


def create_org(client: TestClient, owner: Account, name: str = "Acme") -> dict[str, Any]:
    r = client.post("/api/v1/orgs", json={"name": name}, headers=owner.auth)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def invite(
    client: TestClient, owner: Account, org_id: str, member: Account, role: str = "member"
) -> dict[str, Any]:
    """An owner invites an account: an invitation, not yet a membership."""
    r = client.post(
        f"/api/v1/orgs/{org_id}/members",
        json={"email": member.email, "role": role},
        headers=owner.auth,
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    assert body["status"] == "invited" and body["two_factor_enabled"] is None, body
    return body


def invitation_to(client: TestClient, member: Account, org_id: str) -> dict[str, Any]:
    """The member's open invitation to this organisation, as they see it."""
    r = client.get("/api/v1/invitations", headers=member.auth)
    assert r.status_code == 200, r.text
    found = [i for i in r.json() if i["org"]["id"] == org_id]
    assert len(found) == 1, r.json()
    invitation: dict[str, Any] = found[0]
    return invitation


def accept(client: TestClient, member: Account, org_id: str) -> dict[str, Any]:
    verify_in_app(client, member)  # accepting needs a verified address
    invitation = invitation_to(client, member, org_id)
    r = client.post(f"/api/v1/invitations/{invitation['id']}/accept", headers=member.auth)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def add_member(
    client: TestClient, owner: Account, org_id: str, member: Account, role: str = "member"
) -> dict[str, Any]:
    """Invite, and the member accepts: returns the invitation answer (``user_id`` etc.)."""
    invited = invite(client, owner, org_id, member, role)
    accept(client, member, org_id)
    return invited


def set_enforcement(client: TestClient, owner: Account, org_id: str, on: bool) -> dict[str, Any]:
    r = client.patch(f"/api/v1/orgs/{org_id}", json={"require_two_factor": on}, headers=owner.auth)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def assert_problem(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code


def test_creator_is_owner_and_lists_only_own_orgs(client: TestClient) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    org = create_org(client, alice, "  Acme  ")
    assert org == {
        "id": org["id"],
        "name": "Acme",
        "require_two_factor": False,
        "require_passkey": False,
        "grace_days": 0,
        "role": "owner",
    }
    create_org(client, bob, "Bobcorp")

    r = client.get("/api/v1/orgs", headers=alice.auth)
    assert r.status_code == 200
    assert r.json() == [org]

    add_member(client, alice, org["id"], bob)
    names = {(o["name"], o["role"]) for o in client.get("/api/v1/orgs", headers=bob.auth).json()}
    assert names == {("Acme", "member"), ("Bobcorp", "owner")}


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 201}])
def test_create_validates_name(client: TestClient, body: dict[str, Any]) -> None:
    alice = sign_up(client)
    assert_problem(
        client.post("/api/v1/orgs", json=body, headers=alice.auth), 422, "validation_error"
    )


def test_org_routes_need_a_session(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/orgs"), 401, "not_authenticated")
    assert_problem(client.post("/api/v1/orgs", json={"name": "x"}), 401, "not_authenticated")


def test_members_list_for_owners_only(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    carol = sign_up(client, "carol@example.com")
    enroll_totp(client, carol, clock)
    org = create_org(client, alice)
    add_member(client, alice, org["id"], bob)
    invite(client, alice, org["id"], carol, role="owner")

    r = client.get(f"/api/v1/orgs/{org['id']}/members", headers=alice.auth)
    assert r.status_code == 200
    # Active members first, with their 2FA status; carol has 2FA, but only invited: null.
    assert [(m["email"], m["role"], m["status"], m["two_factor_enabled"]) for m in r.json()] == [
        ("alice@example.com", "owner", "active", False),
        ("bob@example.com", "member", "active", False),
        ("carol@example.com", "owner", "invited", None),
    ]
    assert_problem(
        client.get(f"/api/v1/orgs/{org['id']}/members", headers=bob.auth), 403, "forbidden"
    )
    # an invitation is no membership: to carol the organisation does not exist yet
    assert_problem(
        client.get(f"/api/v1/orgs/{org['id']}/members", headers=carol.auth), 404, "not_found"
    )


def test_members_cannot_manage_and_outsiders_see_nothing(client: TestClient) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    carol = sign_up(client, "carol@example.com")
    org = create_org(client, alice)
    add_member(client, alice, org["id"], carol)
    alice_id = client.get("/api/v1/me", headers=alice.auth).json()["id"]
    oid = org["id"]

    # carol is a member: forbidden to manage
    for r in (
        client.patch(f"/api/v1/orgs/{oid}", json={"require_two_factor": False}, headers=carol.auth),
        client.post(f"/api/v1/orgs/{oid}/members", json={"email": bob.email}, headers=carol.auth),
        client.delete(f"/api/v1/orgs/{oid}/members/{alice_id}", headers=carol.auth),
    ):
        assert_problem(r, 403, "forbidden")

    # bob is no member: the org does not exist for him, same as an unknown id
    for target in (oid, "0" * 32):
        for r in (
            client.patch(
                f"/api/v1/orgs/{target}", json={"require_two_factor": False}, headers=bob.auth
            ),
            client.post(
                f"/api/v1/orgs/{target}/members", json={"email": bob.email}, headers=bob.auth
            ),
            client.get(f"/api/v1/orgs/{target}/members", headers=bob.auth),
            client.delete(f"/api/v1/orgs/{target}/members/{alice_id}", headers=bob.auth),
        ):
            assert_problem(r, 404, "not_found")
    assert client.get("/api/v1/orgs", headers=bob.auth).json() == []


def test_update_requires_the_field(client: TestClient) -> None:
    alice = sign_up(client)
    org = create_org(client, alice)
    r = client.patch(f"/api/v1/orgs/{org['id']}", json={}, headers=alice.auth)
    assert_problem(r, 422, "validation_error")
    r = client.patch(
        f"/api/v1/orgs/{org['id']}", json={"require_two_factor": "maybe"}, headers=alice.auth
    )
    assert_problem(r, 422, "validation_error")


def test_owner_without_two_factor_cannot_enforce(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client)
    org = create_org(client, alice)
    r = client.patch(
        f"/api/v1/orgs/{org['id']}", json={"require_two_factor": True}, headers=alice.auth
    )
    assert_problem(r, 409, "owner_two_factor_required")
    assert client.get("/api/v1/orgs", headers=alice.auth).json()[0]["require_two_factor"] is False
    # Turning it off needs no 2FA, and with 2FA it can be turned on.
    assert set_enforcement(client, alice, org["id"], False)["require_two_factor"] is False
    enroll_totp(client, alice, clock)
    assert set_enforcement(client, alice, org["id"], True) == {**org, "require_two_factor": True}


def test_removing_members_and_leaving(client: TestClient) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    carol = sign_up(client, "carol@example.com")
    org = create_org(client, alice)
    oid = org["id"]
    bob_id = add_member(client, alice, oid, bob)["user_id"]
    carol_id = add_member(client, alice, oid, carol)["user_id"]

    # an owner removes a member
    assert (
        client.delete(f"/api/v1/orgs/{oid}/members/{bob_id}", headers=alice.auth).status_code == 204
    )
    assert client.get("/api/v1/orgs", headers=bob.auth).json() == []
    # removing someone who is not a member
    r = client.delete(f"/api/v1/orgs/{oid}/members/{bob_id}", headers=alice.auth)
    assert_problem(r, 404, "not_found")
    # a member leaves
    r = client.delete(f"/api/v1/orgs/{oid}/members/{carol_id}", headers=carol.auth)
    assert r.status_code == 204
    assert client.get("/api/v1/orgs", headers=carol.auth).json() == []


def test_last_owner_cannot_be_removed(client: TestClient) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    org = create_org(client, alice)
    oid = org["id"]
    alice_id = client.get("/api/v1/me", headers=alice.auth).json()["id"]

    assert_problem(
        client.delete(f"/api/v1/orgs/{oid}/members/{alice_id}", headers=alice.auth),
        409,
        "last_owner",
    )
    bob_id = add_member(client, alice, oid, bob, role="owner")["user_id"]
    # a co-owner may remove the other owner, then is the last one
    assert (
        client.delete(f"/api/v1/orgs/{oid}/members/{alice_id}", headers=bob.auth).status_code == 204
    )
    assert_problem(
        client.delete(f"/api/v1/orgs/{oid}/members/{bob_id}", headers=bob.auth), 409, "last_owner"
    )
    r = client.get(f"/api/v1/orgs/{oid}/members", headers=bob.auth)
    assert [(m["email"], m["role"]) for m in r.json()] == [("bob@example.com", "owner")]


def _leave_at_once(factory: Any, org_id: str, user_ids: list[str]) -> list[str]:
    """Each user leaves the org in their own thread and session, released together."""
    barrier = threading.Barrier(len(user_ids))
    outcomes: list[str] = []

    def leave(user_id: str) -> None:
        with factory() as db:
            barrier.wait()
            try:
                orgs.remove_member(
                    db, org_id=org_id, actor_id=user_id, user_id=user_id, ctx=RequestContext(T0)
                )
                outcomes.append("left")
            except AnkraError as exc:
                outcomes.append(exc.code)

    threads = [threading.Thread(target=leave, args=(uid,)) for uid in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_two_owners_leaving_at_once_leave_one_owner(client: TestClient) -> None:
    """Both owners leave concurrently: exactly one succeeds, one owner remains."""
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    org = create_org(client, alice)
    bob_id = add_member(client, alice, org["id"], bob, role="owner")["user_id"]
    alice_id = client.get("/api/v1/me", headers=alice.auth).json()["id"]
    factory = client.app.state.session_factory  # type: ignore[attr-defined]

    for _ in range(3):
        outcomes = _leave_at_once(factory, org["id"], [alice_id, bob_id])
        assert sorted(outcomes) == ["last_owner", "left"]
        with factory() as db:
            owners = db.scalar(
                select(func.count())
                .select_from(Membership)
                .where(Membership.org_id == org["id"], Membership.role == "owner")
            )
            assert owners == 1
            remaining = db.scalar(select(Membership.user_id).where(Membership.org_id == org["id"]))
        # put the one who left back as an owner for the next round
        gone = bob if remaining == alice_id else alice
        stayed = alice if remaining == alice_id else bob
        add_member(client, stayed, org["id"], gone, role="owner")
