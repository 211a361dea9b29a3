"""Invitations under concurrency, against a real service process (2 workers), both databases."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.live_accounts import LiveAccount, enroll_totp, sign_up, verify_email
from tests.helpers import PASSWORD
from tests.live_server import service_process
from tests.race import race

RACERS = 12


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    with service_process(database_url, log_path=tmp_path / "server.log", workers=2) as base:
        yield base


def account(base: str, email: str) -> tuple[str, dict[str, str]]:
    """Sign up and in, and prove the address (accepting needs it): (user id, bearer header)."""
    with httpx.Client(base_url=base, timeout=30) as http:
        r = http.post("/api/v1/users", json={"email": email, "password": PASSWORD})
        assert r.status_code == 201, r.text
        r = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        token = r.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        verify_email(LiveAccount(base=base, email=email, token=token))
        return str(http.get("/api/v1/me", headers=auth).json()["id"]), auth


def test_one_answer_per_invitation(server: str) -> None:
    """Accepts, declines and a withdrawal at once: exactly one of them happens."""
    _, owner = account(server, "owner@example.com")
    bob_id, bob = account(server, "bob@example.com")
    with httpx.Client(base_url=server, timeout=30) as http:
        org = http.post("/api/v1/orgs", json={"name": "Acme"}, headers=owner).json()["id"]
        r = http.post(
            f"/api/v1/orgs/{org}/members", json={"email": "bob@example.com"}, headers=owner
        )
        assert r.status_code == 201, r.text
        [invitation] = http.get("/api/v1/invitations", headers=bob).json()
    url = f"{server}/api/v1/invitations/{invitation['id']}"
    calls = [lambda h: h.post(f"{url}/accept", headers=bob) for _ in range(RACERS // 2)]
    calls += [lambda h: h.delete(url, headers=bob) for _ in range(RACERS // 2 - 1)]
    calls += [lambda h: h.delete(f"{server}/api/v1/orgs/{org}/members/{bob_id}", headers=owner)]

    responses = race(calls)
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {200, 204, 404}, [r.text for r in responses]
    with httpx.Client(base_url=server, timeout=30) as http:
        members = http.get(f"/api/v1/orgs/{org}/members", headers=owner).json()
        assert http.get("/api/v1/invitations", headers=bob).json() == []
    accepted = statuses[200]
    if accepted:
        # the withdrawal, if it came after, removed him again as a member (a 204 too)
        assert accepted == 1 and statuses[204] <= 1, statuses
        assert {m["email"] for m in members} <= {"owner@example.com", "bob@example.com"}
    else:
        assert statuses[204] == 1, statuses  # one decline or the withdrawal
        assert [m["email"] for m in members] == ["owner@example.com"]
    assert all(m["status"] == "active" for m in members)


def test_concurrent_invitations_make_one(server: str) -> None:
    _, owner = account(server, "owner@example.com")
    account(server, "bob@example.com")
    with httpx.Client(base_url=server, timeout=30) as http:
        org = http.post("/api/v1/orgs", json={"name": "Acme"}, headers=owner).json()["id"]
    url = f"{server}/api/v1/orgs/{org}/members"
    responses = race(
        [lambda h: h.post(url, json={"email": "bob@example.com"}, headers=owner)] * RACERS
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: RACERS - 1}, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already_member"}
    with httpx.Client(base_url=server, timeout=30) as http:
        members = http.get(url, headers=owner).json()
    assert [(m["email"], m["status"]) for m in members] == [
        ("owner@example.com", "active"),
        ("bob@example.com", "invited"),
    ]


def test_members_meeting_the_requirement_while_the_owner_changes_it(server: str) -> None:
    """Members turning TOTP on (their grace ends, their orgs' logs get a line) while the
    owner changes the grace period (the org, then its memberships): no deadlock, no 503."""
    owner = enroll_totp(verify_email(sign_up(server, "owner@example.com")))
    members = [verify_email(sign_up(server, f"m{i}@example.com")) for i in range(RACERS // 2)]
    with httpx.Client(base_url=server, timeout=30) as http:
        org = http.post("/api/v1/orgs", json={"name": "Acme"}, headers=owner.auth).json()["id"]
        policy = {"require_two_factor": True, "grace_days": 30}
        assert http.patch(f"/api/v1/orgs/{org}", json=policy, headers=owner.auth).is_success
        for member in members:
            r = http.post(
                f"/api/v1/orgs/{org}/members", json={"email": member.email}, headers=owner.auth
            )
            assert r.status_code == 201, r.text
            [invitation] = http.get("/api/v1/invitations", headers=member.auth).json()
            r = http.post(f"/api/v1/invitations/{invitation['id']}/accept", headers=member.auth)
            assert r.status_code == 200, r.text
            r = http.post("/api/v1/profile/auth/totp", headers=member.auth)
            member.totp_secret = r.json()["secret"]
    confirm = f"{server}/api/v1/profile/auth/totp/confirm"
    calls = [
        lambda h, m=m: h.post(confirm, json={"code": m.next_code()}, headers=m.auth)
        for m in members
    ]
    calls += [
        lambda h, days=days: h.patch(
            f"{server}/api/v1/orgs/{org}", json={"grace_days": days}, headers=owner.auth
        )
        for days in range(10, 10 + RACERS // 2)
    ]
    responses = race(calls)
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    with httpx.Client(base_url=server, timeout=30) as http:
        listed = http.get(f"/api/v1/orgs/{org}/members", headers=owner.auth).json()
    assert all(m["due_at"] is None for m in listed if m["status"] == "active")
