"""`ankra login --sso` at the API: the loopback hand-off that starts at the provider, against
the real OpenID provider (tests/openid_provider.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from ankra_auth.cli_handoff.models import CliGrant
from ankra_auth.models import SsoFlow, SsoIdentity, SsoPendingLink, User
from ankra_auth.security import pkce
from tests import test_sso
from tests.cli.handoff_steps import REDIRECT, new_verifier, query
from tests.openid_provider import openid_provider  # noqa: F401 - a fixture
from tests.race import race
from tests.sso_browser import SsoBrowser, start_query
from tests.test_sso import Live, _enroll_totp, _events, _verified_local_account

live = test_sso.live  # the fixture: a service with the provider "corp"
AUTHORIZE = "/api/v1/auth/cli/authorize"


def _authorize(browser: SsoBrowser, verifier: str, **body: object) -> str:
    r = browser.http.post(
        f"{browser.base}{AUTHORIZE}",
        json={
            "sso_provider": "corp",
            "redirect_uri": REDIRECT,
            "state": "cli-state",
            "code_challenge": pkce.s256_challenge(verifier),
            "code_challenge_method": "S256",
            **body,
        },
    )
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    url = str(r.json()["browser_url"])
    assert url.startswith(f"{browser.base}/auth/sso/corp/start?cli=")
    return url


def _exchange(live: Live, code: str, verifier: str) -> httpx.Response:
    return httpx.post(
        f"{live.base}/api/v1/auth/cli/token", json={"code": code, "code_verifier": verifier}
    )


def test_an_account_with_totp_signs_in_the_terminal_through_sso(live: Live) -> None:
    person = live.op.add_user(email="cli.totp@example.com")
    first = live.browser()
    assert first.sign_in(live.op, person).status_code == 303
    secret = _enroll_totp(first, live)
    users_before = live.count(User)

    terminal = live.browser()  # only its httpx client is used: the terminal's calls
    verifier = new_verifier()
    url = _authorize(terminal, verifier)
    browser = live.browser()
    callback = browser.to_callback(live.op, person, start_query(url))
    # The start link was spent by this browser: opened again (here or elsewhere), nothing.
    again = live.browser().http.get(url)
    assert again.status_code == 400 and "cannot be used" in again.text
    # The callback is this browser's only: another one gets the invalid-flow page.
    assert live.browser().callback(callback).status_code == 400

    # The hand-off page itself, with its token in the page and in no URL; no browser session.
    token = browser.hand_off_page(callback)
    handoff = browser.api("GET", f"/api/v1/auth/cli/handoff/{token}").json()
    assert handoff["email"] == "cli.totp@example.com" and "totp" in handoff["methods"]

    wrong = browser.api("POST", f"/api/v1/auth/cli/handoff/{token}/totp", json={"code": "000000"})
    assert wrong.status_code == 401 and wrong.json()["attempts_remaining"] == 4
    assert len(_events(live, "second_factor_failed")) == 1
    done = browser.api(
        "POST", f"/api/v1/auth/cli/handoff/{token}/totp", json={"code": live.code(secret)}
    )
    assert done.status_code == 200, done.text
    redirect = done.json()["redirect_url"]
    assert redirect.startswith("http://127.0.0.1:53682/callback?from=ankra&")
    answer = query(redirect)
    assert answer["state"] == ["cli-state"]

    r = _exchange(live, answer["code"][0], verifier)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "authenticated" and body["device_token"]
    me = terminal.http.get(
        f"{live.base}/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["email"] == "cli.totp@example.com"
    assert _exchange(live, answer["code"][0], verifier).status_code == 400
    assert live.count(User) == users_before
    approved = _events(live, "cli_login_approved")
    assert [e.method for e in approved] == ["totp"]
    assert [(e.method, e.detail) for e in _events(live, "sign_in")][-1] == (
        "sso",
        "corp via the CLI",
    )


def test_an_account_without_2fa_goes_straight_back_to_the_terminal(live: Live) -> None:
    person = live.op.add_user(email="cli.plain@example.com")
    terminal, browser = live.browser(), live.browser()
    verifier = new_verifier()
    url = _authorize(terminal, verifier)
    r = browser.sign_in(live.op, person, start_query(url))
    assert r.status_code == 303 and browser.session_cookie() is None
    location = r.headers["location"]
    assert location.startswith("http://127.0.0.1:53682/callback?")
    answer = parse_qs(urlsplit(location).query)
    assert answer["state"] == ["cli-state"]
    # A wrong verifier burns the code.
    assert _exchange(live, answer["code"][0], new_verifier()).status_code == 400
    assert _exchange(live, answer["code"][0], verifier).status_code == 400

    verifier = new_verifier()
    url = _authorize(terminal, verifier)
    r = browser.sign_in(live.op, person, start_query(url))
    code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
    ok = _exchange(live, code, verifier)
    assert ok.status_code == 200 and ok.json()["status"] == "authenticated"
    assert live.count(User) == live.count(SsoIdentity) == 1
    assert [(e.method, e.detail) for e in _events(live, "sign_in")][-1] == (
        "sso",
        "corp via the CLI",
    )


def test_an_unverified_email_ends_the_hand_off_and_tells_the_terminal(live: Live) -> None:
    person = live.op.add_user(email="cli.unverified@example.com", email_verified=False)
    terminal, browser = live.browser(), live.browser()
    url = _authorize(terminal, new_verifier())
    r = browser.sign_in(live.op, person, start_query(url))
    assert r.status_code == 303
    answer = parse_qs(urlsplit(r.headers["location"]).query)
    assert answer["error"] == ["access_denied"] and answer["state"] == ["cli-state"]
    assert "did not confirm your email address" in answer["error_description"][0]
    assert "code" not in answer
    assert live.count(User) == live.count(SsoIdentity) == 0
    with live.app.state.session_factory() as db:
        (grant,) = db.query(CliGrant).all()
        assert grant.redeemed_at is not None and grant.user_id is None


def test_an_email_collision_tells_the_terminal_to_sign_in_in_that_browser(live: Live) -> None:
    browser = live.browser()
    _verified_local_account(live, "cli.local@example.com")
    person = live.op.add_user(email="cli.local@example.com")
    url = _authorize(live.browser(), new_verifier())
    r = browser.sign_in(live.op, person, start_query(url))
    description = parse_qs(urlsplit(r.headers["location"]).query)["error_description"][0]
    assert "An Ankra account already uses cli.local@example.com" in description
    assert f"{live.base}/login" in description
    assert live.count(SsoIdentity) == 0 and live.count(SsoPendingLink) == 1


def test_authorize_refuses_bad_sso_requests(live: Live) -> None:
    terminal = live.browser()
    verifier = new_verifier()
    base = {
        "redirect_uri": REDIRECT,
        "state": "s",
        "code_challenge": pkce.s256_challenge(verifier),
        "code_challenge_method": "S256",
    }
    post = terminal.http.post
    r = post(f"{live.base}{AUTHORIZE}", json={**base, "sso_provider": "nope"})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = post(f"{live.base}{AUTHORIZE}", json={**base, "sso_provider": "corp", "mfa_token": "x"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    # Without a redirect_uri: the device hand-off (tests/test_sso_cli_device.py).
    r = post(f"{live.base}{AUTHORIZE}", json={**base, "redirect_uri": None, "sso_provider": "corp"})
    assert r.status_code == 201 and r.json()["browser_url"] == f"{live.base}/cli/device"
    r = post(f"{live.base}{AUTHORIZE}", json={**base, "redirect_uri": None, "sso_provider": "nope"})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    evil = {**base, "redirect_uri": "https://evil.example/cb", "sso_provider": "corp"}
    r = post(f"{live.base}{AUTHORIZE}", json=evil)
    assert r.status_code == 400 and r.json()["code"] == "invalid_redirect_uri"
    # The start link's token opens no hand-off page and no API call.
    url = _authorize(terminal, verifier)
    start_token = parse_qs(urlsplit(url).query)["cli"][0]
    r = terminal.http.get(f"{live.base}/api/v1/auth/cli/handoff/{start_token}")
    assert r.status_code == 401 and r.json()["code"] == "mfa_token_invalid"


def test_a_forged_id_token_ends_the_hand_off_and_signs_nobody_in(live: Live) -> None:
    person = live.op.add_user(email="cli.forged@example.com")
    terminal, browser = live.browser(), live.browser()
    url = _authorize(terminal, new_verifier())
    callback = browser.to_callback(live.op, person, start_query(url))
    live.op.tamper_next_id_token(foreign_key=True)
    r = browser.callback(callback)
    assert r.status_code == 303
    answer = parse_qs(urlsplit(r.headers["location"]).query)
    assert answer["error"] == ["access_denied"] and "code" not in answer
    assert "could not be verified" in answer["error_description"][0]
    assert live.count(User) == live.count(SsoIdentity) == 0
    # The callback replayed: the flow is spent, nothing more happens.
    assert browser.callback(callback).status_code == 400


def test_the_start_link_opened_six_times_at_once_starts_one_flow(live: Live) -> None:
    url = _authorize(live.browser(), new_verifier())
    answers = race([lambda http: http.get(url) for _ in range(6)])
    assert sorted(r.status_code for r in answers) == [302, 400, 400, 400, 400, 400]
    assert live.count(SsoFlow) == 1


def test_the_terminals_device_token_gets_it_in_after_a_flood(live: Live) -> None:
    """`ankra login --sso` presents the CLI's device token: its second factor counts there,
    so a flood that puts the account into backoff does not lock the terminal out."""
    person = live.op.add_user(email="cli.flooded@example.com")
    first = live.browser()
    assert first.sign_in(live.op, person).status_code == 303
    secret = _enroll_totp(first, live)

    def hand_off(verifier: str, **body: object) -> tuple[SsoBrowser, str]:
        browser = live.browser()
        url = _authorize(browser, verifier, **body)
        return browser, browser.hand_off_page(
            browser.to_callback(live.op, person, start_query(url))
        )

    verifier = new_verifier()
    browser, token = hand_off(verifier)
    done = browser.api(
        "POST", f"/api/v1/auth/cli/handoff/{token}/totp", json={"code": live.code(secret)}
    )
    terminal = _exchange(live, query(done.json()["redirect_url"])["code"][0], verifier).json()
    live.clock.advance(30)

    for _ in range(2):  # someone holding the provider session floods the second factor
        attacker, token = hand_off(new_verifier())
        for _ in range(5):
            attacker.api("POST", f"/api/v1/auth/cli/handoff/{token}/totp", json={"code": "000000"})
    stranger, token = hand_off(new_verifier())
    r = stranger.api(
        "POST", f"/api/v1/auth/cli/handoff/{token}/totp", json={"code": live.code(secret)}
    )
    assert r.status_code == 429 and r.json()["code"] == "rate_limited", r.text

    browser, token = hand_off(verifier, device_token=terminal["device_token"])
    r = browser.api(
        "POST", f"/api/v1/auth/cli/handoff/{token}/totp", json={"code": live.code(secret)}
    )
    assert r.status_code == 200, r.text
