"""Invitations: nobody becomes a member without accepting, within 7 days, on their own account."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from ankra_auth.accounts.models import User
from ankra_auth.clock import FrozenClock
from ankra_auth.context import RequestContext
from ankra_auth.errors import AnkraError
from ankra_auth.orgs import invitations, service
from tests.helpers import Account, enroll_totp, sign_up, start_login, verify_in_app
from tests.test_orgs import (
    accept,
    add_member,
    assert_problem,
    create_org,
    invitation_to,
    invite,
)

SEVEN_DAYS = 7 * 24 * 3600


def members(client: TestClient, owner: Account, org_id: str) -> list[tuple[str, str, Any]]:
    r = client.get(f"/api/v1/orgs/{org_id}/members", headers=owner.auth)
    assert r.status_code == 200, r.text
    return [(m["email"], m["status"], m["two_factor_enabled"]) for m in r.json()]


def my_invitations(client: TestClient, account: Account) -> list[dict[str, Any]]:
    r = client.get("/api/v1/invitations", headers=account.auth)
    assert r.status_code == 200, r.text
    body: list[dict[str, Any]] = r.json()
    return body


def log(client: TestClient, account: Account) -> list[tuple[str, str | None]]:
    r = client.get("/api/v1/profile/auth/events", params={"limit": 100}, headers=account.auth)
    assert r.status_code == 200, r.text
    # ``detail`` is an object: what these events say in words is its ``note``.
    return [(e["type"], (e["detail"] or {}).get("note")) for e in r.json()["events"]]


def sign_in_again(client: TestClient, *accounts: Account) -> None:
    """Sessions end long before 7 days: fresh ones for the accounts of a test that waits."""
    for account in accounts:
        body = start_login(client, account)
        assert body["status"] == "authenticated", body
        account.token = body["access_token"]


def user_id(client: TestClient, account: Account) -> str:
    uid: str = client.get("/api/v1/me", headers=account.auth).json()["id"]
    return uid


def test_inviting_is_not_joining(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    enroll_totp(client, bob, clock)
    org = create_org(client, alice, "Acme")

    invited = invite(client, alice, org["id"], Account(email="BOB@example.com"))
    # bob has 2FA, but that is his to tell once he joins, not the inviter's to learn now
    assert invited == {
        "user_id": user_id(client, bob),
        "email": "bob@example.com",
        "role": "member",
        "status": "invited",
        "two_factor_enabled": None,
        "email_verified": False,
        "methods": None,
        "due_at": None,
    }
    assert client.get("/api/v1/orgs", headers=bob.auth).json() == []
    [seen] = my_invitations(client, bob)
    assert seen == {
        "id": seen["id"],
        "org": {
            "id": org["id"],
            "name": "Acme",
            "require_two_factor": False,
            "require_passkey": False,
            "grace_days": 0,
        },
        "role": "member",
        "invited_by": "alice@example.com",
        "created_at": seen["created_at"],
        "expires_at": seen["expires_at"],
    }
    created = datetime.fromisoformat(seen["created_at"])
    assert created == clock.now()
    assert datetime.fromisoformat(seen["expires_at"]) - created == timedelta(days=7)
    assert my_invitations(client, alice) == []


def test_invite_refusals(client: TestClient) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    carol = sign_up(client, "carol@example.com")
    org = create_org(client, alice)
    oid = org["id"]
    invite(client, alice, oid, bob)
    add_member(client, alice, oid, carol)

    def post(body: dict[str, Any], who: Account = alice) -> Any:
        return client.post(f"/api/v1/orgs/{oid}/members", json=body, headers=who.auth)

    assert_problem(post({"email": bob.email}), 409, "already_member")  # invited
    assert_problem(post({"email": carol.email}), 409, "already_member")  # active
    assert_problem(post({"email": alice.email}), 409, "already_member")  # herself
    unknown = post({"email": "nobody@example.com", "role": "member"})
    assert_problem(unknown, 404, "not_found")
    assert "sign up" in unknown.json()["detail"]
    assert_problem(post({"email": bob.email, "role": "admin"}), 422, "validation_error")
    assert_problem(post({"email": ""}), 422, "validation_error")
    assert_problem(post({"email": "dave@example.com"}, who=carol), 403, "forbidden")
    # bob is only invited: the organisation does not exist for him
    assert_problem(post({"email": "dave@example.com"}, who=bob), 404, "not_found")


def test_accept_makes_an_active_member(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    enroll_totp(client, bob, clock)
    org = create_org(client, alice, "Acme")
    invite(client, alice, org["id"], bob, role="owner")
    invitation = invitation_to(client, bob, org["id"])

    joined = accept(client, bob, org["id"])
    assert joined == {
        "id": org["id"],
        "name": "Acme",
        "require_two_factor": False,
        "require_passkey": False,
        "grace_days": 0,
        "role": "owner",
    }
    assert client.get("/api/v1/orgs", headers=bob.auth).json() == [joined]
    assert my_invitations(client, bob) == []
    # now, and only now, the owners see his 2FA status
    assert members(client, alice, org["id"]) == [
        ("alice@example.com", "active", False),
        ("bob@example.com", "active", True),
    ]
    # an invitation works once
    again = client.post(f"/api/v1/invitations/{invitation['id']}/accept", headers=bob.auth)
    assert_problem(again, 404, "not_found")
    assert_problem(
        client.delete(f"/api/v1/invitations/{invitation['id']}", headers=bob.auth),
        404,
        "not_found",
    )
    # the invited role came with it
    assert client.get(f"/api/v1/orgs/{org['id']}/members", headers=bob.auth).status_code == 200


def test_decline(client: TestClient) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    verify_in_app(client, bob)  # so that accepting is refused for the invitation's sake
    org = create_org(client, alice)
    invite(client, alice, org["id"], bob)
    invitation = invitation_to(client, bob, org["id"])

    r = client.delete(f"/api/v1/invitations/{invitation['id']}", headers=bob.auth)
    assert r.status_code == 204, r.text
    assert my_invitations(client, bob) == []
    assert client.get("/api/v1/orgs", headers=bob.auth).json() == []
    assert members(client, alice, org["id"]) == [("alice@example.com", "active", False)]
    accepted = client.post(f"/api/v1/invitations/{invitation['id']}/accept", headers=bob.auth)
    assert_problem(accepted, 404, "not_found")
    # declining is no ban: the owner may ask again
    invite(client, alice, org["id"], bob)


def test_withdraw(client: TestClient) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    carol = sign_up(client, "carol@example.com")
    verify_in_app(client, bob)
    org = create_org(client, alice)
    oid = org["id"]
    bob_id = invite(client, alice, oid, bob)["user_id"]
    add_member(client, alice, oid, carol)
    invitation = invitation_to(client, bob, oid)

    # only owners withdraw
    assert_problem(
        client.delete(f"/api/v1/orgs/{oid}/members/{bob_id}", headers=carol.auth), 403, "forbidden"
    )
    # an invitee cannot "leave" what they never joined: they decline instead
    assert_problem(
        client.delete(f"/api/v1/orgs/{oid}/members/{bob_id}", headers=bob.auth), 404, "not_found"
    )
    r = client.delete(f"/api/v1/orgs/{oid}/members/{bob_id}", headers=alice.auth)
    assert r.status_code == 204, r.text
    assert my_invitations(client, bob) == []
    accepted = client.post(f"/api/v1/invitations/{invitation['id']}/accept", headers=bob.auth)
    assert_problem(accepted, 404, "not_found")
    assert [m[0] for m in members(client, alice, oid)] == ["alice@example.com", "carol@example.com"]
    assert_problem(
        client.delete(f"/api/v1/orgs/{oid}/members/{bob_id}", headers=alice.auth), 404, "not_found"
    )


def test_an_invitation_lives_seven_days(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    carol = sign_up(client, "carol@example.com")
    for account in (bob, carol):  # before their links expire (24 hours)
        verify_in_app(client, account)
    org = create_org(client, alice)
    invite(client, alice, org["id"], bob)
    invite(client, alice, org["id"], carol)
    bobs = invitation_to(client, bob, org["id"])

    clock.advance(SEVEN_DAYS - 1)
    sign_in_again(client, alice, bob, carol)
    accept(client, carol, org["id"])  # a second before the end: still open
    clock.advance(1)

    assert my_invitations(client, bob) == []
    for r in (
        client.post(f"/api/v1/invitations/{bobs['id']}/accept", headers=bob.auth),
        client.delete(f"/api/v1/invitations/{bobs['id']}", headers=bob.auth),
    ):
        assert_problem(r, 404, "not_found")
    assert [m[0] for m in members(client, alice, org["id"])] == [
        "alice@example.com",
        "carol@example.com",
    ]
    assert client.get("/api/v1/orgs", headers=bob.auth).json() == []
    # an expired invitation makes room for a new one, which works
    invite(client, alice, org["id"], bob)
    assert invitation_to(client, bob, org["id"])["id"] != bobs["id"]
    accept(client, bob, org["id"])


def test_only_the_invited_account_can_answer(client: TestClient) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    mallory = sign_up(client, "mallory@example.com")
    for account in (alice, mallory):  # verified: refused for the invitation's sake
        verify_in_app(client, account)
    org = create_org(client, alice)
    invite(client, alice, org["id"], bob)
    invitation = invitation_to(client, bob, org["id"])

    for target in (invitation["id"], "0" * 32, "not-an-id"):
        for who in (mallory, alice):
            assert_problem(
                client.post(f"/api/v1/invitations/{target}/accept", headers=who.auth),
                404,
                "not_found",
            )
            assert_problem(
                client.delete(f"/api/v1/invitations/{target}", headers=who.auth),
                404,
                "not_found",
            )
    assert my_invitations(client, mallory) == []
    assert client.get("/api/v1/orgs", headers=mallory.auth).json() == []
    # untouched: bob can still accept
    accept(client, bob, org["id"])
    assert_problem(client.get("/api/v1/invitations"), 401, "not_authenticated")


def test_events_in_the_affected_users_log(client: TestClient) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    org = create_org(client, alice, "Acme")
    oid = org["id"]
    bob_id = user_id(client, bob)
    before = len(log(client, alice))

    invite(client, alice, oid, bob)
    client.delete(f"/api/v1/orgs/{oid}/members/{bob_id}", headers=alice.auth)  # withdrawn
    invite(client, alice, oid, bob)
    client.delete(f"/api/v1/invitations/{invitation_to(client, bob, oid)['id']}", headers=bob.auth)
    add_member(client, alice, oid, bob)
    client.delete(f"/api/v1/orgs/{oid}/members/{bob_id}", headers=alice.auth)  # removed
    add_member(client, alice, oid, bob)
    client.delete(f"/api/v1/orgs/{oid}/members/{bob_id}", headers=bob.auth)  # left

    org_events = [e for e in log(client, bob) if e[0].startswith("org_")]
    # The org's name quoted (anyone chooses it); an invitation also names who sent it.
    invited = '"Acme" (invited by alice@example.com)'
    assert org_events == [
        (kind, invited if kind == "org_invited" else '"Acme"')
        for kind in (
            "org_left",
            "org_invitation_accepted",
            "org_invited",
            "org_member_removed",
            "org_invitation_accepted",
            "org_invited",
            "org_invitation_declined",
            "org_invited",
            "org_invitation_withdrawn",
            "org_invited",
        )
    ]
    assert len(log(client, alice)) == before  # the owner's own log is not about bob


def _at_once(*actions: Any) -> list[str]:
    """Run each action in its own thread, released together; their outcomes in any order."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = []

    def run(action: Any) -> None:
        barrier.wait()
        try:
            action()
            outcomes.append("ok")
        except AnkraError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_accept_racing_withdraw_has_one_winner(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    verify_in_app(client, bob)
    org = create_org(client, alice)
    alice_id, bob_id = user_id(client, alice), user_id(client, bob)
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    ctx = RequestContext(now=clock.now())

    for _ in range(3):
        invite(client, alice, org["id"], bob)
        invitation_id = invitation_to(client, bob, org["id"])["id"]

        def accepting(iid: str = invitation_id) -> None:
            with factory() as db:
                invitations.accept(db, invitation_id=iid, user=db.get(User, bob_id), ctx=ctx)

        def withdrawing() -> None:
            with factory() as db:
                service.remove_member(
                    db, org_id=org["id"], actor_id=alice_id, user_id=bob_id, ctx=ctx
                )

        def accepting_twice(iid: str = invitation_id) -> None:
            accepting(iid)

        outcomes = _at_once(accepting, accepting_twice, withdrawing)
        assert sorted(outcomes) in (
            ["not_found", "not_found", "ok"],  # withdrawn first
            ["not_found", "ok", "ok"],  # accepted, then removed as a member
        ), outcomes
        assert members(client, alice, org["id"]) == [("alice@example.com", "active", False)]
        assert my_invitations(client, bob) == []


def test_odd_ids_and_emails_are_not_found_or_invalid(client: TestClient) -> None:
    """Ids that cannot name a row are unknown at once: PostgreSQL refuses NUL bytes."""
    alice = sign_up(client, "alice@example.com")
    org = create_org(client, alice)
    for r in (
        client.post("/api/v1/invitations/a%00b/accept", headers=alice.auth),
        client.delete("/api/v1/invitations/a%00b", headers=alice.auth),
        client.delete(f"/api/v1/orgs/{org['id']}/members/x%00", headers=alice.auth),
        client.delete("/api/v1/orgs/a%00b/members/x", headers=alice.auth),
        client.get("/api/v1/orgs/a%00b/members", headers=alice.auth),
    ):
        assert_problem(r, 404, "not_found")
    r = client.post(
        f"/api/v1/orgs/{org['id']}/members",
        json={"email": "bob\u0000@example.com"},
        headers=alice.auth,
    )
    assert_problem(r, 422, "validation_error")


def test_an_unverified_address_accepts_nothing(client: TestClient) -> None:
    """Whoever signed up with someone else's address must not receive what was meant for
    its owner: accepting needs the address proved, and owners see whether it is."""
    alice = sign_up(client, "alice@example.com")
    squatter = sign_up(client, "colleague@example.com")  # not their address: never proved
    org = create_org(client, alice, "Acme")
    invite(client, alice, org["id"], squatter, role="owner")
    assert [
        (m["email"], m["status"], m["email_verified"]) for m in _listed(client, alice, org)
    ] == [
        ("alice@example.com", "active", False),
        ("colleague@example.com", "invited", False),
    ]
    invitation = invitation_to(client, squatter, org["id"])

    refused = client.post(f"/api/v1/invitations/{invitation['id']}/accept", headers=squatter.auth)
    assert_problem(refused, 403, "email_unverified")
    assert client.get("/api/v1/orgs", headers=squatter.auth).json() == []
    assert members(client, alice, org["id"])[1][:2] == ("colleague@example.com", "invited")

    # the address's owner proves it (the link in the mail reaches only them): then it works
    verify_in_app(client, squatter)
    assert [m["email_verified"] for m in _listed(client, alice, org)] == [False, True]
    accept(client, squatter, org["id"])
    assert [m["status"] for m in _listed(client, alice, org)] == ["active", "active"]


def _listed(client: TestClient, owner: Account, org: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/orgs/{org['id']}/members", headers=owner.auth)
    assert r.status_code == 200, r.text
    body: list[dict[str, Any]] = r.json()
    return body
