"""What someone with a session could do to others and to the account, limited: organisations
and invitations per account (each invitation writes into someone's security log), and a
new factor only after a recent check (a stolen session must not plant its own)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ankra_auth.clock import FrozenClock
from ankra_auth.orgs import invitations, service
from tests.helpers import Account, enroll_totp, sign_up, start_login
from tests.test_accounts import assert_problem
from tests.test_invitations import log, sign_in_again
from tests.test_passkeys import registration_options

ORGS = "/api/v1/orgs"
DAY = 24 * 3600


def create(client: TestClient, owner: Account, name: str) -> str:
    r = client.post(ORGS, json={"name": name}, headers=owner.auth)
    assert r.status_code == 201, r.text
    org_id: str = r.json()["id"]
    return org_id


def test_ten_organisations_a_day(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client)
    for i in range(service.ORGS_PER_DAY):
        create(client, alice, f"Org {i}")
    refused = client.post(ORGS, json={"name": "One too many"}, headers=alice.auth)
    assert_problem(refused, 429, "rate_limited")
    assert 0 < int(refused.headers["Retry-After"]) <= DAY
    assert len(client.get(ORGS, headers=alice.auth).json()) == service.ORGS_PER_DAY
    bob = sign_up(client, "bob@example.com")  # the limit is per account
    create(client, bob, "Bob's")
    clock.advance(DAY)
    sign_in_again(client, alice)
    create(client, alice, "The next day")


def test_fifty_invitations_an_hour_per_inviter(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client)
    sign_up(client, "bob@example.com")
    org = create(client, alice, "Acme")
    members = f"{ORGS}/{org}/members"
    for i in range(invitations.INVITES_PER_HOUR):  # unknown addresses count too: no probing
        r = client.post(members, json={"email": f"nobody{i}@example.com"}, headers=alice.auth)
        assert_problem(r, 404, "not_found")
    r = client.post(members, json={"email": "bob@example.com"}, headers=alice.auth)
    assert_problem(r, 429, "rate_limited")
    clock.advance(3600)
    sign_in_again(client, alice)
    r = client.post(members, json={"email": "bob@example.com"}, headers=alice.auth)
    assert r.status_code == 201, r.text


def test_twenty_open_invitations_per_invitee(client: TestClient) -> None:
    bob = sign_up(client, "bob@example.com")
    owners = [sign_up(client, f"owner{i}@example.com") for i in range(3)]
    orgs = [(owner, create(client, owner, f"Org {i}")) for i in range(7) for owner in owners]
    for owner, org in orgs[: invitations.OPEN_PER_INVITEE]:
        r = client.post(f"{ORGS}/{org}/members", json={"email": bob.email}, headers=owner.auth)
        assert r.status_code == 201, r.text
    owner, org = orgs[invitations.OPEN_PER_INVITEE]
    r = client.post(f"{ORGS}/{org}/members", json={"email": bob.email}, headers=owner.auth)
    assert_problem(r, 429, "rate_limited")
    assert len(client.get("/api/v1/invitations", headers=bob.auth).json()) == 20
    # Declining one makes room for the next.
    first = client.get("/api/v1/invitations", headers=bob.auth).json()[0]["id"]
    assert client.delete(f"/api/v1/invitations/{first}", headers=bob.auth).status_code == 204
    r = client.post(f"{ORGS}/{org}/members", json={"email": bob.email}, headers=owner.auth)
    assert r.status_code == 201, r.text


def test_the_log_quotes_an_org_name_and_names_the_inviter(client: TestClient) -> None:
    alice = sign_up(client)
    bob = sign_up(client, "bob@example.com")
    org = create(client, alice, 'Your bank" (security team)')
    r = client.post(f"{ORGS}/{org}/members", json={"email": bob.email}, headers=alice.auth)
    assert r.status_code == 201, r.text
    invited = [detail for kind, detail in log(client, bob) if kind == "org_invited"]
    assert invited == ['"Your bank\\" (security team)" (invited by alice@example.com)']


def test_adding_a_factor_to_an_account_with_2fa_needs_a_recent_check(
    client: TestClient, clock: FrozenClock
) -> None:
    alice = sign_up(client)
    enroll_totp(client, alice, clock)
    clock.advance(11 * 60)
    for method, path in [
        ("POST", "/api/v1/profile/auth/passkeys/options"),
        ("POST", "/api/v1/profile/auth/passkeys"),
        ("POST", "/api/v1/profile/auth/totp"),
        ("POST", "/api/v1/profile/auth/totp/confirm"),
    ]:
        body = {"code": "123456"} if path.endswith("confirm") else {"name": "x", "credential": {}}
        r = client.request(method, path, json=body, headers=alice.auth)
        assert_problem(r, 403, "reauthentication_required")
    r = client.post(
        "/api/v1/auth/reauthenticate", json={"password": alice.password}, headers=alice.auth
    )
    assert r.status_code == 204, r.text
    assert registration_options(client, alice)["user"]["name"] == alice.email


def test_a_first_factor_needs_no_recent_check(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client)
    clock.advance(11 * 60)  # nothing to protect yet: enrolling is what restricted sessions do
    enroll_totp(client, alice, clock)
    assert start_login(client, alice)["status"] == "mfa_required"
