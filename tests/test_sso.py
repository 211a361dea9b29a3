"""Single sign-on against a real OpenID provider (npm oidc-provider on 127.0.0.1), through a
real HTTP server on SQLite and PostgreSQL: the app in-process under uvicorn where the clock
must move, ``ankra-auth serve`` subprocesses for the fleet and key rotation."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from ankra_auth.app import create_app
from ankra_auth.clock import FrozenClock
from ankra_auth.config import Settings
from ankra_auth.events.models import SecurityEvent
from ankra_auth.models import (
    AuthSession,
    MailOutbox,
    SsoFlow,
    SsoIdentity,
    SsoPendingLink,
    User,
)
from ankra_auth.security import totp
from ankra_auth.sso.config import SsoProvider
from tests.helpers import verification_token
from tests.live_server import service_process, threaded_server
from tests.openid_provider import OpenIdProvider, openid_provider  # noqa: F401 - a fixture
from tests.postgres_server import free_port
from tests.race import race
from tests.sso_browser import SsoBrowser

SECRET = "sso-test-secret-" + "s" * 32
PASSWORD = "correct horse battery"
COLLISION = "An Ankra account already uses {email}. Sign in to it to link Acme SSO."


@dataclass
class Live:
    base: str
    clock: FrozenClock
    app: FastAPI
    op: OpenIdProvider
    settings: Settings

    def browser(self) -> SsoBrowser:
        return SsoBrowser(self.base)

    def count(self, model: type, **where: object) -> int:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        with self.app.state.session_factory() as db:
            return int(db.scalar(query) or 0)

    def code(self, secret: str) -> str:
        return totp.code_at_step(secret=secret, step=totp.time_step(self.clock.now()))


def _provider(op: OpenIdProvider, base: str, **extra: object) -> SsoProvider:
    client_id, secret = op.add_client([f"{base}/auth/sso/corp/callback"])
    return SsoProvider.model_validate(
        {
            "id": "corp",
            "name": "Acme SSO",
            "issuer": op.issuer,
            "client_id": client_id,
            "client_secret": secret,
            **extra,
        }
    )


@pytest.fixture
def live(database_url: str, openid_provider: OpenIdProvider) -> Iterator[Live]:  # noqa: F811
    port = free_port()
    base = f"http://localhost:{port}"
    # The provider signs with the wall clock; ours starts there and moves only when told.
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    settings = Settings(
        database_url=database_url,
        secret_key=SECRET,
        public_url=base,
        password_hash_concurrency=4,
        sso_providers=[_provider(openid_provider, base)],
    )
    app = create_app(settings, clock)
    try:
        with threaded_server(app, port):
            yield Live(base, clock, app, openid_provider, settings)
    finally:
        app.state.engine.dispose()


def _local_account(browser: SsoBrowser, email: str) -> None:
    r = browser.api("POST", "/api/v1/users", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text


def _verified_local_account(live: Live, email: str) -> None:
    """A local account whose owner proved the address (the mailed link, opened in a
    browser signed in to it): a provider's identity with that address never replaces it."""
    browser = live.browser()
    _local_account(browser, email)
    _password_login(browser, email)
    with live.app.state.session_factory() as db:
        token = verification_token(db, email, live.settings.secret)
    r = browser.api("POST", "/api/v1/me/email/verify", json={"token": token})
    assert r.status_code == 204, r.text


def _password_login(browser: SsoBrowser, email: str) -> dict[str, object]:
    r = browser.api("POST", "/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    answer: dict[str, object] = r.json()
    return answer


def _enroll_totp(browser: SsoBrowser, live: Live) -> str:
    """TOTP on for the account signed in in ``browser``; returns the secret."""
    r = browser.api("POST", "/api/v1/profile/auth/totp")
    assert r.status_code == 201, r.text
    secret = str(r.json()["secret"])
    r = browser.api("POST", "/api/v1/profile/auth/totp/confirm", json={"code": live.code(secret)})
    assert r.status_code == 200, r.text
    live.clock.advance(30)  # the confirming step is spent
    return secret


def _mfa_token(page: httpx.Response) -> str:
    match = re.search(r'data-mfa-token="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def _events(live: Live, type_: str) -> list[SecurityEvent]:
    with live.app.state.session_factory() as db:
        return list(db.scalars(select(SecurityEvent).where(SecurityEvent.type == type_)))


# ---------------------------------------------------------------- first and second sign-in


def test_first_sign_in_creates_a_passwordless_account_and_the_second_finds_it(live: Live) -> None:
    person = live.op.add_user(email="new.person@example.com")
    browser = live.browser()
    r = browser.sign_in(live.op, person)
    assert r.status_code == 303 and r.headers["location"] == "/profile/authentication"
    me = browser.api("GET", "/api/v1/me").json()
    assert me["email"] == "new.person@example.com" and me["two_factor_enabled"] is False
    links = browser.api("GET", "/api/v1/profile/sso").json()
    assert [(x["provider"], x["email"]) for x in links] == [
        ({"id": "corp", "name": "Acme SSO"}, "new.person@example.com")
    ]
    with live.app.state.session_factory() as db:
        user = db.scalar(select(User).where(User.email == "new.person@example.com"))
        assert user is not None and user.password_hash is None
        identity = db.scalar(select(SsoIdentity))
        assert identity is not None
        assert (identity.issuer, identity.subject) == (live.op.issuer, person.sub)
    sign_ins = _events(live, "sign_in")
    assert [(e.method, e.detail) for e in sign_ins] == [("sso", "corp")]
    assert [e.detail for e in _events(live, "sso_linked")] == ["corp"]

    # Second time, another browser: the same account, found by issuer and sub.
    again = live.browser()
    r = again.sign_in(live.op, person)
    assert r.status_code == 303
    assert again.api("GET", "/api/v1/me").json()["id"] == me["id"]
    assert live.count(User) == 1 and live.count(SsoIdentity) == 1


def test_a_passwordless_account_fails_password_sign_in_like_a_wrong_password(live: Live) -> None:
    person = live.op.add_user(email="nopass@example.com")
    assert live.browser().sign_in(live.op, person).status_code == 303
    browser = live.browser()
    for password in ("", "anything at all", PASSWORD):
        r = browser.api(
            "POST", "/api/v1/auth/login", json={"email": "nopass@example.com", "password": password}
        )
        unknown = browser.api(
            "POST", "/api/v1/auth/login", json={"email": "nobody@example.com", "password": password}
        )
        assert r.status_code == unknown.status_code
        if r.status_code == 401:
            assert r.json()["code"] == unknown.json()["code"] == "invalid_credentials"
            assert r.json()["detail"] == unknown.json()["detail"]


def test_the_providers_list_needs_no_session(live: Live) -> None:
    r = httpx.get(f"{live.base}/api/v1/auth/sso/providers")
    assert r.status_code == 200 and r.json() == [{"id": "corp", "name": "Acme SSO"}]
    page = httpx.get(f"{live.base}/login")
    assert "Sign in with Acme SSO" in page.text and 'href="/auth/sso/corp/start' in page.text


def test_start_sends_pkce_state_nonce_and_reauth_asks_for_a_fresh_login(live: Live) -> None:
    browser = live.browser()
    r = browser.start()
    assert r.status_code == 302
    query = parse_qs(urlsplit(r.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["state"] and query["nonce"] and query["scope"] == ["openid email profile"]
    assert query["redirect_uri"] == [f"{live.base}/auth/sso/corp/callback"]
    assert "prompt" not in query
    person = live.op.add_user(email="fresh@example.com")
    assert browser.sign_in(live.op, person).status_code == 303
    r = browser.start("?reauth=1")
    query = parse_qs(urlsplit(r.headers["location"]).query)
    assert query["prompt"] == ["login"] and query["max_age"] == ["0"]
    assert httpx.get(f"{live.base}/auth/sso/nope/start").status_code == 404


# ---------------------------------------------------------------- second factor after SSO


def test_with_totp_the_second_factor_is_asked_and_wrong_codes_count(live: Live) -> None:
    person = live.op.add_user(email="totp.person@example.com")
    first = live.browser()
    assert first.sign_in(live.op, person).status_code == 303
    secret = _enroll_totp(first, live)

    browser = live.browser()
    page = browser.sign_in(live.op, person)  # the provider claims amr=mfa: never enough here
    assert page.status_code == 200 and browser.session_cookie() is None
    assert 'data-page="sso-second-factor"' in page.text and "Authenticator app code" in page.text
    assert 'data-methods="totp,recovery_code"' in page.text
    token = _mfa_token(page)
    r = browser.api("POST", "/api/v1/auth/mfa/totp", json={"mfa_token": token, "code": "000000"})
    assert r.status_code == 401 and r.json()["code"] == "invalid_code"
    assert r.json()["attempts_remaining"] == 4
    assert browser.api("GET", "/api/v1/me").status_code == 401
    r = browser.api(
        "POST", "/api/v1/auth/mfa/totp", json={"mfa_token": token, "code": live.code(secret)}
    )
    assert r.status_code == 200 and r.json()["status"] == "authenticated"
    assert browser.api("GET", "/api/v1/me").json()["email"] == "totp.person@example.com"
    assert len(_events(live, "second_factor_failed")) == 1
    # The sign-in is named by its first factor, single sign-on, as the contract's event is.
    sign_ins = [(e.method, e.detail) for e in _events(live, "sign_in")]
    assert sign_ins == [("sso", "corp"), ("sso", "corp")]
    current = [x for x in browser.api("GET", "/api/v1/profile/sessions").json() if x["current"]]
    assert [x["method"] for x in current] == ["sso"]


def test_five_wrong_codes_after_sso_void_the_pending_login(live: Live) -> None:
    person = live.op.add_user(email="void@example.com")
    first = live.browser()
    assert first.sign_in(live.op, person).status_code == 303
    _enroll_totp(first, live)
    browser = live.browser()
    token = _mfa_token(browser.sign_in(live.op, person))
    codes = []
    for _ in range(5):
        r = browser.api(
            "POST", "/api/v1/auth/mfa/totp", json={"mfa_token": token, "code": "000000"}
        )
        codes.append(r.json()["code"])
    assert codes == ["invalid_code"] * 4 + ["too_many_attempts"]

    # The account's throttle counts SSO sign-ins like password ones: 10 failures, then 429.
    token = _mfa_token(browser.sign_in(live.op, person))
    for _ in range(5):
        browser.api("POST", "/api/v1/auth/mfa/totp", json={"mfa_token": token, "code": "000000"})
    token = _mfa_token(browser.sign_in(live.op, person))
    r = browser.api("POST", "/api/v1/auth/mfa/totp", json={"mfa_token": token, "code": "000000"})
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert "retry-after" in r.headers


def test_the_owners_browser_still_gets_in_through_sso_after_a_flood(live: Live) -> None:
    """Device tokens count on every way in: the flood puts the account into backoff, but
    the browser that signed in before presents its device cookie at the SSO start, and
    its second factor counts there."""
    person = live.op.add_user(email="flooded@example.com")
    owner = live.browser()
    assert owner.sign_in(live.op, person).status_code == 303
    secret = _enroll_totp(owner, live)
    token = _mfa_token(owner.sign_in(live.op, person))
    r = owner.api(
        "POST", "/api/v1/auth/mfa/totp", json={"mfa_token": token, "code": live.code(secret)}
    )
    assert r.status_code == 200, r.text
    assert owner.http.cookies.get("ankra_device")  # this browser is known now
    live.clock.advance(30)

    attacker = live.browser()  # someone holding the victim's provider session
    for _ in range(2):
        token = _mfa_token(attacker.sign_in(live.op, person))
        for _ in range(5):
            attacker.api(
                "POST", "/api/v1/auth/mfa/totp", json={"mfa_token": token, "code": "000000"}
            )
    stranger = live.browser()
    token = _mfa_token(stranger.sign_in(live.op, person))
    r = stranger.api(
        "POST", "/api/v1/auth/mfa/totp", json={"mfa_token": token, "code": live.code(secret)}
    )
    assert r.status_code == 429 and r.json()["code"] == "rate_limited", r.text

    token = _mfa_token(owner.sign_in(live.op, person))
    r = owner.api(
        "POST", "/api/v1/auth/mfa/totp", json={"mfa_token": token, "code": live.code(secret)}
    )
    assert r.status_code == 200 and r.json()["status"] == "authenticated", r.text


# ---------------------------------------------------------------- email collision


def test_email_collision_links_only_after_the_local_password_and_second_factor(live: Live) -> None:
    email = "local@example.com"
    owner = live.browser()
    _verified_local_account(live, email)
    _password_login(owner, email)
    secret = _enroll_totp(owner, live)

    person = live.op.add_user(email=email)
    browser = live.browser()
    page = browser.sign_in(live.op, person)
    assert page.status_code == 200 and browser.session_cookie() is None
    assert COLLISION.format(email=email) in page.text
    assert live.count(SsoIdentity) == 0 and live.count(User) == 1

    # The owner signing in from another browser links nothing.
    elsewhere = live.browser()
    token = _password_login(elsewhere, email)["mfa_token"]
    r = elsewhere.api(
        "POST", "/api/v1/auth/mfa/totp", json={"mfa_token": token, "code": live.code(secret)}
    )
    assert r.status_code == 200
    live.clock.advance(30)
    assert live.count(SsoIdentity) == 0

    # In this browser: the password alone is not enough...
    answer = _password_login(browser, email)
    assert answer["status"] == "mfa_required" and live.count(SsoIdentity) == 0
    # ...the password and the second factor are.
    r = browser.api(
        "POST",
        "/api/v1/auth/mfa/totp",
        json={"mfa_token": answer["mfa_token"], "code": live.code(secret)},
    )
    assert r.status_code == 200
    assert live.count(SsoIdentity) == 1
    assert [e.detail for e in _events(live, "sso_linked")] == ["corp"]
    live.clock.advance(30)

    # From now on the provider signs in to that account, still with its second factor.
    later = live.browser()
    page = later.sign_in(live.op, person)
    assert page.status_code == 200 and 'data-page="sso-second-factor"' in page.text
    assert live.count(User) == 1


def test_a_pending_link_works_once_and_only_for_its_account(live: Live) -> None:
    email, other = "owner2@example.com", "other2@example.com"
    browser = live.browser()
    _verified_local_account(live, email)
    _local_account(browser, other)
    person = live.op.add_user(email=email)
    assert COLLISION.format(email=email) in browser.sign_in(live.op, person).text
    assert _password_login(browser, other)["status"] == "authenticated"
    assert live.count(SsoIdentity) == 0  # another account signed in: not linked to it
    live.clock.advance(11 * 60)  # and the pending link expires after 10 minutes
    assert _password_login(browser, email)["status"] == "authenticated"
    assert live.count(SsoIdentity) == 0


# ---------------------------------------------------------------- pre-account hijacking


def test_an_unverified_account_never_blocks_the_addresss_owner(live: Live) -> None:
    """Someone signed up with a colleague's address (never proved) and set up 2FA: the
    colleague's first sign-in through the provider gets an account of its own, and the
    squatter's account is closed: its session ends and its password no longer signs in."""
    email = "colleague@example.com"
    squatter = live.browser()
    _local_account(squatter, email)
    _password_login(squatter, email)
    _enroll_totp(squatter, live)
    assert squatter.api("GET", "/api/v1/me").status_code == 200

    person = live.op.add_user(email=email)
    colleague = live.browser()
    page = colleague.sign_in(live.op, person)
    assert page.status_code == 303 and page.headers["location"] == "/profile/authentication"
    me = colleague.api("GET", "/api/v1/me").json()
    assert (me["email"], me["email_verified"], me["two_factor_enabled"]) == (email, True, False)

    with live.app.state.session_factory() as db:
        [closed] = db.scalars(select(User).where(User.id != me["id"])).all()
        assert closed.closed_at is not None and closed.email != email
        assert closed.password_hash is None
        [link] = db.scalars(select(SsoIdentity)).all()
        assert link.user_id == me["id"]  # never linked to the squatter's account
        # Nothing to tell anyone: the new account's creation is its first sign-in.
        assert db.scalars(select(MailOutbox.kind).where(MailOutbox.user_id == me["id"])).all() == []
    assert [e.type for e in _events(live, "account_closed")] == ["account_closed"]

    assert squatter.api("GET", "/api/v1/me").status_code == 401  # its session ended
    r = squatter.api("POST", "/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"
    # and the provider signs the colleague in again, to the same account
    again = live.browser().sign_in(live.op, person)
    assert again.status_code == 303 and live.count(User) == 2


def test_without_sign_up_an_unverified_account_is_left_alone(
    database_url: str,
    openid_provider: OpenIdProvider,  # noqa: F811
) -> None:
    """No account of its own can be made: the identity is refused, and never linked."""
    port = free_port()
    base = f"http://localhost:{port}"
    settings = Settings(
        database_url=database_url,
        secret_key=SECRET,
        public_url=base,
        sso_providers=[_provider(openid_provider, base, allow_signup=False)],
    )
    app = create_app(settings)
    try:
        with threaded_server(app, port):
            browser = SsoBrowser(base)
            _local_account(browser, "held@example.com")
            person = openid_provider.add_user(email="held@example.com")
            page = SsoBrowser(base).sign_in(openid_provider, person)
            assert page.status_code == 403 and "cannot be created" in page.text
            assert _password_login(browser, "held@example.com")["status"] == "authenticated"
            with app.state.session_factory() as db:
                assert db.scalar(select(func.count()).select_from(SsoIdentity)) == 0
                assert db.scalar(select(func.count()).select_from(SsoPendingLink)) == 0
    finally:
        app.state.engine.dispose()


# ---------------------------------------------------------------- refused identities


@pytest.mark.parametrize(
    "email, verified",
    [("unverified@example.com", False), ("noflag@example.com", None), (None, None)],
)
def test_unverified_or_missing_email_is_refused_and_nothing_stored(
    live: Live, email: str | None, verified: bool | None
) -> None:
    person = live.op.add_user(email=email, email_verified=verified)
    browser = live.browser()
    page = browser.sign_in(live.op, person)
    assert page.status_code == 403 and "did not confirm your email address" in page.text
    assert browser.session_cookie() is None
    assert live.count(User) == live.count(SsoIdentity) == live.count(SsoPendingLink) == 0


def test_an_unverified_email_never_links_an_existing_account(live: Live) -> None:
    browser = live.browser()
    _local_account(browser, "victim@example.com")
    person = live.op.add_user(email="victim@example.com", email_verified=False)
    page = browser.sign_in(live.op, person)
    assert page.status_code == 403 and live.count(SsoPendingLink) == 0


def test_without_allow_signup_a_new_identity_is_refused(
    database_url: str,
    openid_provider: OpenIdProvider,  # noqa: F811
) -> None:
    port = free_port()
    base = f"http://localhost:{port}"
    settings = Settings(
        database_url=database_url,
        secret_key=SECRET,
        public_url=base,
        sso_providers=[_provider(openid_provider, base, allow_signup=False)],
    )
    app = create_app(settings)
    try:
        with threaded_server(app, port):
            person = openid_provider.add_user(email="nosignup@example.com")
            page = SsoBrowser(base).sign_in(openid_provider, person)
            assert page.status_code == 403 and "cannot be created" in page.text
    finally:
        app.state.engine.dispose()


# ---------------------------------------------------------------- forged and replayed


def test_a_replayed_callback_is_refused_and_signs_nobody_in(live: Live) -> None:
    person = live.op.add_user(email="replay@example.com")
    browser = live.browser()
    url = browser.to_callback(live.op, person)
    assert browser.callback(url).status_code == 303
    sessions = live.count(AuthSession)
    again = browser.callback(url)
    assert again.status_code == 400 and "already used" in again.text
    assert "set-cookie" not in {k.lower() for k in again.headers}
    assert live.count(AuthSession) == sessions


def test_forged_callbacks_are_refused(live: Live) -> None:
    person = live.op.add_user(email="forged@example.com")
    browser = live.browser()
    url = browser.to_callback(live.op, person)
    parts = urlsplit(url)
    query = parse_qs(parts.query)

    def variant(**change: str) -> str:
        params = {k: v[0] for k, v in query.items()} | change
        return urlunsplit(parts._replace(query=urlencode(params)))

    # Someone else's browser (no flow cookie): a sent link completes nothing (login CSRF).
    stranger = live.browser()
    r = stranger.callback(url)
    assert r.status_code == 400 and stranger.session_cookie() is None
    # A state nobody issued, a missing state, a provider error, another issuer (mix-up).
    for forged in (
        variant(state=secrets.token_urlsafe(32)),
        variant(state=""),
        f"{live.base}/auth/sso/corp/callback?error=access_denied&state=x",
    ):
        r = browser.callback(forged)
        assert r.status_code == 400, (forged, r.text)
        assert browser.session_cookie() is None
    assert live.count(User) == live.count(AuthSession) == 0


def test_a_provider_error_spends_the_state(live: Live) -> None:
    browser = live.browser()
    state = parse_qs(urlsplit(browser.start().headers["location"]).query)["state"][0]
    r = browser.callback(f"{live.base}/auth/sso/corp/callback?error=access_denied&state={state}")
    assert r.status_code == 400 and "did not sign you in" in r.text
    assert live.count(SsoFlow, used_at=None) == 0


def test_a_flow_expires_after_ten_minutes(live: Live) -> None:
    person = live.op.add_user(email="slow@example.com")
    browser = live.browser()
    url = browser.to_callback(live.op, person)
    live.clock.advance(10 * 60 + 1)
    assert browser.callback(url).status_code == 400
    assert live.count(User) == 0


@pytest.mark.parametrize(
    "change",
    [{"nonce": "not-the-nonce"}, {"aud": "someone-else"}, {"foreign_key": True}],
    ids=["wrong-nonce", "wrong-audience", "foreign-key"],
)
def test_invalid_id_tokens_are_refused(live: Live, change: dict[str, object]) -> None:
    person = live.op.add_user(email="tampered@example.com")
    browser = live.browser()
    url = browser.to_callback(live.op, person)
    live.op.tamper_next_id_token(**change)
    r = browser.callback(url)
    assert r.status_code == 400 and "could not be verified" in r.text
    assert browser.session_cookie() is None
    assert live.count(User) == live.count(SsoIdentity) == live.count(AuthSession) == 0


# ---------------------------------------------------------------- organisations


def test_org_enforcement_applies_after_sso(live: Live) -> None:
    admin = live.browser()
    _local_account(admin, "admin@example.com")
    _password_login(admin, "admin@example.com")
    _enroll_totp(admin, live)
    person = live.op.add_user(email="member@example.com")
    member = live.browser()
    assert member.sign_in(live.op, person).status_code == 303
    org = admin.api("POST", "/api/v1/orgs", json={"name": "Acme"}).json()
    r = admin.api("POST", f"/api/v1/orgs/{org['id']}/members", json={"email": "member@example.com"})
    assert r.status_code == 201, r.text
    # Membership needs the member's consent: the SSO account accepts its invitation.
    (invitation,) = member.api("GET", "/api/v1/invitations").json()
    r = member.api("POST", f"/api/v1/invitations/{invitation['id']}/accept")
    assert r.status_code == 200, r.text
    r = admin.api("PATCH", f"/api/v1/orgs/{org['id']}", json={"require_two_factor": True})
    assert r.status_code == 200, r.text

    again = live.browser()
    r = again.sign_in(live.op, person)
    assert r.status_code == 303 and r.headers["location"].startswith("/secure-account")
    blocked = again.api("GET", "/api/v1/profile/sso")
    assert blocked.status_code == 403 and blocked.json()["code"] == "enrollment_required"


# ---------------------------------------------------------------- linking and unlinking


def test_linking_from_the_profile_ignores_the_email_and_refuses_a_taken_identity(
    live: Live,
) -> None:
    browser = live.browser()
    _local_account(browser, "linker@example.com")
    _password_login(browser, "linker@example.com")
    person = live.op.add_user(email="different@elsewhere.example", email_verified=False)
    page = browser.link(live.op, person)
    # Nothing is linked before the person says so, on a page naming both accounts.
    assert page.status_code == 200, page.text
    question = "Link Acme SSO account different@elsewhere.example to your Ankra account linker@example.com?"
    assert question in page.text
    assert browser.api("GET", "/api/v1/profile/sso").json() == []
    r = browser.confirm_link(page)
    assert r.status_code == 303 and r.headers["location"] == "/profile/authentication"
    links = browser.api("GET", "/api/v1/profile/sso").json()
    assert [x["provider"]["id"] for x in links] == ["corp"]
    assert browser.confirm_link(page).status_code == 403  # once: nothing is held any more

    other = live.browser()
    _local_account(other, "other@example.com")
    _password_login(other, "other@example.com")
    page = other.link(live.op, person)
    assert page.status_code == 409 and "already linked to another Ankra account" in page.text
    assert other.api("GET", "/api/v1/profile/sso").json() == []


def test_a_link_from_elsewhere_links_nothing(live: Live) -> None:
    """Link CSRF: a cross-site navigation or POST starts nothing, and a confirmation works
    only for the session and browser that asked."""
    browser = live.browser()
    _local_account(browser, "csrf@example.com")
    _password_login(browser, "csrf@example.com")
    person = live.op.add_user(email="attacker@corp.example")
    # A link someone sent (a GET, as any navigation): nothing starts.
    page = browser.start("?link=1&next=/profile/authentication")
    assert page.status_code == 400 and "from your profile" in page.text
    # Another site posting to the link route with the victim's cookie: refused.
    r = browser.http.post(
        f"{live.base}/api/v1/profile/sso/corp/link", headers={"Origin": "https://evil.example"}
    )
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    assert live.count(SsoFlow) == 0
    # The attacker's own confirmation page, posted from the victim's browser: nothing.
    attacker = live.browser()
    _local_account(attacker, "attacker@example.com")
    _password_login(attacker, "attacker@example.com")
    theirs = attacker.link(live.op, person)
    assert theirs.status_code == 200
    token = re.search(r'name="confirmation" value="([^"]+)"', theirs.text)
    assert token is not None
    r = browser.http.post(
        f"{live.base}/auth/sso/corp/link/confirm",
        data={"confirmation": token.group(1)},
        headers={"Origin": live.base},
    )
    assert r.status_code == 403  # not theirs: nothing is linked
    assert browser.api("GET", "/api/v1/profile/sso").json() == []
    assert live.count(SsoIdentity) == 0


def test_link_needs_a_signed_in_session_that_is_not_restricted(live: Live) -> None:
    browser = live.browser()
    r = browser.api("POST", "/api/v1/profile/sso/corp/link")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    # A restricted session (its organisation requires 2FA) can neither link nor unlink.
    _local_account(browser, "restricted@example.com")
    _password_login(browser, "restricted@example.com")
    with live.app.state.session_factory() as db:  # accepting needs a verified address
        token = verification_token(db, "restricted@example.com", live.settings.secret)
    assert browser.api("POST", "/api/v1/me/email/verify", json={"token": token}).is_success
    owner = live.browser()
    _local_account(owner, "owner.restricts@example.com")
    _password_login(owner, "owner.restricts@example.com")
    _enroll_totp(owner, live)
    org = owner.api("POST", "/api/v1/orgs", json={"name": "Strict"}).json()["id"]
    owner.api("POST", f"/api/v1/orgs/{org}/members", json={"email": "restricted@example.com"})
    (invitation,) = browser.api("GET", "/api/v1/invitations").json()
    assert browser.api("POST", f"/api/v1/invitations/{invitation['id']}/accept").status_code == 200
    assert owner.api("PATCH", f"/api/v1/orgs/{org}", json={"require_two_factor": True}).is_success
    r = browser.api("POST", "/api/v1/profile/sso/corp/link")
    assert r.status_code == 403 and r.json()["code"] == "enrollment_required"
    r = browser.api("DELETE", "/api/v1/profile/sso/corp")
    assert r.status_code == 403 and r.json()["code"] == "enrollment_required"


def test_unlink_rules(live: Live) -> None:
    # A password-less account keeps its last link.
    person = live.op.add_user(email="lastlink@example.com")
    sso_only = live.browser()
    assert sso_only.sign_in(live.op, person).status_code == 303
    r = sso_only.api("DELETE", "/api/v1/profile/sso/corp")
    assert r.status_code == 409 and r.json()["code"] == "last_sign_in_method"
    r = sso_only.api("DELETE", "/api/v1/profile/sso/other")
    assert r.status_code == 404 and r.json()["code"] == "not_found"

    # An account with a password may unlink, after a recent check.
    browser = live.browser()
    _local_account(browser, "unlinker@example.com")
    _password_login(browser, "unlinker@example.com")
    linked = live.op.add_user(email="unlinker@corp.example")
    assert browser.confirm_link(browser.link(live.op, linked)).status_code == 303
    # Without ?reauth the provider's remembered session answers without asking.
    logins = browser.provider_logins
    assert browser.link(live.op, linked).status_code == 303  # linked already: back to the profile
    assert browser.provider_logins == logins
    live.clock.advance(11 * 60)
    r = browser.api("DELETE", "/api/v1/profile/sso/corp")
    assert r.status_code == 403 and r.json()["code"] == "reauthentication_required"
    # Re-authenticating with the provider asks it for a fresh login (its form again).
    logins = browser.provider_logins
    url = browser.to_callback(live.op, linked, "?reauth=1&next=/profile/authentication")
    assert browser.provider_logins == logins + 1
    assert browser.callback(url).status_code == 303
    r = browser.api("DELETE", "/api/v1/profile/sso/corp")
    assert r.status_code == 204
    assert browser.api("GET", "/api/v1/profile/sso").json() == []
    assert [e.detail for e in _events(live, "sso_unlinked")] == ["corp"]
    assert [e.method for e in _events(live, "reauthenticated")] == ["sso"]


def test_reauth_with_an_identity_of_another_account_is_refused(live: Live) -> None:
    stranger = live.op.add_user(email="stranger@example.com")
    assert live.browser().sign_in(live.op, stranger).status_code == 303
    browser = live.browser()
    _local_account(browser, "reauther@example.com")
    _password_login(browser, "reauther@example.com")
    live.clock.advance(11 * 60)
    page = browser.sign_in(live.op, stranger, "?reauth=1")
    assert page.status_code == 403
    assert (
        browser.api("DELETE", "/api/v1/profile/sso/corp").json()["code"]
        == "reauthentication_required"
    )


# ---------------------------------------------------------------- processes: fleet, keys


def _serve_env(op: OpenIdProvider, public_url: str) -> dict[str, str]:
    client_id, secret = op.add_client([f"{public_url}/auth/sso/corp/callback"])
    return {
        "ANKRA_SSO_PROVIDERS": op.providers_env(client_id, secret),
        "ANKRA_PUBLIC_URL": public_url,
        "ANKRA_ALLOWED_ORIGINS": public_url,
    }


@contextmanager
def two_instances(
    database_url: str, op: OpenIdProvider, tmp_path: Path
) -> Iterator[tuple[str, str, str]]:
    """Two service processes on one database behind one public URL (the test is the load
    balancer): yields the public URL and the two instances' own."""
    public = f"http://localhost:{free_port()}"
    env = _serve_env(op, public)
    with (
        service_process(database_url, log_path=tmp_path / "a.log", extra_env=env) as a,
        service_process(database_url, log_path=tmp_path / "b.log", extra_env=env) as b,
    ):
        yield public, a, b


def test_a_flow_started_on_one_instance_finishes_on_another(
    database_url: str,
    openid_provider: OpenIdProvider,  # noqa: F811
    tmp_path: Path,
) -> None:
    with two_instances(database_url, openid_provider, tmp_path) as (public, a, b):
        person = openid_provider.add_user(email="fleet@example.com")
        browser = SsoBrowser(a)
        url = browser.to_callback(openid_provider, person)  # started on A
        cookie = {"Cookie": f"ankra_sso={browser.http.cookies['ankra_sso']}"}
        # The same callback six times at once, on both instances: one finishes it, on B or A.
        answers = race(
            [
                (lambda http, base=base: http.get(url.replace(public, base), headers=cookie))
                for base in (b, a, b, a, b, a)
            ]
        )
        assert sorted(r.status_code for r in answers) == [303, 400, 400, 400, 400, 400]
        (won,) = [r for r in answers if r.status_code == 303]
        token = won.cookies["ankra_session"]
        for base in (a, b):
            me = httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert me.json()["email"] == "fleet@example.com"
        # Another flow, started on B this time, finished on A.
        browser_b = SsoBrowser(b)
        r = browser_b.callback(browser_b.to_callback(openid_provider, person).replace(public, a))
        assert r.status_code == 303


def test_key_rotation_at_the_provider_needs_no_restart(
    database_url: str,
    openid_provider: OpenIdProvider,  # noqa: F811
    tmp_path: Path,
) -> None:
    public = f"http://localhost:{free_port()}"
    env = _serve_env(openid_provider, public)
    with service_process(database_url, log_path=tmp_path / "s.log", extra_env=env) as base:
        person = openid_provider.add_user(email="rotation@example.com")
        for rotate in (False, True, True):
            if rotate:  # the old key is gone: the service must refetch the JWKS by itself
                openid_provider.rotate_keys()
            browser = SsoBrowser(base)
            url = browser.to_callback(openid_provider, person).replace(public, base)
            r = browser.callback(url)
            assert r.status_code == 303, r.text
