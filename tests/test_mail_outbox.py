"""Which changes queue a mail, in the same transaction as their event (in-process, frozen
clock, SQLite and PostgreSQL: on PostgreSQL the second factors run on the event loop, so
the sign-in's one statement is what is checked there). Delivery is in
tests/test_mail_delivery.py and tests/test_notifications_live.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ankra_auth.clock import FrozenClock
from ankra_auth.context import RequestContext
from ankra_auth.events import service as events
from ankra_auth.notify.models import MailOutbox
from tests.helpers import Account, code_now, enroll_totp, sign_up, start_login, verify_in_app
from tests.soft_authenticator import SoftAuthenticator
from tests.test_passkey_alone import sign_in_alone
from tests.test_passkeys import register

LOGIN = "/api/v1/auth/login"
TOTP = "/api/v1/auth/mfa/totp"
RECOVERY = "/api/v1/auth/mfa/recovery-code"
EVENTS = "/api/v1/profile/auth/events"


def outbox(client: TestClient) -> list[MailOutbox]:
    with client.app.state.session_factory() as db:  # type: ignore[attr-defined]
        return list(db.scalars(select(MailOutbox).order_by(MailOutbox.created_at, MailOutbox.id)))


def told(client: TestClient) -> list[tuple[str, int]]:
    """The security mails queued (not the verification mail): (kind, events told), sorted
    (mails queued at one frozen instant have no order of their own)."""
    return sorted((m.kind, m.events) for m in outbox(client) if m.kind != "verify_email")


def log(client: TestClient, account: Account) -> list[dict[str, Any]]:
    r = client.get(EVENTS, params={"limit": 100}, headers=account.auth)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["events"]
    return found


def mailed(event: dict[str, Any]) -> bool:
    return (event["detail"] or {}).get("mail") == "queued"


def verified(client: TestClient, email: str = "alice@example.com") -> Account:
    account = sign_up(client, email)  # signs in once: its first sign-in
    verify_in_app(client, account)
    return account


def password_login(client: TestClient, account: Account, device_token: str | None = None) -> Any:
    body = {"email": account.email, "password": account.password}
    if device_token is not None:
        body["device_token"] = device_token
    r = client.post(LOGIN, json=body, headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"})
    assert r.status_code == 200, r.text
    return r.json()


def test_sign_up_queues_only_the_verification_mail(client: TestClient) -> None:
    sign_up(client)
    [mail] = outbox(client)
    assert (mail.kind, mail.to_address, mail.state, mail.burst) == (
        "verify_email",
        "alice@example.com",
        "queued",
        None,
    )
    assert set(json.loads(mail.payload)) == {"verification_id", "at"}  # an id, never a token


def test_a_new_device_is_news_and_a_known_one_is_not(client: TestClient) -> None:
    account = verified(client)
    assert told(client) == []  # the first sign-in (at sign-up) told nobody

    first = password_login(client, account)  # no device token: a new device
    assert told(client) == [("sign_in", 1)]
    assert mailed(log(client, account)[0])

    password_login(client, account, first["device_token"])  # a known device
    assert told(client) == [("sign_in", 1)]
    latest = log(client, account)[0]
    assert latest["type"] == "sign_in" and latest["detail"] is None


def test_the_second_factor_sign_in_tells_a_new_device_in_its_one_statement(
    client: TestClient, clock: FrozenClock
) -> None:
    account = verified(client)
    enroll_totp(client, account, clock)
    assert told(client) == [("totp_enabled", 1)]

    started = start_login(client, account)  # no device token
    r = client.post(
        TOTP, json={"mfa_token": started["mfa_token"], "code": code_now(account.totp_secret, clock)}
    )
    assert r.status_code == 200, r.text
    assert told(client) == [("sign_in", 1), ("totp_enabled", 1)]
    assert mailed(log(client, account)[0])

    clock.advance(30)
    known = client.post(
        LOGIN,
        json={
            "email": account.email,
            "password": account.password,
            "device_token": r.json()["device_token"],
        },
    ).json()
    r = client.post(
        TOTP, json={"mfa_token": known["mfa_token"], "code": code_now(account.totp_secret, clock)}
    )
    assert r.status_code == 200, r.text
    assert told(client) == [("sign_in", 1), ("totp_enabled", 1)]  # nothing more
    assert not mailed(log(client, account)[0])


def test_a_recovery_code_tells_its_owner_even_from_a_known_device(
    client: TestClient, clock: FrozenClock
) -> None:
    account = verified(client)
    enroll_totp(client, account, clock)
    token = password_login(client, account)["mfa_token"]
    r = client.post(RECOVERY, json={"mfa_token": token, "code": account.recovery_codes[0]})
    assert r.status_code == 200, r.text
    device = r.json()["device_token"]
    known = password_login(client, account, device)["mfa_token"]
    r = client.post(RECOVERY, json={"mfa_token": known, "code": account.recovery_codes[1]})
    assert r.status_code == 200, r.text
    # Two recovery codes in a burst are one mail; one new device (the first one)
    assert told(client) == [("recovery_code_used", 2), ("sign_in", 1), ("totp_enabled", 1)]
    [signed_in, used] = log(client, account)[:2]  # newest first: the sign-in, then its code
    assert (signed_in["type"], used["type"]) == ("sign_in", "recovery_code_used")
    assert mailed(used) and not mailed(signed_in)


def test_five_failed_second_steps_tell_the_owner_someone_has_the_password(
    client: TestClient, clock: FrozenClock
) -> None:
    account = verified(client)
    enroll_totp(client, account, clock)
    token = start_login(client, account)["mfa_token"]
    for _ in range(5):
        client.post(TOTP, json={"mfa_token": token, "code": "000000"})
    assert told(client) == [("pending_login_voided", 1), ("totp_enabled", 1)]
    voided = next(e for e in log(client, account) if e["type"] == "pending_login_voided")
    assert mailed(voided)
    failed = [e for e in log(client, account) if e["type"] == "second_factor_failed"]
    assert len(failed) == 5 and not any(mailed(e) for e in failed)


def test_a_burst_is_one_mail(client: TestClient) -> None:
    account = verified(client)
    for _ in range(10):
        password_login(client, account)  # ten new-device sign-ins in a minute
    [(kind, count)] = told(client)
    assert (kind, count) == ("sign_in", 10)
    [mail] = [m for m in outbox(client) if m.kind == "sign_in"]
    assert mail.last_payload is not None  # the latest is told beside the first
    *news, first = [e for e in log(client, account) if e["type"] == "sign_in"]
    assert len(news) == 10 and all(mailed(e) for e in news) and not mailed(first)


def test_signing_out_everywhere_else_is_one_mail_and_one_session_none(client: TestClient) -> None:
    account = verified(client)
    others = [password_login(client, account) for _ in range(3)]
    before = told(client)
    one = client.get("/api/v1/profile/sessions", headers=account.auth).json()
    victim = next(s for s in one if not s["current"])
    r = client.delete(f"/api/v1/profile/sessions/{victim['id']}", headers=account.auth)
    assert r.status_code == 204
    assert told(client) == before  # signing one session out is no news
    r = client.delete("/api/v1/profile/sessions", headers=account.auth)
    assert r.status_code == 204
    assert told(client) == sorted([*before, ("session_revoked", len(others) - 1)])


@pytest.mark.parametrize("verify", [False, True])
def test_only_a_verified_address_is_told(
    client: TestClient, clock: FrozenClock, verify: bool
) -> None:
    account = sign_up(client)
    if verify:
        verify_in_app(client, account)
    enroll_totp(client, account, clock)
    password_login(client, account)
    r = client.post("/api/v1/profile/auth/recovery-codes", headers=account.auth)
    assert r.status_code == 200, r.text
    kinds = [kind for kind, _ in told(client)]
    if verify:
        assert kinds == ["recovery_codes_regenerated", "totp_enabled"]
    else:
        assert kinds == []  # the verification mail is the one mail it gets
        assert [m.kind for m in outbox(client)] == ["verify_email"]
        assert not any(mailed(e) for e in log(client, account))


def test_a_change_that_rolls_back_queues_nothing(client: TestClient, clock: FrozenClock) -> None:
    account = verified(client)
    me = client.get("/api/v1/me", headers=account.auth).json()
    with client.app.state.session_factory() as db:  # type: ignore[attr-defined]
        events.record(
            db,
            user_id=me["id"],
            type="totp_enabled",
            method="totp",
            ctx=RequestContext(clock.now()),
        )
        db.flush()
        assert [m.kind for m in db.scalars(select(MailOutbox))].count("totp_enabled") == 1
        db.rollback()  # the change fails after its event was recorded
    assert told(client) == []
    with client.app.state.session_factory() as db:  # type: ignore[attr-defined]
        events.record(
            db,
            user_id=me["id"],
            type="totp_enabled",
            method="totp",
            ctx=RequestContext(clock.now()),
        )
        db.commit()
    assert told(client) == [("totp_enabled", 1)]


def test_a_known_device_adds_nothing_to_the_sign_in_statement(clock: FrozenClock) -> None:
    """The hot path (a right code from a known device) keeps its one statement as it was;
    only a sign-in without a device token gets the first-sign-in mark and the mail."""
    from sqlalchemy import literal
    from sqlalchemy import select as select_

    from ankra_auth.signin import rows

    ctx = RequestContext(clock.now(), "203.0.113.7", "Firefox")

    def ctes(retire_id: str | None, also: tuple[str, ...] = ()) -> list[str]:
        recorded = [*also, "sign_in"]
        written = rows.Rows(
            user_id="u" * 32,
            now=clock.now(),
            retire_id=retire_id,
            session={"id": "s" * 32, "user_id": "u" * 32},
            events=[
                events.row(user_id="u" * 32, type=t, method="totp", ctx=ctx, detail=None)  # type: ignore[arg-type]
                for t in recorded
            ],
        )
        finished = select_(literal(1).label("id")).cte("finished_login")
        built, _ = rows.sign_in_ctes(finished, *written.shape)
        return [cte.name for cte in built]

    plain = ["retired_device_tokens", "new_device_token", "new_session", "new_events"]
    assert ctes("known-token-id") == plain
    assert ctes(None) == [*plain[:3], "first_sign_in", "mail_0", "new_events"]
    # a recovery code tells its owner wherever it is used
    assert ctes("known-token-id", ("recovery_code_used",)) == [*plain[:3], "mail_0", "new_events"]


def test_a_passkey_alone_from_a_new_device_is_news_and_from_a_known_one_is_not(
    client: TestClient,
) -> None:
    account = verified(client)
    key = SoftAuthenticator()
    register(client, account, key)
    before = told(client)
    assert ("passkey_added", 1) in before

    _, r = sign_in_alone(client, key)  # no device token: a new device
    assert r.status_code == 200, r.text
    assert told(client) == sorted([*before, ("sign_in", 1)])
    assert mailed(log(client, account)[0])

    _, r = sign_in_alone(client, key, device_token=r.json()["device_token"])
    assert r.status_code == 200, r.text
    assert told(client) == sorted([*before, ("sign_in", 1)])  # known: nothing more
    assert not mailed(log(client, account)[0])
