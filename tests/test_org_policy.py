"""Organisations, grown up: passkeys required, the grace period and its reminders, the PATCH
rules, and what owners see of their members (methods, due dates, the org's log).

On SQLite and PostgreSQL; the restriction cases also across two service instances (real
HTTP servers in this process, sharing the database and the frozen clock), with a software
authenticator for the passkeys and real TOTP codes at the frozen time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from ankra_auth.app import create_app
from ankra_auth.challenges import service as challenges
from ankra_auth.clock import FrozenClock
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from ankra_auth.mail import render
from ankra_auth.mail.sender import Sender
from ankra_auth.notify.models import MailOutbox
from ankra_auth.orgs import reminders
from tests.cli import handoff_steps
from tests.conftest import PUBLIC_URL
from tests.helpers import Account, code_now, enroll_totp, sign_up, start_login, verify_in_app
from tests.live_server import threaded_server
from tests.mail_server import MailServer
from tests.soft_authenticator import SoftAuthenticator
from tests.test_orgs import accept, add_member, assert_problem, create_org, invite
from tests.test_passkey_alone import sign_in_alone
from tests.test_passkeys import login_options, register

Client = TestClient | httpx.Client
PROFILE = "/api/v1/profile/auth"
EVENTS = "/api/v1/profile/auth/events"  # not on the allow-list: 403 when restricted


# --- steps -------------------------------------------------------------------------------


def patch(client: Client, owner: Account, org_id: str, **body: Any) -> httpx.Response:
    return client.patch(f"/api/v1/orgs/{org_id}", json=body, headers=owner.auth)


def policy(client: Client, owner: Account, org_id: str, **body: Any) -> dict[str, Any]:
    r = patch(client, owner, org_id, **body)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def owner_with_passkey(client: Client, clock: FrozenClock, email: str) -> Account:
    owner = sign_up(client, email)  # type: ignore[arg-type]
    enroll_totp(client, owner, clock)  # type: ignore[arg-type]
    register(client, owner, SoftAuthenticator())  # type: ignore[arg-type]  # recent: just signed up
    return owner


def passkey_org(
    client: TestClient, clock: FrozenClock, *, grace_days: int = 0, name: str = "Acme"
) -> tuple[Account, dict[str, Any]]:
    owner = owner_with_passkey(client, clock, f"owner-{name.lower()}@example.com")
    org = create_org(client, owner, name)
    return owner, policy(client, owner, org["id"], require_passkey=True, grace_days=grace_days)


def totp_sign_in(client: Client, account: Account, clock: FrozenClock) -> dict[str, Any]:
    started = start_login(client, account)  # type: ignore[arg-type]
    assert started["status"] == "mfa_required", started
    clock.advance(30)  # a fresh step: each is accepted once
    r = client.post(
        "/api/v1/auth/mfa/totp",
        json={"mfa_token": started["mfa_token"], "code": code_now(account.totp_secret, clock)},
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def recovery_sign_in(client: Client, account: Account) -> dict[str, Any]:
    started = start_login(client, account)  # type: ignore[arg-type]
    r = client.post(
        "/api/v1/auth/mfa/recovery-code",
        json={"mfa_token": started["mfa_token"], "code": account.recovery_codes.pop()},
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def passkey_sign_in(client: Client, account: Account, key: SoftAuthenticator) -> dict[str, Any]:
    started = start_login(client, account)  # type: ignore[arg-type]
    options = login_options(client, started["mfa_token"])  # type: ignore[arg-type]
    r = client.post(
        "/api/v1/auth/mfa/passkey",
        json={"mfa_token": started["mfa_token"], "credential": key.get(options)},
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def bearer(body: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['access_token']}"}


def requirement_of(client: Client, headers: dict[str, str]) -> dict[str, Any]:
    r = client.get(PROFILE, headers=headers)
    assert r.status_code == 200, r.text
    profile: dict[str, Any] = r.json()
    [item] = profile["enforced_by"]
    assert profile["enrollment_required"] is (item["restriction"] is not None)
    return item


def restricted(client: Client, headers: dict[str, str]) -> bool:
    r = client.get(EVENTS, headers=headers)
    if r.status_code == 403:
        assert r.json()["code"] == "enrollment_required", r.text
        return True
    assert r.status_code == 200, r.text
    return False


def members(client: Client, owner: Account, org_id: str) -> dict[str, dict[str, Any]]:
    r = client.get(f"/api/v1/orgs/{org_id}/members", headers=owner.auth)
    assert r.status_code == 200, r.text
    return {m["email"]: m for m in r.json()}


def org_events(client: Client, owner: Account, org_id: str, **params: Any) -> httpx.Response:
    return client.get(f"/api/v1/orgs/{org_id}/events", params=params, headers=owner.auth)


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Sessions that outlive the grace periods these tests step through."""
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key-" + "k" * 32,
        public_url=PUBLIC_URL,
        password_hash_concurrency=4,
        session_ttl_seconds=100 * 86400,
    )


@pytest.fixture
def two_instances(settings: Settings, clock: FrozenClock) -> Iterator[tuple[httpx.Client, ...]]:
    """Two more instances of the service over real HTTP, on the test's database and clock."""
    first, second = create_app(settings, clock), create_app(settings, clock)
    with (
        threaded_server(first) as a,
        threaded_server(second) as b,
        httpx.Client(base_url=a) as on_a,
        httpx.Client(base_url=b) as on_b,
    ):
        yield on_a, on_b
    first.state.engine.dispose()
    second.state.engine.dispose()


# --- PATCH ---------------------------------------------------------------------------------


def test_patch_rules_and_the_owner_needs_a_passkey(client: TestClient, clock: FrozenClock) -> None:
    owner = sign_up(client, "owner@example.com")
    org = create_org(client, owner)
    org_id = org["id"]
    assert (org["require_passkey"], org["grace_days"]) == (False, 0)
    # no 2FA at all, then TOTP only: no passkey, so passkeys cannot be required
    assert_problem(
        patch(client, owner, org_id, require_passkey=True), 409, "owner_passkey_required"
    )
    assert_problem(
        patch(client, owner, org_id, require_two_factor=True), 409, "owner_two_factor_required"
    )
    enroll_totp(client, owner, clock)
    assert_problem(
        patch(client, owner, org_id, require_passkey=True), 409, "owner_passkey_required"
    )
    assert policy(client, owner, org_id, require_two_factor=True)["require_passkey"] is False
    register(client, owner, SoftAuthenticator())

    # require_passkey implies require_two_factor; turning two-factor off turns passkeys off
    answer = policy(client, owner, org_id, require_two_factor=False)
    assert (answer["require_two_factor"], answer["require_passkey"]) == (False, False)
    answer = policy(client, owner, org_id, require_passkey=True, grace_days=14)
    assert answer == {**org, "require_two_factor": True, "require_passkey": True, "grace_days": 14}
    answer = policy(client, owner, org_id, require_two_factor=False)
    assert answer == {**org, "grace_days": 14}
    assert client.get("/api/v1/orgs", headers=owner.auth).json() == [answer]

    for bad in (
        {},
        {"grace_days": 91},
        {"grace_days": -1},
        {"grace_days": "5"},
        {"grace_days": 1.5},
        {"grace_days": True},
        {"require_two_factor": False, "require_passkey": True},
    ):
        assert_problem(patch(client, owner, org_id, **bad), 422, "validation_error")
    assert policy(client, owner, org_id, grace_days=90)["grace_days"] == 90

    member = sign_up(client, "member@example.com")
    add_member(client, owner, org_id, member)
    assert_problem(patch(client, member, org_id, grace_days=1), 403, "forbidden")

    # each change is one org_policy_changed with the old and the new values
    changes = [
        e["detail"]
        for e in org_events(client, owner, org_id, limit=100).json()["events"]
        if e["type"] == "org_policy_changed"
    ]
    assert len(changes) == 5
    assert changes[-1] == {
        "old": {"require_two_factor": False, "require_passkey": False, "grace_days": 0},
        "new": {"require_two_factor": True, "require_passkey": False, "grace_days": 0},
    }
    assert changes[0] == {
        "old": {"require_two_factor": False, "require_passkey": False, "grace_days": 14},
        "new": {"require_two_factor": False, "require_passkey": False, "grace_days": 90},
    }
    # the same values again change nothing and record nothing
    policy(client, owner, org_id, grace_days=90)
    types = [e["type"] for e in org_events(client, owner, org_id, limit=100).json()["events"]]
    assert types == [
        "invitation_accepted",
        "member_invited",
        *["org_policy_changed"] * 4,
        "passkey_added",  # the owner's own changes, as a member
        "org_policy_changed",
        "totp_enabled",
        "org_created",
    ]


# --- who is restricted ---------------------------------------------------------------------


def test_members_without_a_passkey_must_enroll_one(
    client: TestClient, clock: FrozenClock, two_instances: tuple[httpx.Client, ...]
) -> None:
    a, b = two_instances
    owner, org = passkey_org(client, clock)
    bare = sign_up(client, "bare@example.com")
    totp_only = sign_up(client, "totp@example.com")
    enroll_totp(client, totp_only, clock)
    add_member(client, owner, org["id"], bare)
    add_member(client, owner, org["id"], totp_only)

    body = a.post("/api/v1/auth/login", json={"email": bare.email, "password": bare.password})
    assert body.json()["enrollment_required"] is True
    item = requirement_of(b, bearer(body.json()))
    assert item == {
        "id": org["id"],
        "name": "Acme",
        "required": "passkey",
        "due_at": None,
        "met": False,
        "restriction": "enroll",
    }
    signed_in = totp_sign_in(a, totp_only, clock)
    assert signed_in["enrollment_required"] is True
    assert requirement_of(b, bearer(signed_in))["restriction"] == "enroll"
    assert restricted(b, bearer(signed_in))

    # adding a passkey in that session lifts it there, on every instance
    totp_only.token = signed_in["access_token"]
    register(b, totp_only, SoftAuthenticator())  # type: ignore[arg-type]
    assert not restricted(a, bearer(signed_in))
    assert requirement_of(a, bearer(signed_in))["restriction"] is None


def test_a_passkey_holder_must_sign_in_with_it(
    client: TestClient, clock: FrozenClock, two_instances: tuple[httpx.Client, ...]
) -> None:
    a, b = two_instances
    owner, org = passkey_org(client, clock)
    dave = sign_up(client, "dave@example.com")
    enroll_totp(client, dave, clock)
    key = SoftAuthenticator()
    register(client, dave, key)
    add_member(client, owner, org["id"], dave)

    # password + TOTP: restricted, and the page is told to ask for the passkey
    with_totp = totp_sign_in(a, dave, clock)
    assert with_totp["enrollment_required"] is True
    item = requirement_of(b, bearer(with_totp))
    assert (item["met"], item["restriction"], item["required"]) == (True, "use_passkey", "passkey")
    assert restricted(b, bearer(with_totp))
    assert b.get("/api/v1/me", headers=bearer(with_totp)).status_code == 200  # the allow-list
    # password + recovery code: the same
    with_code = recovery_sign_in(b, dave)
    assert with_code["enrollment_required"] is True
    assert restricted(a, bearer(with_code))

    # a passkey as the second step, or alone: not restricted
    with_key = passkey_sign_in(a, dave, key)
    assert with_key["enrollment_required"] is False
    assert not restricted(b, bearer(with_key))
    assert requirement_of(b, bearer(with_key))["restriction"] is None
    _, alone = sign_in_alone(b, key)  # type: ignore[arg-type]
    assert alone.status_code == 200, alone.text
    assert alone.json()["enrollment_required"] is False
    assert not restricted(a, bearer(alone.json()))

    # the TOTP session stays restricted until a passkey is added in it (a second one here)
    assert restricted(a, bearer(with_totp))
    dave.token = with_totp["access_token"]
    register(a, dave, SoftAuthenticator(), name="Phone")  # type: ignore[arg-type]
    assert not restricted(b, bearer(with_totp))
    assert restricted(b, bearer(with_code))  # that session proved no passkey

    # an organisation that requires two-factor only restricts none of these
    policy(client, owner, org["id"], require_passkey=False)
    assert not restricted(a, bearer(with_code))


def test_grace_period_before_at_and_after_due(client: TestClient, clock: FrozenClock) -> None:
    owner, org = passkey_org(client, clock, grace_days=14)
    bob = sign_up(client, "bob@example.com")
    enroll_totp(client, bob, clock)
    joined = clock.now()
    add_member(client, owner, org["id"], bob)
    due = joined + timedelta(days=14)

    item = requirement_of(client, bob.auth)
    assert item == {
        "id": org["id"],
        "name": "Acme",
        "required": "passkey",
        "due_at": rfc3339(due),
        "met": False,
        "restriction": None,
    }
    assert members(client, owner, org["id"])["bob@example.com"]["due_at"] == rfc3339(due)
    assert start_login(client, bob)["status"] == "mfa_required"
    assert totp_sign_in(client, bob, clock)["enrollment_required"] is False

    clock.advance((due - clock.now()).total_seconds() - 1)  # one second before
    assert not restricted(client, bob.auth)
    clock.advance(1)  # at due_at: over
    assert restricted(client, bob.auth)
    assert requirement_of(client, bob.auth)["restriction"] == "enroll"
    clock.advance(86400)  # after
    signed_in = totp_sign_in(client, bob, clock)
    assert signed_in["enrollment_required"] is True

    # a longer grace moves the end for everyone still in it
    policy(client, owner, org["id"], grace_days=30)
    assert requirement_of(client, bob.auth)["due_at"] == rfc3339(joined + timedelta(days=30))
    assert not restricted(client, bob.auth)

    # meeting the requirement ends the grace for good
    key = SoftAuthenticator()
    bob.token = totp_sign_in(client, bob, clock)["access_token"]
    register(client, bob, key)
    item = requirement_of(client, bob.auth)
    assert (item["met"], item["due_at"], item["restriction"]) == (True, None, None)
    assert members(client, owner, org["id"])["bob@example.com"]["due_at"] is None
    [passkey] = client.get(f"{PROFILE}/passkeys", headers=bob.auth).json()
    r = client.delete(f"{PROFILE}/passkeys/{passkey['id']}", headers=bob.auth)
    assert r.status_code == 204, r.text
    assert restricted(client, bob.auth)  # no grace again, although 30 days have not passed
    assert requirement_of(client, bob.auth)["due_at"] is None


def test_grace_starts_when_the_org_turns_it_on(client: TestClient, clock: FrozenClock) -> None:
    owner = owner_with_passkey(client, clock, "owner@example.com")
    org = create_org(client, owner)
    bob = sign_up(client, "bob@example.com")
    add_member(client, owner, org["id"], bob)
    clock.advance(86400)
    turned_on = clock.now()
    policy(client, owner, org["id"], require_two_factor=True, grace_days=7)
    item = requirement_of(client, bob.auth)
    assert (item["required"], item["due_at"]) == ("two_factor", rfc3339(turned_on + timedelta(7)))
    assert not restricted(client, bob.auth)
    # the owner has what is required: no grace, nothing restricted
    assert requirement_of(client, owner.auth) == {**item, "met": True, "due_at": None}


# --- reminders -----------------------------------------------------------------------------


def test_reminders_seven_days_and_one_day_before_once(
    client: TestClient, clock: FrozenClock, settings: Settings
) -> None:
    owner, org = passkey_org(client, clock, grace_days=14)
    bob = sign_up(client, "bob@example.com")
    verify_in_app(client, bob)
    joined = clock.now()
    add_member(client, owner, org["id"], bob)
    due = joined + timedelta(days=14)
    factory = sessionmaker(bind=client.app.state.engine)  # type: ignore[attr-defined]

    def run(at: datetime) -> int:
        with factory() as db:
            return reminders.queue_due(db, now=at)

    def queued() -> list[dict[str, Any]]:
        with factory() as db:
            rows = db.scalars(
                select(MailOutbox.payload).where(MailOutbox.kind == reminders.KIND)
            ).all()
        return [json.loads(p) for p in rows]

    assert run(due - timedelta(days=7, seconds=1)) == 0  # not yet
    assert run(due - timedelta(days=7)) == 1
    assert run(due - timedelta(days=6)) == 0  # sent already
    assert [m["days"] for m in queued()] == [7]

    # the 1-day reminder, raced by two instances (each its own engine): queued once
    engines = [make_engine(settings) for _ in range(2)]
    start = threading.Barrier(2)
    counts: list[int] = []

    def instance(index: int) -> None:
        with sessionmaker(bind=engines[index])() as db:
            start.wait()
            counts.append(reminders.queue_due(db, now=due - timedelta(hours=23)))

    threads = [threading.Thread(target=instance, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    assert sorted(counts) == [0, 1]
    assert run(due - timedelta(hours=1)) == 0
    assert run(due + timedelta(hours=1)) == 0  # past due: nothing more
    mails = queued()
    assert sorted(m["days"] for m in mails) == [1, 7]
    assert {m["org"] for m in mails} == {"Acme"} and {m["required"] for m in mails} == {"passkey"}

    rendered = render.reminder(mails[0], public_url=settings.public_url, to=bob.email)
    assert rendered.subject.startswith("Acme requires a passkey from ")
    assert f"{due.day} {due:%B %Y}" in rendered.subject
    assert "/profile/authentication" in rendered.text


def test_no_reminder_for_a_member_who_met_it_or_a_short_grace(
    client: TestClient, clock: FrozenClock
) -> None:
    owner, org = passkey_org(client, clock, grace_days=3)
    bob = sign_up(client, "bob@example.com")
    verify_in_app(client, bob)
    add_member(client, owner, org["id"], bob)
    factory = sessionmaker(bind=client.app.state.engine)  # type: ignore[attr-defined]
    with factory() as db:
        # three days of grace: nothing is 7 days before; the 1-day one comes
        assert reminders.queue_due(db, now=clock.now() + timedelta(hours=1)) == 0
    register(client, bob, SoftAuthenticator())
    with factory() as db:
        assert reminders.queue_due(db, now=clock.now() + timedelta(days=2, hours=1)) == 0


# --- what owners see -----------------------------------------------------------------------


def test_methods_never_list_recovery_codes(client: TestClient, clock: FrozenClock) -> None:
    owner = owner_with_passkey(client, clock, "owner@example.com")
    org = create_org(client, owner)
    bare, totp, key_holder = (
        sign_up(client, f"{name}@example.com") for name in ("bare", "totp", "key")
    )
    for member in (bare, totp, key_holder):
        add_member(client, owner, org["id"], member)
    invite(client, owner, org["id"], sign_up(client, "invited@example.com"))
    enroll_totp(client, totp, clock)  # with 10 recovery codes
    register(client, key_holder, SoftAuthenticator())  # with 10 recovery codes

    listed = members(client, owner, org["id"])
    assert listed["owner@example.com"]["methods"] == ["passkey", "totp"]
    assert listed["bare@example.com"]["methods"] == []
    assert listed["totp@example.com"]["methods"] == ["totp"]
    assert listed["key@example.com"]["methods"] == ["passkey"]
    invited = listed["invited@example.com"]
    assert (invited["methods"], invited["due_at"], invited["status"]) == (None, None, "invited")
    assert all(m["due_at"] is None for m in listed.values())  # nothing is required


def test_the_org_log_keeps_to_each_membership(client: TestClient, clock: FrozenClock) -> None:
    owner = sign_up(client, "owner@example.com")
    org = create_org(client, owner)
    org_id = org["id"]
    bob = sign_up(client, "bob@example.com")
    enroll_totp(client, bob, clock)  # before joining: never shown
    clock.advance(60)
    invite(client, owner, org_id, bob)
    accept(client, bob, org_id)
    register(client, bob, SoftAuthenticator())  # recent enough: the sign-up session
    totp_sign_in(client, bob, clock)  # a sign-in: never shown
    bob_id = members(client, owner, org_id)["bob@example.com"]["user_id"]
    r = client.delete(f"/api/v1/orgs/{org_id}/members/{bob_id}", headers=bob.auth)
    assert r.status_code == 204, r.text
    # after leaving: never shown
    r = client.post(f"{PROFILE}/recovery-codes", headers=bob.auth)
    assert r.status_code == 200, r.text
    r = client.delete(f"{PROFILE}/totp", headers=bob.auth)
    assert r.status_code == 204, r.text
    # back again: shown from the new membership on
    invite(client, owner, org_id, bob)
    accept(client, bob, org_id)
    r = client.post(f"{PROFILE}/recovery-codes", headers=bob.auth)
    assert r.status_code == 200, r.text
    carol = sign_up(client, "carol@example.com")
    invite(client, owner, org_id, carol)
    declined = _invitation_id(client, carol, org_id)
    r = client.delete(f"/api/v1/invitations/{declined}", headers=carol.auth)
    assert r.status_code == 204, r.text

    r = org_events(client, owner, org_id, limit=100)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["next_cursor"] is None
    seen = [(e["type"], e["user"]["email"]) for e in page["events"]]
    assert seen == [
        ("invitation_declined", "carol@example.com"),
        ("member_invited", "carol@example.com"),
        ("recovery_codes_regenerated", "bob@example.com"),
        ("invitation_accepted", "bob@example.com"),
        ("member_invited", "bob@example.com"),
        ("member_left", "bob@example.com"),
        ("passkey_added", "bob@example.com"),
        ("invitation_accepted", "bob@example.com"),
        ("member_invited", "bob@example.com"),
        ("org_created", "owner@example.com"),
    ]
    for event in page["events"]:
        assert set(event) == {"id", "type", "user", "created_at", "detail"}
        assert "ip" not in json.dumps(event["detail"] or {})
    assert page["events"][-1]["detail"] == {"name": "Acme"}
    assert page["events"][-2]["detail"] == {"role": "member", "by": "owner@example.com"}

    # pages of two, from the cursor, give the same log
    paged: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = org_events(client, owner, org_id, **params).json()
        paged += [e["id"] for e in body["events"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert paged == [e["id"] for e in page["events"]]

    # owners only; a bad cursor is 400
    assert_problem(org_events(client, bob, org_id), 403, "forbidden")
    assert_problem(org_events(client, carol, org_id), 404, "not_found")
    assert_problem(org_events(client, owner, org_id, cursor="nope"), 400, "invalid_cursor")
    assert_problem(org_events(client, owner, org_id, limit=0), 422, "validation_error")

    # an owner withdraws an invitation and removes a member: both say who did it
    dan = sign_up(client, "dan@example.com")
    dan_id = invite(client, owner, org_id, dan)["user_id"]
    for gone in (dan_id, bob_id):
        r = client.delete(f"/api/v1/orgs/{org_id}/members/{gone}", headers=owner.auth)
        assert r.status_code == 204, r.text
    newest = org_events(client, owner, org_id, limit=3).json()["events"]
    assert [(e["type"], e["user"]["email"], e["detail"]) for e in newest] == [
        ("member_removed", "bob@example.com", {"by": "owner@example.com"}),
        ("invitation_withdrawn", "dan@example.com", {"by": "owner@example.com"}),
        ("member_invited", "dan@example.com", {"role": "member", "by": "owner@example.com"}),
    ]


def _invitation_id(client: TestClient, account: Account, org_id: str) -> str:
    r = client.get("/api/v1/invitations", headers=account.auth)
    [found] = [i for i in r.json() if i["org"]["id"] == org_id]
    return str(found["id"])


def test_a_cli_hand_off_approved_with_a_passkey_is_not_restricted(
    client: TestClient, clock: FrozenClock
) -> None:
    owner, org = passkey_org(client, clock)
    dave = sign_up(client, "dave@example.com")
    enroll_totp(client, dave, clock)
    key = SoftAuthenticator()
    register(client, dave, key)
    add_member(client, owner, org["id"], dave)

    def hand_off(approve: str) -> dict[str, Any]:
        verifier = handoff_steps.new_verifier()
        started = start_login(client, dave)
        r = handoff_steps.authorize(client, started["mfa_token"], verifier=verifier)
        assert r.status_code == 201, r.text
        page = "/api/v1/auth/cli/handoff/" + handoff_steps.handoff_token(r.json()["browser_url"])
        if approve == "passkey":
            options = client.post(f"{page}/passkey/options").json()
            r = client.post(f"{page}/passkey", json={"credential": key.get(options)})
        else:
            clock.advance(30)
            r = client.post(f"{page}/totp", json={"code": code_now(dave.totp_secret, clock)})
        assert r.status_code == 200, r.text
        [code] = handoff_steps.query(r.json()["redirect_url"])["code"]
        r = handoff_steps.exchange(client, code, verifier)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    with_key = hand_off("passkey")
    assert with_key["enrollment_required"] is False
    assert not restricted(client, bearer(with_key))
    with_totp = hand_off("totp")
    assert with_totp["enrollment_required"] is True
    assert requirement_of(client, bearer(with_totp))["restriction"] == "use_passkey"


def test_a_reminder_reaches_the_member_by_smtp(
    app: Any, clock: FrozenClock, settings: Settings, tmp_path: Path
) -> None:
    quiet = TestClient(app, base_url=PUBLIC_URL)  # no lifespan: the test sends, round by round
    owner, org = passkey_org(quiet, clock, grace_days=14)
    bob = sign_up(quiet, "bob@example.com")
    verify_in_app(quiet, bob)
    add_member(quiet, owner, org["id"], bob)
    due = clock.now() + timedelta(days=14)
    clock.set(due - timedelta(days=1))
    with sessionmaker(bind=app.state.engine)() as db:
        assert reminders.queue_due(db, now=clock.now()) == 1  # late: only the nearer one
    server = MailServer(tmp_path / "smtp").start()
    try:
        sender = Sender(
            app.state.engine, clock, settings.model_copy(update={"smtp_url": server.url()})
        )
        sender.run_once()
        got = server.wait_for(
            lambda mails: any(m.subject.startswith("Acme requires") for m in mails)
        )
    finally:
        server.stop()
    [mail] = [m for m in got if m.subject.startswith("Acme requires")]
    assert mail.rcpt_tos == ["bob@example.com"]
    assert mail.subject == f"Acme requires a passkey from {due.day} {due:%B %Y}"
    text = mail.part("plain")
    assert "(1 day)" in text and f"{PUBLIC_URL}/profile/authentication" in text
    assert "Acme" in mail.part("html")


def test_after_single_sign_on_only_a_passkey_step_is_unrestricted(
    client: TestClient, clock: FrozenClock
) -> None:
    """SSO then TOTP is restricted, SSO then a passkey is not, though both sessions are
    named ``sso``: the provider's own step is the first factor (its pending login is made
    as ``signin.sso`` makes it, without a provider to talk to)."""
    owner, org = passkey_org(client, clock)
    dave = sign_up(client, "dave@example.com")
    enroll_totp(client, dave, clock)
    key = SoftAuthenticator()
    register(client, dave, key)
    add_member(client, owner, org["id"], dave)
    dave_id = client.get("/api/v1/me", headers=dave.auth).json()["id"]

    def after_sso() -> str:
        with client.app.state.session_factory() as db:  # type: ignore[attr-defined]
            return challenges.start(
                db, user_id=dave_id, now=clock.now(), sso_provider="corp"
            ).mfa_token

    clock.advance(30)
    r = client.post(
        "/api/v1/auth/mfa/totp",
        json={"mfa_token": after_sso(), "code": code_now(dave.totp_secret, clock)},
    )
    assert r.status_code == 200, r.text
    assert r.json()["enrollment_required"] is True
    assert requirement_of(client, bearer(r.json()))["restriction"] == "use_passkey"

    token = after_sso()
    options = login_options(client, token)
    r = client.post(
        "/api/v1/auth/mfa/passkey", json={"mfa_token": token, "credential": key.get(options)}
    )
    assert r.status_code == 200, r.text
    assert r.json()["enrollment_required"] is False
    assert not restricted(client, bearer(r.json()))
    methods = {
        s["method"] for s in client.get("/api/v1/profile/sessions", headers=bearer(r.json())).json()
    }
    assert "sso" in methods
