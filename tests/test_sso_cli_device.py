"""`ankra login --sso --no-browser` at the API: the device hand-off (RFC 8628) whose first
factor is single sign-on, against the real OpenID provider (tests/openid_provider.py),
through a real HTTP server on SQLite and PostgreSQL.

The terminal gets the fixed /cli/device page and a user code; only the page that typed
the right code gets an approval handle, which it trades once for the provider's start
link, which opens only in that browser (its cookie); after the callback comes the same
second-factor page as for `ankra login --sso`, or, for an account without 2FA, a page that
shows what is approved and waits for the person's Approve: the provider approves nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ankra_auth.cli_handoff.models import CliGrant
from ankra_auth.models import SsoFlow, SsoIdentity, SsoPendingLink, User
from ankra_auth.security import pkce
from ankra_cli import handoff
from ankra_cli.client import AnkraClient
from ankra_cli.errors import CliError
from ankra_cli.output import Output
from tests import test_sso
from tests.cli.handoff_steps import DEVICE, new_verifier, poll
from tests.openid_provider import (
    OpenIdProvider,
    ProviderUser,
    openid_provider,  # noqa: F401 - a fixture
)
from tests.race import race
from tests.sso_browser import SsoBrowser, page_token, start_query
from tests.test_sso import (
    Live,
    _enroll_totp,
    _events,
    _local_account,
    _verified_local_account,
    two_instances,
)

live = test_sso.live  # the fixture: a service with the provider "corp"
AUTHORIZE = "/api/v1/auth/cli/authorize"
WARNING = (
    "Only continue if you started this sign-in yourself in a terminal. "
    "Never enter a code that someone sent you."
)


def _authorize(
    http: httpx.Client, base: str, verifier: str, *, public: str | None = None
) -> dict[str, Any]:
    """What `ankra login --sso --no-browser` asks for: no redirect_uri, no state."""
    r = http.post(
        f"{base}{AUTHORIZE}",
        json={
            "sso_provider": "corp",
            "code_challenge": pkce.s256_challenge(verifier),
            "code_challenge_method": "S256",
        },
    )
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    started: dict[str, Any] = r.json()
    assert set(started) == {"browser_url", "user_code", "device_code", "interval", "expires_in"}
    assert started["browser_url"] == f"{public or base}/cli/device"
    return started


def _poll(live: Live, started: dict[str, Any], verifier: str) -> httpx.Response:
    live.clock.advance(started["interval"])  # never slow_down
    return poll(httpx.Client(base_url=live.base), started["device_code"], verifier)


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def _open(browser: SsoBrowser, user_code: str) -> dict[str, Any]:
    r = browser.api("POST", f"{DEVICE}/code", json={"user_code": user_code})
    assert r.status_code == 200, r.text
    opened: dict[str, Any] = r.json()
    return opened


def _totp(browser: SsoBrowser, approval_token: str, method: str, code: str) -> httpx.Response:
    """A second factor on /cli/device for the hand-off that ``approval_token`` opened."""
    return browser.api(
        "POST", f"{DEVICE}/{method}", json={"approval_token": approval_token, "code": code}
    )


def _start_url(browser: SsoBrowser, approval_token: str) -> str:
    r = browser.api("POST", f"{DEVICE}/sso", json={"approval_token": approval_token})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    url = str(r.json()["start_url"])
    assert url.startswith(f"{browser.base}/auth/sso/corp/start?cli=")
    assert approval_token not in url
    return url


def _to_callback(live: Live, person: ProviderUser, user_code: str) -> tuple[SsoBrowser, str]:
    """A browser types the code, continues to the provider and signs in there; the
    callback URL it is sent back to, not followed yet."""
    browser = live.browser()
    opened = _open(browser, user_code)
    url = _start_url(browser, opened["approval_token"])
    return browser, browser.to_callback(live.op, person, start_query(url))


def _approve(browser: SsoBrowser, token: str) -> httpx.Response:
    return browser.api("POST", f"/api/v1/auth/cli/handoff/{token}/approve")


def test_device_sso_with_totp_end_to_end(live: Live) -> None:
    person = live.op.add_user(email="device.totp@example.com")
    first = live.browser()
    assert first.sign_in(live.op, person).status_code == 303
    secret = _enroll_totp(first, live)
    users_before = live.count(User)

    terminal = httpx.Client(base_url=live.base)
    verifier = new_verifier()
    requested_at = live.clock.now()
    started = _authorize(terminal, live.base, verifier)
    _problem(_poll(live, started, verifier), 400, "authorization_pending")

    browser = live.browser()
    # The fixed page, as for any device hand-off: no code, no token in it.
    page = browser.http.get(started["browser_url"])
    assert page.status_code == 200 and WARNING in page.text
    assert started["user_code"] not in page.text
    opened = _open(browser, started["user_code"].lower().replace("-", " "))
    # Before anything else: the provider (no account is known yet), where and when.
    assert opened["email"] is None and opened["methods"] == []
    assert opened["sso_provider"] == {"id": "corp", "name": "Acme SSO"}
    assert opened["ip"] == "127.0.0.1"
    assert opened["requested_at"].startswith(requested_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert 0 < opened["expires_in"] <= 600
    # The handle opens no second factor: there is no account to ask it of yet.
    r = _totp(browser, opened["approval_token"], "totp", live.code(secret))
    _problem(r, 401, "mfa_token_invalid")

    url = _start_url(browser, opened["approval_token"])
    callback = browser.to_callback(live.op, person, start_query(url))
    # The callback is this browser's only.
    assert live.browser().callback(callback).status_code == 400
    # The same hand-off page as `ankra login --sso`, its token in the page, in no URL.
    token = browser.hand_off_page(callback)
    handoff_ = browser.api("GET", f"/api/v1/auth/cli/handoff/{token}").json()
    assert handoff_["email"] == "device.totp@example.com" and "totp" in handoff_["methods"]
    # The page token is not a device approval handle, nor is the spent handle anything.
    for handle in (token, opened["approval_token"]):
        _problem(_totp(browser, handle, "totp", "000000"), 401, "mfa_token_invalid")

    wrong = browser.api("POST", f"/api/v1/auth/cli/handoff/{token}/totp", json={"code": "000000"})
    assert wrong.status_code == 401 and wrong.json()["attempts_remaining"] == 4
    assert len(_events(live, "second_factor_failed")) == 1
    _problem(_poll(live, started, verifier), 400, "authorization_pending")
    done = browser.api(
        "POST", f"/api/v1/auth/cli/handoff/{token}/totp", json={"code": live.code(secret)}
    )
    assert done.status_code == 200 and done.json() == {"redirect_url": None}, done.text

    r = _poll(live, started, verifier)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "authenticated" and body["device_token"]
    me = terminal.get(
        f"{live.base}/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["email"] == "device.totp@example.com"
    _problem(_poll(live, started, verifier), 400, "invalid_grant")
    assert live.count(User) == users_before
    (approved,) = _events(live, "cli_login_approved")
    assert approved.method == "totp"
    assert approved.detail == "device hand-off requested from 127.0.0.1"
    assert [(e.method, e.detail) for e in _events(live, "sign_in")][-1] == (
        "sso",
        "corp via the CLI",
    )


def test_an_account_without_2fa_is_approved_only_by_the_persons_approve(live: Live) -> None:
    person = live.op.add_user(email="device.plain@example.com")
    verifier = new_verifier()
    started = _authorize(httpx.Client(), live.base, verifier)
    browser, callback = _to_callback(live, person, started["user_code"])
    page = browser.callback(callback)
    assert page.status_code == 200 and 'data-page="cli-login"' in page.text, page.text
    assert browser.session_cookie() is None
    token = page_token(page.text)
    # The provider's sign-in approved nothing: the page shows what would be approved.
    _problem(_poll(live, started, verifier), 400, "authorization_pending")
    shown = browser.api("GET", f"/api/v1/auth/cli/handoff/{token}").json()
    assert shown["email"] == "device.plain@example.com" and shown["methods"] == []
    assert shown["device_hand_off"] is True and shown["ip"] == "127.0.0.1"
    assert shown["requested_at"]
    # Only a same-origin POST from the browser that typed the code approves it.
    r = browser.http.post(
        f"{live.base}/api/v1/auth/cli/handoff/{token}/approve",
        headers={"Origin": "https://evil.example"},
    )
    _problem(r, 403, "origin_not_allowed")
    elsewhere = live.browser()
    _problem(_approve(elsewhere, token), 401, "mfa_token_invalid")
    _problem(_poll(live, started, verifier), 400, "authorization_pending")
    assert _approve(browser, token).status_code == 204
    r = _poll(live, started, verifier)
    assert r.status_code == 200 and r.json()["status"] == "authenticated", r.text
    assert live.count(User) == live.count(SsoIdentity) == 1
    assert [(e.method, e.detail) for e in _events(live, "sign_in")][-1] == (
        "sso",
        "corp via the CLI",
    )
    _problem(_approve(browser, token), 401, "mfa_token_invalid")  # once


def test_deny_ends_the_hand_off_and_tells_the_terminal(live: Live) -> None:
    person = live.op.add_user(email="device.deny@example.com")
    verifier = new_verifier()
    started = _authorize(httpx.Client(), live.base, verifier)
    browser, callback = _to_callback(live, person, started["user_code"])
    token = page_token(browser.callback(callback).text)
    assert browser.api("POST", f"/api/v1/auth/cli/handoff/{token}/deny").status_code == 204
    body = _problem(_poll(live, started, verifier), 400, "access_denied")
    assert "denied in the browser" in body["detail"]
    _problem(_approve(browser, token), 401, "mfa_token_invalid")


def test_a_start_link_sent_to_someone_else_opens_nothing(live: Live) -> None:
    """The phishing of finding 1: the attacker types his own code, trades the handle for
    the start link and sends the link to a victim, whose provider would sign in silently."""
    victim = live.op.add_user(email="device.victim@example.com")
    first = live.browser()
    assert first.sign_in(live.op, victim).status_code == 303  # the victim has an account
    verifier = new_verifier()
    started = _authorize(httpx.Client(), live.base, verifier)
    attacker = live.browser()
    url = _start_url(attacker, _open(attacker, started["user_code"])["approval_token"])
    flows = live.count(SsoFlow)
    for opener in (first, live.browser()):  # the victim's browser, signed in or not
        page = opener.start(start_query(url))
        assert page.status_code == 400 and "cannot be used" in page.text, page.text
    assert live.count(SsoFlow) == flows
    with live.app.state.session_factory() as db:
        (grant,) = db.query(CliGrant).all()
        assert grant.sso_started_at is None and grant.user_id is None
    _problem(_poll(live, started, verifier), 400, "authorization_pending")
    assert victim.sub not in {i.subject for i in _identities(live) if i.user_id is None}


def _identities(live: Live) -> list[SsoIdentity]:
    with live.app.state.session_factory() as db:
        return list(db.query(SsoIdentity).all())


def test_only_the_verification_url_and_no_code_gets_nowhere(live: Live) -> None:
    """The attacker started the hand-off and knows everything but the victim's typing:
    the page URL, the device code, the verifier. Nothing starts a provider sign-in."""
    verifier = new_verifier()
    started = _authorize(httpx.Client(), live.base, verifier)
    stranger = live.browser()
    page = stranger.http.get(started["browser_url"])
    assert page.status_code == 200 and started["user_code"] not in page.text
    for guess in (started["device_code"], verifier, "x" * 43):
        r = stranger.api("POST", f"{DEVICE}/sso", json={"approval_token": guess})
        _problem(r, 401, "mfa_token_invalid")
        r = stranger.start(f"?cli={guess}")
        assert r.status_code == 400 and "cannot be used" in r.text
        r = stranger.api("GET", f"/api/v1/auth/cli/handoff/{guess}")
        _problem(r, 401, "mfa_token_invalid")
        _problem(_totp(stranger, guess, "totp", "123456"), 401, "mfa_token_invalid")
    assert live.count(SsoFlow) == 0
    with live.app.state.session_factory() as db:
        (grant,) = db.query(CliGrant).all()
        assert grant.sso_started_at is None and grant.user_id is None
    _problem(_poll(live, started, verifier), 400, "authorization_pending")
    # The owner's own code still works afterwards.
    assert _open(live.browser(), started["user_code"])["sso_provider"]["id"] == "corp"


def test_wrong_codes_count_on_the_address_budget(live: Live) -> None:
    started = _authorize(httpx.Client(), live.base, new_verifier())
    right = started["user_code"]
    wrong = "0000-0000" if right != "0000-0000" else "1111-1111"
    browser = live.browser()
    assert _open(browser, right)["sso_provider"] is not None  # a right code costs nothing
    for _ in range(10):
        r = browser.api("POST", f"{DEVICE}/code", json={"user_code": wrong})
        _problem(r, 400, "invalid_user_code")
    # The budget is the address's: even the right code, from another browser there, waits.
    r = live.browser().api("POST", f"{DEVICE}/code", json={"user_code": right})
    body = _problem(r, 429, "rate_limited")
    assert 0 < body["retry_after"] <= 15 * 60
    assert live.count(SsoFlow) == 0


def test_the_sso_start_of_a_grant_is_claimed_once(live: Live) -> None:
    person = live.op.add_user(email="device.once@example.com")
    verifier = new_verifier()
    started = _authorize(httpx.Client(), live.base, verifier)
    browser = live.browser()
    opened = _open(browser, started["user_code"])
    # The handle is traded once, even by concurrent clicks.
    answers = race(
        [
            lambda http: http.post(
                f"{live.base}{DEVICE}/sso", json={"approval_token": opened["approval_token"]}
            )
            for _ in range(6)
        ]
    )
    assert sorted(r.status_code for r in answers) == [200, 401, 401, 401, 401, 401]
    (won,) = [r for r in answers if r.status_code == 200]
    url = str(won.json()["start_url"])
    # The start link, opened six times at once in the browser that traded it, starts one flow.
    bound = {"Cookie": f"ankra_cli_device={won.cookies['ankra_cli_device']}"}
    answers = race([lambda http: http.get(url, headers=bound) for _ in range(6)])
    assert sorted(r.status_code for r in answers) == [302, 400, 400, 400, 400, 400]
    assert live.count(SsoFlow) == 1
    # Once started, the code opens the hand-off no more (a wrong code, budgeted) and
    # the start link nothing.
    r = live.browser().api("POST", f"{DEVICE}/code", json={"user_code": started["user_code"]})
    _problem(r, 400, "invalid_user_code")
    assert browser.http.get(url, headers=bound).status_code == 400
    _problem(_poll(live, started, verifier), 400, "authorization_pending")

    # Retyping the code before the start replaces the handle: the first one is void.
    started = _authorize(httpx.Client(), live.base, verifier)
    first = _open(browser, started["user_code"])["approval_token"]
    second = _open(live.browser(), started["user_code"])["approval_token"]
    r = browser.api("POST", f"{DEVICE}/sso", json={"approval_token": first})
    _problem(r, 401, "mfa_token_invalid")
    other = live.browser()
    callback = other.to_callback(live.op, person, start_query(_start_url(other, second)))
    page = other.callback(callback)
    assert page.status_code == 200
    assert _approve(other, page_token(page.text)).status_code == 204
    assert _poll(live, started, verifier).status_code == 200


def test_a_grant_refused_at_the_provider_tells_the_terminal(live: Live) -> None:
    verifier = new_verifier()
    terminal = httpx.Client(base_url=live.base)
    # An unverified email: refused, nothing stored, the reason reaches the terminal.
    person = live.op.add_user(email="device.unverified@example.com", email_verified=False)
    started = _authorize(terminal, live.base, verifier)
    browser, callback = _to_callback(live, person, started["user_code"])
    page = browser.callback(callback)
    assert page.status_code == 403 and "did not confirm your email address" in page.text
    assert live.count(User) == live.count(SsoIdentity) == 0
    # Only the verifier's holder learns why; anyone else learns nothing.
    live.clock.advance(5)
    _problem(poll(terminal, started["device_code"], new_verifier()), 400, "invalid_grant")
    body = _problem(_poll(live, started, verifier), 400, "access_denied")
    assert "did not confirm your email address" in body["detail"]
    with live.app.state.session_factory() as db:
        (grant,) = db.query(CliGrant).all()
        assert grant.redeemed_at is not None and grant.user_id is None

    # The provider says no (error in the callback).
    started = _authorize(terminal, live.base, verifier)
    browser = live.browser()
    url = _start_url(browser, _open(browser, started["user_code"])["approval_token"])
    location = browser.start(start_query(url)).headers["location"]
    state = parse_qs(urlsplit(location).query)["state"][0]
    page = browser.callback(
        f"{live.base}/auth/sso/corp/callback?error=access_denied"
        f"&error_description=Not+allowed&state={state}"
    )
    assert page.status_code == 400 and "did not sign you in" in page.text
    body = _problem(_poll(live, started, verifier), 400, "access_denied")
    assert "Acme SSO did not sign you in" in body["detail"] and "Not allowed" in body["detail"]

    # An email a local account uses: the terminal is told to sign in in that browser.
    _verified_local_account(live, "device.local@example.com")
    person = live.op.add_user(email="device.local@example.com")
    started = _authorize(terminal, live.base, verifier)
    browser, callback = _to_callback(live, person, started["user_code"])
    assert browser.callback(callback).status_code == 200
    body = _problem(_poll(live, started, verifier), 400, "access_denied")
    assert "An Ankra account already uses device.local@example.com" in body["detail"]
    assert f"{live.base}/login" in body["detail"]
    assert live.count(SsoIdentity) == 0 and live.count(SsoPendingLink) == 1


def test_a_forged_id_token_ends_the_hand_off(live: Live) -> None:
    person = live.op.add_user(email="device.forged@example.com")
    verifier = new_verifier()
    started = _authorize(httpx.Client(), live.base, verifier)
    browser, callback = _to_callback(live, person, started["user_code"])
    live.op.tamper_next_id_token(foreign_key=True)
    page = browser.callback(callback)
    assert page.status_code == 400 and "could not be verified" in page.text
    body = _problem(_poll(live, started, verifier), 400, "access_denied")
    assert "could not be verified" in body["detail"]
    assert live.count(User) == live.count(SsoIdentity) == 0


def test_a_device_sso_grant_expires_with_its_ten_minutes(live: Live) -> None:
    verifier = new_verifier()
    started = _authorize(httpx.Client(), live.base, verifier)
    browser = live.browser()
    opened = _open(browser, started["user_code"])
    live.clock.advance(600)
    r = browser.api("POST", f"{DEVICE}/sso", json={"approval_token": opened["approval_token"]})
    _problem(r, 401, "mfa_token_invalid")
    _problem(_poll(live, started, verifier), 400, "expired_token")


def test_the_second_factor_does_not_outlive_the_ten_minutes(live: Live) -> None:
    person = live.op.add_user(email="device.late@example.com")
    first = live.browser()
    assert first.sign_in(live.op, person).status_code == 303
    secret = _enroll_totp(first, live)
    verifier = new_verifier()
    started = _authorize(httpx.Client(), live.base, verifier)
    live.clock.advance(480)  # the person took 8 minutes to get to it
    browser, callback = _to_callback(live, person, started["user_code"])
    token = page_token(browser.callback(callback).text)
    # The pending login would give 5 minutes; the terminal polls for 2 more only.
    handoff_ = browser.api("GET", f"/api/v1/auth/cli/handoff/{token}").json()
    assert handoff_["expires_in"] == 120
    live.clock.advance(120)
    r = browser.api(
        "POST", f"/api/v1/auth/cli/handoff/{token}/totp", json={"code": live.code(secret)}
    )
    _problem(r, 401, "mfa_token_invalid")
    _problem(_poll(live, started, verifier), 400, "expired_token")


def test_the_device_handle_of_a_password_sign_in_starts_no_sso(live: Live) -> None:
    browser = live.browser()
    _local_account(browser, "device.password@example.com")
    secret = _enroll_totp_by_password(browser, live)
    r = browser.api(
        "POST",
        "/api/v1/auth/login",
        json={"email": "device.password@example.com", "password": test_sso.PASSWORD},
    )
    verifier = new_verifier()
    started = httpx.post(
        f"{live.base}{AUTHORIZE}",
        json={
            "mfa_token": r.json()["mfa_token"],
            "code_challenge": pkce.s256_challenge(verifier),
            "code_challenge_method": "S256",
        },
    ).json()
    opened = _open(browser, started["user_code"])
    assert opened["sso_provider"] is None and opened["email"] == "device.password@example.com"
    r = browser.api("POST", f"{DEVICE}/sso", json={"approval_token": opened["approval_token"]})
    _problem(r, 401, "mfa_token_invalid")
    r = _totp(browser, opened["approval_token"], "totp", live.code(secret))
    assert r.status_code == 200, r.text


def _enroll_totp_by_password(browser: SsoBrowser, live: Live) -> str:
    r = browser.api(
        "POST",
        "/api/v1/auth/login",
        json={"email": "device.password@example.com", "password": test_sso.PASSWORD},
    )
    token = r.json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    secret = str(httpx.post(f"{live.base}/api/v1/profile/auth/totp", headers=auth).json()["secret"])
    r = httpx.post(
        f"{live.base}/api/v1/profile/auth/totp/confirm",
        json={"code": live.code(secret)},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    live.clock.advance(30)
    return secret


# ---------------------------------------------------------------- the CLI's polling loop


class _Terminal:
    """What `ankra login --sso --no-browser` prints, and a browser that acts on it."""

    def __init__(self, live: Live, person: ProviderUser) -> None:
        self.live, self.person = live, person
        self.messages: list[str] = []
        self.waits: list[float] = []

    def output(self) -> Output:
        out = Output(json_mode=True)
        out.info = self.messages.append  # type: ignore[method-assign]
        return out

    def shown(self) -> tuple[str, str]:
        message = next(m for m in self.messages if "enter the code" in m)
        url = next(part for part in message.split() if part.startswith("http"))
        return url, message.split("enter the code", 1)[1].split()[0]

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.live.clock.advance(seconds)
        if len(self.waits) == 2:  # the person reads the terminal and signs in meanwhile
            url, code = self.shown()
            assert url == f"{self.live.base}/cli/device"
            browser, callback = _to_callback(self.live, self.person, code)
            page = browser.callback(callback)
            if page.status_code == 200:  # shown what is approved: the person approves
                assert _approve(browser, page_token(page.text)).status_code == 204


def test_the_cli_polls_until_the_provider_approves(live: Live) -> None:
    person = live.op.add_user(email="device.cli@example.com")
    terminal = _Terminal(live, person)
    with AnkraClient(live.base) as client:
        answer = handoff.on_other_device(
            client,
            sso_provider="corp",
            out=terminal.output(),
            sleep=terminal.sleep,
            monotonic=lambda: live.clock.now().timestamp(),
        )
    assert answer["status"] == "authenticated" and terminal.waits == [5, 5]


def test_the_cli_stops_with_the_refusal(live: Live) -> None:
    person = live.op.add_user(email="device.cli.unverified@example.com", email_verified=False)
    terminal = _Terminal(live, person)
    with AnkraClient(live.base) as client, pytest.raises(CliError) as raised:
        handoff.on_other_device(
            client,
            sso_provider="corp",
            out=terminal.output(),
            sleep=terminal.sleep,
            monotonic=lambda: live.clock.now().timestamp(),
        )
    assert "did not confirm your email address" in raised.value.message
    assert raised.value.hint == "Run `ankra login --sso --no-browser` again."
    assert terminal.waits == [5, 5]


# ---------------------------------------------------------------- processes: a fleet


def test_the_hand_off_crosses_instances_and_its_start_is_traded_once(
    database_url: str,
    openid_provider: OpenIdProvider,  # noqa: F811
    tmp_path: Path,
) -> None:
    with two_instances(database_url, openid_provider, tmp_path) as (public, a, b):
        person = openid_provider.add_user(email="device.fleet@example.com")
        verifier = new_verifier()
        started = _authorize(httpx.Client(), a, verifier, public=public)
        browser = SsoBrowser(b)  # started on B...
        r = browser.http.post(
            f"{b}{DEVICE}/code",
            json={"user_code": started["user_code"]},
            headers={"Origin": public},  # the pages' own origin, the public URL's
        )
        assert r.status_code == 200, r.text
        handle = r.json()["approval_token"]
        answers = race(
            [
                (
                    lambda http, base=base: http.post(
                        f"{base}{DEVICE}/sso", json={"approval_token": handle}
                    )
                )
                for base in (a, b, a, b, a, b)
            ]
        )
        assert sorted(r.status_code for r in answers) == [200, 401, 401, 401, 401, 401]
        (won,) = [r for r in answers if r.status_code == 200]
        url = str(won.json()["start_url"])
        assert url.startswith(f"{public}/auth/sso/corp/start?cli=")
        browser.http.cookies.set("ankra_cli_device", won.cookies["ankra_cli_device"])
        callback = browser.to_callback(openid_provider, person, start_query(url))
        page = browser.callback(callback.replace(public, a))  # ...finished on A
        assert page.status_code == 200 and 'data-page="cli-login"' in page.text, page.text
        approve = f"{a}/api/v1/auth/cli/handoff/{page_token(page.text)}/approve"
        assert browser.http.post(approve, headers={"Origin": public}).status_code == 204
        r = poll(httpx.Client(base_url=b), started["device_code"], verifier)
        assert r.status_code == 200 and r.json()["status"] == "authenticated", r.text
