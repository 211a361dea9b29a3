"""The security log: every event after the action that causes it, and nothing else."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ankra_auth.admin import cli
from ankra_auth.clock import FrozenClock, SystemClock
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.events import service as events
from ankra_auth.passkeys.models import Passkey
from tests.helpers import Account, code_now, enroll_totp, sign_up, start_login
from tests.test_orgs import add_member, assert_problem, create_org, set_enforcement

EVENTS = "/api/v1/profile/auth/events"


def log(client: TestClient, account: Account) -> list[dict[str, Any]]:
    """The account's whole log, newest first."""
    r = client.get(EVENTS, params={"limit": 100}, headers=account.auth)
    assert r.status_code == 200, r.text
    assert r.json()["next_cursor"] is None
    body: list[dict[str, Any]] = r.json()["events"]
    return body


def kinds(entries: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(e["type"], e["method"]) for e in entries]


def new_events(client: TestClient, account: Account, before: int) -> list[tuple[str, str | None]]:
    """(type, method) of the events recorded since the log had ``before`` entries, newest first."""
    entries = log(client, account)
    return kinds(entries[: len(entries) - before])


def user_id(client: TestClient, account: Account) -> str:
    uid: str = client.get("/api/v1/me", headers=account.auth).json()["id"]
    return uid


def admin_env(settings: Settings, **extra: str) -> dict[str, str]:
    assert settings.secret_key is not None
    return {
        "ANKRA_DATABASE_URL": settings.database_url,
        "ANKRA_SECRET_KEY": settings.secret_key,
        **extra,
    }


def add_fake_passkey(client: TestClient, uid: str, clock: FrozenClock) -> None:
    """A second factor row, so the authenticator app is not the last one (passkey
    ceremonies are the passkeys engineer's tests)."""
    with client.app.state.session_factory() as db:  # type: ignore[attr-defined]
        db.add(
            Passkey(
                user_id=uid,
                credential_id=b"cred-" + uid.encode(),
                public_key=b"not-a-real-key",
                name="Test key",
                created_at=clock.now(),
            )
        )
        db.commit()


def test_sign_in_with_password_and_sign_out(client: TestClient) -> None:
    alice = sign_up(client)
    entries = log(client, alice)
    assert kinds(entries) == [("sign_in", "password")]
    assert entries[0]["ip"] == "testclient" and entries[0]["user_agent"] == "testclient"
    assert entries[0]["created_at"] == "2026-11-27T12:00:15Z"
    token = Account(email=alice.email, token=start_login(client, alice)["access_token"])
    assert client.post("/api/v1/auth/logout", headers=token.auth).status_code == 204
    assert new_events(client, alice, 1) == [("sign_out", None), ("sign_in", "password")]


EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0"
)


def test_each_event_names_its_device_as_the_session_list_does(client: TestClient) -> None:
    alice = sign_up(client)
    r = client.post(
        "/api/v1/auth/login",
        json={"email": alice.email, "password": alice.password},
        headers={"User-Agent": EDGE},
    )
    assert r.status_code == 200, r.text
    newest, first = log(client, alice)
    assert (newest["user_agent"], newest["device"]) == (EDGE, "Edge on Windows")
    sessions = client.get("/api/v1/profile/sessions", headers=alice.auth).json()
    assert newest["device"] in {s["device"] for s in sessions}
    # An agent nobody can name is said to be so; the raw one stays beside it.
    assert (first["user_agent"], first["device"]) == ("testclient", "Unknown device")


def test_totp_lifecycle_events(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client)
    r = client.post("/api/v1/profile/auth/totp", headers=alice.auth)
    secret = r.json()["secret"]
    assert len(log(client, alice)) == 1  # starting records nothing

    # a wrong confirmation code changes nothing and records nothing
    wrong = code_now(secret, clock, offset_steps=5)
    r = client.post("/api/v1/profile/auth/totp/confirm", json={"code": wrong}, headers=alice.auth)
    assert_problem(r, 400, "invalid_code")
    assert len(log(client, alice)) == 1
    assert client.get("/api/v1/profile/auth", headers=alice.auth).json()["totp_enabled"] is False

    r = client.post(
        "/api/v1/profile/auth/totp/confirm",
        json={"code": code_now(secret, clock)},
        headers=alice.auth,
    )
    assert r.status_code == 200
    assert new_events(client, alice, 1) == [
        ("recovery_codes_issued", None),
        ("totp_enabled", "totp"),
    ]
    clock.advance(30)

    # the last factor cannot go: refused, nothing recorded
    r = client.delete("/api/v1/profile/auth/totp", headers=alice.auth)
    assert_problem(r, 409, "last_factor")
    assert len(log(client, alice)) == 3

    assert client.post("/api/v1/profile/auth/recovery-codes", headers=alice.auth).status_code == 200
    assert new_events(client, alice, 3) == [("recovery_codes_regenerated", None)]

    add_fake_passkey(client, user_id(client, alice), clock)
    assert client.delete("/api/v1/profile/auth/totp", headers=alice.auth).status_code == 204
    assert new_events(client, alice, 4) == [("totp_removed", "totp")]


def test_refused_actions_record_nothing(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client)
    r = client.post("/api/v1/profile/auth/recovery-codes", headers=alice.auth)
    assert_problem(r, 409, "two_factor_not_enabled")
    r = client.post(
        "/api/v1/profile/auth/totp/confirm", json={"code": "123456"}, headers=alice.auth
    )
    assert_problem(r, 409, "totp_not_started")
    enroll_totp(client, alice, clock)
    clock.advance(11 * 60)  # past the re-authentication window
    for r in (
        client.delete("/api/v1/profile/auth", headers=alice.auth),
        client.delete("/api/v1/profile/auth/totp", headers=alice.auth),
        client.post("/api/v1/profile/auth/recovery-codes", headers=alice.auth),
    ):
        assert_problem(r, 403, "reauthentication_required")
    assert kinds(log(client, alice)) == [
        ("recovery_codes_issued", None),
        ("totp_enabled", "totp"),
        ("sign_in", "password"),
    ]


def test_sign_in_with_second_factors(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client)
    enroll_totp(client, alice, clock)
    before = len(log(client, alice))

    pending = start_login(client, alice)["mfa_token"]
    r = client.post("/api/v1/auth/mfa/totp", json={"mfa_token": pending, "code": "000000"})
    assert_problem(r, 401, "invalid_code")
    r = client.post(
        "/api/v1/auth/mfa/totp",
        json={"mfa_token": pending, "code": code_now(alice.totp_secret, clock)},
    )
    assert r.status_code == 200
    assert new_events(client, alice, before) == [
        ("sign_in", "totp"),
        ("second_factor_failed", "totp"),
    ]

    before = len(log(client, alice))
    pending = start_login(client, alice)["mfa_token"]
    r = client.post(
        "/api/v1/auth/mfa/recovery-code", json={"mfa_token": pending, "code": "AAAAA-AAAAA"}
    )
    assert_problem(r, 401, "invalid_code")
    r = client.post(
        "/api/v1/auth/mfa/recovery-code",
        json={"mfa_token": pending, "code": alice.recovery_codes[0]},
    )
    assert r.status_code == 200 and r.json()["recovery_codes_remaining"] == 9
    assert new_events(client, alice, before) == [
        ("sign_in", "recovery_code"),
        ("recovery_code_used", "recovery_code"),
        ("second_factor_failed", "recovery_code"),
    ]


def test_password_failures_and_reauthentication(client: TestClient) -> None:
    alice = sign_up(client)
    r = client.post("/api/v1/auth/login", json={"email": alice.email, "password": "wrong pass"})
    assert_problem(r, 401, "invalid_credentials")
    r = client.post("/api/v1/auth/reauthenticate", json={"password": "nope"}, headers=alice.auth)
    assert_problem(r, 401, "invalid_credentials")
    r = client.post(
        "/api/v1/auth/reauthenticate", json={"password": alice.password}, headers=alice.auth
    )
    assert r.status_code == 204
    assert new_events(client, alice, 1) == [
        ("reauthenticated", "password"),
        ("password_failed", "password"),
        ("password_failed", "password"),
    ]
    # an unknown email records nothing anywhere (there is no one to tell)
    r = client.post("/api/v1/auth/login", json={"email": "x@example.com", "password": "wrong"})
    assert_problem(r, 401, "invalid_credentials")
    assert len(log(client, alice)) == 4


def _fail_pending_login(client: TestClient, account: Account) -> None:
    pending = start_login(client, account)["mfa_token"]
    for attempt in range(1, 6):
        r = client.post("/api/v1/auth/mfa/totp", json={"mfa_token": pending, "code": "000000"})
        assert_problem(r, 401, "invalid_code" if attempt < 5 else "too_many_attempts")


def test_voided_pending_login_then_throttled(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client)
    enroll_totp(client, alice, clock)
    before = len(log(client, alice))

    _fail_pending_login(client, alice)
    failed = [("second_factor_failed", "totp")] * 5
    assert new_events(client, alice, before) == [("pending_login_voided", "totp"), *failed]

    _fail_pending_login(client, alice)  # the 10th consecutive failure starts the backoff
    pending = start_login(client, alice)["mfa_token"]
    r = client.post(
        "/api/v1/auth/mfa/totp",
        json={"mfa_token": pending, "code": code_now(alice.totp_secret, clock)},
    )
    assert_problem(r, 429, "rate_limited")
    assert int(r.headers["retry-after"]) == 60
    recent = new_events(client, alice, before + 6)
    assert recent == [("throttled", "totp"), ("pending_login_voided", "totp"), *failed]


def test_two_factor_disabled_and_reset_by_admin(
    client: TestClient, clock: FrozenClock, settings: Settings
) -> None:
    alice = sign_up(client)
    enroll_totp(client, alice, clock)
    assert client.delete("/api/v1/profile/auth", headers=alice.auth).status_code == 204
    assert new_events(client, alice, 3) == [("two_factor_disabled", None)]

    enroll_totp(client, alice, clock)
    before = len(log(client, alice))
    result = CliRunner().invoke(cli, ["users", "reset-2fa", alice.email], env=admin_env(settings))
    assert result.exit_code == 0, result.output
    entries = log(client, alice)
    assert kinds(entries[: len(entries) - before]) == [("two_factor_reset_by_admin", None)]
    assert entries[0]["user_agent"] == "ankra-auth admin"


def test_org_enforcement_events_for_every_member(client: TestClient, clock: FrozenClock) -> None:
    owner = sign_up(client, "owner@example.com")
    enroll_totp(client, owner, clock)
    bob = sign_up(client, "bob@example.com")
    carol = sign_up(client, "carol@example.com")
    outsider = sign_up(client, "outsider@example.com")
    org = create_org(client, owner, "Acme Corp")
    add_member(client, owner, org["id"], bob)
    add_member(client, owner, org["id"], carol, role="owner")
    sizes = {a.email: len(log(client, a)) for a in (owner, bob, carol, outsider)}

    set_enforcement(client, owner, org["id"], True)
    set_enforcement(client, owner, org["id"], True)  # no change, no event
    # bob is restricted now; he reads his log once enforcement is off again below
    assert_problem(client.get(EVENTS, headers=bob.auth), 403, "enrollment_required")
    assert [(e["type"], e["detail"]) for e in log(client, owner)][:1] == [
        ("org_enforcement_enabled", {"note": '"Acme Corp"'})
    ]
    set_enforcement(client, owner, org["id"], False)
    set_enforcement(client, owner, org["id"], False)
    for member in (owner, bob, carol):
        entries = log(client, member)
        recent = entries[: len(entries) - sizes[member.email]]
        assert [(e["type"], e["method"], e["detail"]) for e in recent] == [
            ("org_enforcement_disabled", None, {"note": '"Acme Corp"'}),
            ("org_enforcement_enabled", None, {"note": '"Acme Corp"'}),
        ]
    assert len(log(client, outsider)) == sizes[outsider.email]


def test_a_user_sees_only_their_own_events(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    enroll_totp(client, bob, clock)
    client.post("/api/v1/auth/login", json={"email": bob.email, "password": "wrong pass"})
    alice_log, bob_log = log(client, alice), log(client, bob)
    assert kinds(alice_log) == [("sign_in", "password")]
    assert len(bob_log) == 4
    assert not {e["id"] for e in alice_log} & {e["id"] for e in bob_log}
    # a cursor is only a position: bob's cursor in alice's hands still shows alice's own log
    r = client.get(EVENTS, params={"limit": 1}, headers=bob.auth)
    cursor = r.json()["next_cursor"]
    r = client.get(EVENTS, params={"cursor": cursor}, headers=alice.auth)
    assert [e["id"] for e in r.json()["events"]] == [alice_log[0]["id"]]


def test_pagination_is_stable_under_new_events(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client)
    for _ in range(6):
        clock.advance(1)
        start_login(client, alice)  # one sign_in each
    full = log(client, alice)
    assert len(full) == 7
    times = [e["created_at"] for e in full]
    assert times == sorted(times, reverse=True) and len(set(times)) == 7  # newest first

    page1 = client.get(EVENTS, params={"limit": 3}, headers=alice.auth).json()
    assert [e["id"] for e in page1["events"]] == [e["id"] for e in full[:3]]
    for _ in range(2):  # new events arrive between pages
        clock.advance(1)
        start_login(client, alice)
    page2 = client.get(
        EVENTS, params={"limit": 3, "cursor": page1["next_cursor"]}, headers=alice.auth
    ).json()
    assert [e["id"] for e in page2["events"]] == [e["id"] for e in full[3:6]]
    page3 = client.get(
        EVENTS, params={"limit": 3, "cursor": page2["next_cursor"]}, headers=alice.auth
    ).json()
    assert [e["id"] for e in page3["events"]] == [full[6]["id"]]
    assert page3["next_cursor"] is None

    # a page that ends exactly at the oldest event has no next cursor
    r = client.get(EVENTS, params={"limit": 9}, headers=alice.auth).json()
    assert len(r["events"]) == 9 and r["next_cursor"] is None
    r = client.get(EVENTS, params={"limit": 8}, headers=alice.auth).json()
    assert r["next_cursor"] is not None
    last = client.get(EVENTS, params={"cursor": r["next_cursor"]}, headers=alice.auth).json()
    assert [e["id"] for e in last["events"]] == [full[6]["id"]] and last["next_cursor"] is None


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor", ["not-a-cursor", "!!!", "zzzz", _b64("e-5"), _b64("eabc"), _b64("x12")]
)
def test_invalid_cursor(client: TestClient, cursor: str) -> None:
    alice = sign_up(client)
    r = client.get(EVENTS, params={"cursor": cursor}, headers=alice.auth)
    assert_problem(r, 400, "invalid_cursor")


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"limit": "x"}, {"cursor": "e" * 201}]
)
def test_limit_bounds(client: TestClient, params: dict[str, Any]) -> None:
    alice = sign_up(client)
    assert_problem(client.get(EVENTS, params=params, headers=alice.auth), 422, "validation_error")
    assert client.get(EVENTS, params={"limit": 100}, headers=alice.auth).status_code == 200
    assert client.get(EVENTS, params={"limit": 1}, headers=alice.auth).status_code == 200


def test_events_need_a_session(client: TestClient) -> None:
    assert_problem(client.get(EVENTS), 401, "not_authenticated")


def test_no_secret_code_or_token_in_the_log(client: TestClient, clock: FrozenClock) -> None:
    alice = sign_up(client)
    secrets: set[str] = {alice.password, alice.token}

    r = client.post("/api/v1/profile/auth/totp", headers=alice.auth)
    secrets |= {r.json()["secret"], r.json()["otpauth_uri"]}
    wrong = code_now(r.json()["secret"], clock, offset_steps=7)
    secrets.add(wrong)
    client.post("/api/v1/profile/auth/totp/confirm", json={"code": wrong}, headers=alice.auth)
    enroll_totp(client, alice, clock)  # starts again: a new secret
    secrets |= {alice.totp_secret, *alice.recovery_codes}

    pending = start_login(client, alice)
    secrets.add(pending["mfa_token"])
    for code in ("000000", code_now(alice.totp_secret, clock)):
        secrets.add(code)
        r = client.post(
            "/api/v1/auth/mfa/totp", json={"mfa_token": pending["mfa_token"], "code": code}
        )
    secrets.add(r.json()["access_token"])
    pending = start_login(client, alice)
    secrets.add(pending["mfa_token"])
    r = client.post(
        "/api/v1/auth/mfa/recovery-code",
        json={"mfa_token": pending["mfa_token"], "code": alice.recovery_codes[1].lower()},
    )
    secrets |= {r.json()["access_token"], alice.recovery_codes[1].lower()}
    client.post("/api/v1/auth/reauthenticate", json={"password": "a wrong one"}, headers=alice.auth)
    secrets.add("a wrong one")
    r = client.post("/api/v1/profile/auth/recovery-codes", headers=alice.auth)
    secrets |= set(r.json()["recovery_codes"])
    client.post("/api/v1/auth/login", json={"email": alice.email, "password": "guessing!"})
    secrets.add("guessing!")

    entries = log(client, alice)
    assert len(entries) >= 10
    # ids are random hex the server made, not secrets; leave them out so a six-digit
    # code cannot match by chance
    text = json.dumps([{k: v for k, v in e.items() if k != "id"} for e in entries])
    for secret in secrets:
        for form in {secret, secret.replace("-", ""), secret.upper()}:
            assert form not in text, secret


def test_prune_deletes_only_old_events(
    client: TestClient, clock: FrozenClock, settings: Settings
) -> None:
    now = SystemClock().now()  # the admin command prunes against the real clock
    clock.set(now)
    alice = sign_up(client)
    uid = user_id(client, alice)
    with client.app.state.session_factory() as db:  # type: ignore[attr-defined]
        for days, marker in ((400, "old"), (366, "just-old"), (300, "kept"), (10, "recent")):
            events.record(
                db,
                user_id=uid,
                type=events.SIGN_IN,
                method="password",
                ctx=RequestContext(now=now - timedelta(days=days)),
                detail=marker,
            )
        db.commit()
    assert len(log(client, alice)) == 5

    result = CliRunner().invoke(cli, ["events", "prune"], env=admin_env(settings))
    assert result.exit_code == 0, result.output
    assert "deleted 2 events" in result.output
    # (ordered by insertion, so the back-dated rows come first: compare as sets)
    assert {(e["detail"] or {}).get("note") for e in log(client, alice)} == {None, "recent", "kept"}

    result = CliRunner().invoke(
        cli, ["events", "prune"], env=admin_env(settings, ANKRA_EVENT_RETENTION_DAYS="30")
    )
    assert result.exit_code == 0, result.output
    assert "deleted 1 events" in result.output
    assert {(e["detail"] or {}).get("note") for e in log(client, alice)} == {None, "recent"}
