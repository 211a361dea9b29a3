"""``ankra org list|members|require|events`` against a real service process: ``ORG`` by
name, id or id prefix, the owners-only and owner-passkey refusals in words, and ``--json``
as the API answers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from ankra_cli.labels import EVENT_LABELS, ORG_EVENT_LABELS
from tests.cli.conftest import Ankra
from tests.cli.live_accounts import LiveAccount, enroll_totp, sign_up, verify_email
from tests.cli.test_cli_commands import _fails, _ok, _register_passkey
from tests.cli.test_cli_confirmations import use_session
from tests.soft_authenticator import SoftAuthenticator

ORG_EVENTS_JS = (
    Path(__file__).resolve().parents[2] / "src" / "ankra_auth" / "web" / "static" / "org-events.js"
)


def js_table(name: str) -> dict[str, str]:
    """The object literal ``export const NAME = {...};`` of org-events.js, as a dict."""
    match = re.search(rf"const {name} = \{{(.*?)\}};", ORG_EVENTS_JS.read_text(), re.DOTALL)
    assert match, f"{name} is no longer in org-events.js"
    return dict(re.findall(r"(\w+):\s*'([^']*)'", match.group(1)))


def test_org_event_names_are_the_pages() -> None:
    assert js_table("ORG_EVENT_LABELS") == ORG_EVENT_LABELS
    members = js_table("MEMBER_EVENT_LABELS")
    assert members and members == {key: EVENT_LABELS[key] for key in members}


def create_org(owner: LiveAccount, name: str) -> dict[str, Any]:
    r = httpx.post(f"{owner.base}/api/v1/orgs", json={"name": name}, headers=owner.auth)
    assert r.status_code == 201, r.text
    org: dict[str, Any] = r.json()
    return org


def add_member(owner: LiveAccount, org: dict[str, Any], member: LiveAccount) -> None:
    r = httpx.post(
        f"{owner.base}/api/v1/orgs/{org['id']}/members",
        json={"email": member.email, "role": "member"},
        headers=owner.auth,
    )
    assert r.status_code == 201, r.text
    [invitation] = [i for i in member.get("/api/v1/invitations") if i["org"]["id"] == org["id"]]
    r = httpx.post(
        f"{member.base}/api/v1/invitations/{invitation['id']}/accept", headers=member.auth
    )
    assert r.status_code == 200, r.text


def with_passkey(account: LiveAccount) -> LiveAccount:
    _register_passkey(account, SoftAuthenticator(origin=account.base), "Laptop")
    return account


def owner_with_member(
    ankra: Ankra, name: str = "Acme"
) -> tuple[LiveAccount, LiveAccount, dict[str, Any]]:
    """An owner (TOTP and a passkey, signed in for the CLI) and a member with TOTP only."""
    owner = with_passkey(enroll_totp(sign_up(ankra.server)))
    member = verify_email(enroll_totp(sign_up(ankra.server)))
    org = create_org(owner, name)
    add_member(owner, org, member)
    use_session(ankra, owner)
    return owner, member, org


def test_list_shows_role_and_policy(ankra: Ankra) -> None:
    owner, _member, org = owner_with_member(ankra, "Acme Corp")
    create_org(owner, "Book Club")
    table = _ok(ankra.run("org", "list"))
    assert "Acme Corp" in table and "Book Club" in table, table
    assert "owner" in table and org["id"][:8] in table, table
    assert json.loads(_ok(ankra.run("org", "list", "--json"))) == owner.get("/api/v1/orgs")


def test_org_by_name_id_or_prefix_and_clear_errors(ankra: Ankra) -> None:
    owner, member, org = owner_with_member(ankra)
    api_members = owner.get(f"/api/v1/orgs/{org['id']}/members")
    for given in ("Acme", "acme", org["id"], org["id"][:6]):
        answer = json.loads(_ok(ankra.run("org", "members", given, "--json")))
        assert answer == api_members, given

    _fails(ankra.run("org", "members", "Umbrella"), "No such organisation")
    create_org(owner, "Acme")  # a second "Acme": the name no longer says which
    _fails(ankra.run("org", "members", "Acme"), "2 of your organisations are called 'Acme'")

    use_session(ankra, member)  # a member, not an owner
    err = _fails(ankra.run("org", "members", "Acme"), "Only owners of Acme can see its members")
    assert "you are a member" in err
    _fails(ankra.run("org", "events", "Acme"), "Only owners of Acme can see its events")
    _fails(ankra.run("org", "require", "Acme", "off"), "Only owners of Acme can change")


def test_require_and_members_methods_and_due_dates(ankra: Ankra) -> None:
    owner, member, org = owner_with_member(ankra)
    out = _ok(ankra.run("org", "require", "Acme", "passkey", "--grace-days", "14"))
    assert "Acme now requires a passkey of every member." in out, out
    assert "14 days" in out, out
    [mine] = [o for o in owner.get("/api/v1/orgs") if o["id"] == org["id"]]
    assert mine["require_passkey"] and mine["require_two_factor"] and mine["grace_days"] == 14

    people = owner.get(f"/api/v1/orgs/{org['id']}/members")
    assert json.loads(_ok(ankra.run("org", "members", "Acme", "--json"))) == people
    [theirs] = [p for p in people if p["email"] == member.email]
    assert theirs["methods"] == ["totp"] and theirs["due_at"], theirs
    table = _ok(ankra.run("org", "members", "Acme"))
    owner_row = next(line for line in table.splitlines() if owner.email in line)
    member_row = next(line for line in table.splitlines() if member.email in line)
    assert "Passkey, Authenticator app" in owner_row, table
    assert "Authenticator app" in member_row and theirs["due_at"][:10] in member_row, table
    assert "Passkey" not in member_row, table

    answer = json.loads(_ok(ankra.run("org", "require", "Acme", "two-factor", "--json")))
    assert answer["require_two_factor"] and not answer["require_passkey"], answer
    out = _ok(ankra.run("org", "require", org["id"][:6], "off"))
    assert "Acme no longer requires two-factor authentication" in out, out
    refused = ankra.run("org", "require", "Acme", "passkey", "--grace-days", "91")
    assert refused.returncode == 2 and "0<=x<=90" in refused.stderr, refused.stderr


def test_a_passkey_requirement_needs_the_owners_own_passkey(ankra: Ankra) -> None:
    owner = enroll_totp(sign_up(ankra.server))  # TOTP, no passkey
    create_org(owner, "Acme")
    use_session(ankra, owner)
    err = _fails(ankra.run("org", "require", "Acme", "passkey"), "")
    assert "ankra profile auth passkeys open" in err, err  # the way out
    assert not owner.get("/api/v1/orgs")[0]["require_passkey"]


def test_events_in_words_paged_and_as_json(ankra: Ankra) -> None:
    owner, member, org = owner_with_member(ankra)
    _ok(ankra.run("org", "require", "Acme", "passkey", "--grace-days", "14"))
    with_passkey(member)  # a member's 2FA change while a member

    table = _ok(ankra.run("org", "events", "Acme"))
    for words in (
        "Organisation created",
        "Member invited",
        "Invitation accepted",
        "Policy changed",
        "off → passkey, 14 days' grace",
        "Passkey added",
        member.email,
    ):
        assert words in table, (words, table)
    for code in ("org_policy_changed", "member_invited", "passkey_added"):
        assert code not in table, table

    path = f"/api/v1/orgs/{org['id']}/events"
    assert json.loads(_ok(ankra.run("org", "events", "Acme", "--json"))) == owner.get(
        f"{path}?limit=20"
    )
    first = json.loads(_ok(ankra.run("org", "events", "Acme", "--limit", "2", "--json")))
    assert len(first["events"]) == 2 and first["next_cursor"], first
    human = _ok(ankra.run("org", "events", "Acme", "--limit", "2"))
    assert f"ankra org events Acme --limit 2 --cursor {first['next_cursor']}" in human, human
    second = json.loads(
        _ok(
            ankra.run(
                "org", "events", "Acme", "--limit", "2", "--cursor", first["next_cursor"], "--json"
            )
        )
    )
    assert second == owner.get(f"{path}?limit=2&cursor={first['next_cursor']}")


def _sign_in_with_totp(account: LiveAccount) -> None:
    """A new session of ``account`` from its password and an authenticator code."""
    from tests.cli.live_accounts import start_login

    r = httpx.post(
        f"{account.base}/api/v1/auth/mfa/totp",
        json={"mfa_token": start_login(account), "code": account.next_code()},
    )
    assert r.status_code == 200, r.text
    account.token = r.json()["access_token"]


def test_status_says_what_an_organisation_requires_and_by_when(ankra: Ankra) -> None:
    owner, member, org = owner_with_member(ankra)
    _ok(ankra.run("org", "require", "Acme", "passkey", "--grace-days", "14"))
    use_session(ankra, member)
    [item] = member.get("/api/v1/profile/auth")["enforced_by"]
    status = _ok(ankra.run("profile", "auth", "status"))
    assert f"Acme (a passkey, due {item['due_at'][:10]}" in status, status
    assert "Secure your account" not in status  # in grace

    # once the member has a passkey, a session signed in with a code is restricted
    with_passkey(member)
    _sign_in_with_totp(member)
    use_session(ankra, member)
    status = _ok(ankra.run("profile", "auth", "status"))
    assert "this session signed in without one" in status, status
    assert "ankra login --passkey" in status, status
