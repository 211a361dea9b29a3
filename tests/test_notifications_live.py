"""Notifications end to end: ``ankra-auth serve`` processes, a real SMTP server (aiosmtpd,
its own process), a real OpenID provider, on SQLite and PostgreSQL.

Every mail of the contract's table arrives once, to its owner only, with its plain-text
and HTML parts, the IP address, the device and the sessions link; a known device sends
no new-device mail; an unverified address gets the verification mail and nothing else;
two instances deliver each mail once; an SMTP outage delays a mail but loses and repeats
none; an instance killed while it sends leaves the mail to another (same Message-ID).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from ankra_auth.config import Settings
from ankra_auth.db import make_engine, make_session_factory
from ankra_auth.notify.models import MailOutbox
from tests.helpers import verification_token
from tests.live_server import SECRET, spawn_service, wait_ready
from tests.mail_server import MailServer, Received
from tests.openid_provider import OpenIdProvider, openid_provider  # noqa: F401 - a fixture
from tests.postgres_server import free_port
from tests.processes import stop
from tests.soft_authenticator import SoftAuthenticator
from tests.sso_browser import SsoBrowser

PASSWORD = "correct horse battery"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
QUIET = 4.0  # seconds of watching for a copy after the expected mails arrived

SUBJECTS = {
    "verify_email": "Verify your email address for Ankra",
    "sign_in": "New sign-in to your Ankra account",
    "pending_login_voided": "Someone used your password but failed the second step",
    "totp_enabled": "An authenticator app was set up for your Ankra account",
    "totp_removed": "An authenticator app was removed from your Ankra account",
    "passkey_added": "A passkey was added to your Ankra account",
    "passkey_removed": "A passkey was removed from your Ankra account",
    "recovery_codes_regenerated": "New recovery codes for your Ankra account",
    "recovery_code_used": "A recovery code was used to sign in to your Ankra account",
    "two_factor_disabled": "Two-factor authentication is now off",
    "two_factor_reset_by_admin": "Two-factor authentication is now off",
    "sso_linked": "Single sign-on was linked to your Ankra account",
    "sso_unlinked": "Single sign-on was unlinked from your Ankra account",
    "session_revoked": "Your Ankra account was signed out elsewhere",
}


# ---------------------------------------------------------------------------- the set-up


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[MailServer]:
    server = MailServer(tmp_path / "smtp").start()
    yield server
    server.stop()


class Service:
    """``ankra-auth serve`` with notifications on; ``kill()`` is SIGKILL, as a crash."""

    def __init__(self, database_url: str, log: Path, env: dict[str, str], port: int) -> None:
        self.base = f"http://localhost:{port}"
        self.log = log
        self.process = spawn_service(database_url, port=port, log_path=log, extra_env=env)
        wait_ready(self.base, self.process, log)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            stop(self.process)


@contextmanager
def services(
    database_url: str,
    tmp_path: Path,
    smtp: MailServer,
    count: int = 1,
    *,
    timeout: int = 3,
    extra: dict[str, str] | None = None,
    port: int | None = None,
) -> Iterator[list[Service]]:
    ports = [port or free_port(), *(free_port() for _ in range(count - 1))]
    bases = [f"http://localhost:{p}" for p in ports]
    env = {
        "ANKRA_SMTP_URL": smtp.url(f"timeout={timeout}"),
        "ANKRA_MAIL_BURST_SECONDS": "1",
        "ANKRA_PUBLIC_URL": bases[0],
        # The test is the load balancer: pages may call any instance by its own address.
        "ANKRA_ALLOWED_ORIGINS": ",".join(bases),
        **(extra or {}),
    }
    started: list[Service] = []
    try:
        for i, own in enumerate(ports):
            started.append(Service(database_url, tmp_path / f"serve-{i}.log", env, own))
        yield started
    finally:
        for service in started:
            service.stop()


def outbox(database_url: str) -> list[MailOutbox]:
    engine = make_engine(Settings(database_url=database_url, secret_key=SECRET))
    try:
        with make_session_factory(engine)() as db:
            return list(db.scalars(select(MailOutbox)))
    finally:
        engine.dispose()


def token_for(database_url: str, email: str) -> str:
    engine = make_engine(Settings(database_url=database_url, secret_key=SECRET))
    try:
        with make_session_factory(engine)() as db:
            return verification_token(db, email, SECRET.encode())
    finally:
        engine.dispose()


class Person:
    """Someone using the pages' API from a browser of their own (its cookies, Firefox)."""

    def __init__(self, base: str, email: str) -> None:
        self.base, self.email = base, email
        self.browser = SsoBrowser(base)
        self.browser.http.headers["User-Agent"] = FIREFOX
        self.totp_secret = ""
        self.recovery_codes: list[str] = []
        self.last_step = -1

    def api(self, method: str, path: str, status: int | None = 200, **kwargs: Any) -> Any:
        r = self.browser.api(method, path, **kwargs)
        if status is not None:
            assert r.status_code == status, r.text
        return r.json() if r.content else None

    def sign_up(self) -> Person:
        self.api("POST", "/api/v1/users", 201, json={"email": self.email, "password": PASSWORD})
        return self

    def sign_in(self) -> dict[str, Any]:
        body = {"email": self.email, "password": PASSWORD}
        answer: dict[str, Any] = self.api("POST", "/api/v1/auth/login", json=body)
        return answer

    def another_device(self) -> Person:
        """The same person in a browser this account has never seen."""
        other = Person(self.base, self.email)
        other.totp_secret, other.recovery_codes = self.totp_secret, self.recovery_codes
        return other

    def code(self) -> str:
        while True:
            now = int(time.time()) // 30
            step = max(now, self.last_step + 1)
            if step <= now + 1:
                self.last_step = step
                return str(pyotp.TOTP(self.totp_secret).generate_otp(step))
            time.sleep(0.5)

    def enroll_totp(self) -> None:
        self.totp_secret = self.api("POST", "/api/v1/profile/auth/totp", 201)["secret"]
        confirmed = self.api(
            "POST", "/api/v1/profile/auth/totp/confirm", json={"code": self.code()}
        )
        self.recovery_codes = confirmed["recovery_codes"] or self.recovery_codes

    def add_passkey(self, name: str) -> str:
        options = self.api("POST", "/api/v1/profile/auth/passkeys/options")
        credential = SoftAuthenticator().create(options, origin=self.base)
        body = {"name": name, "credential": credential}
        return str(
            self.api("POST", "/api/v1/profile/auth/passkeys", 201, json=body)["passkey"]["id"]
        )


class Inbox:
    """What reached the SMTP server, told apart by Message-ID."""

    def __init__(self, smtp: MailServer) -> None:
        self.smtp = smtp
        self.seen = 0

    def expect(self, count: int, what: str, timeout: float = 30) -> list[Received]:
        """The next ``count`` mails (they arrive within the burst, the poll and a send)."""
        target = self.seen + count
        got = self.smtp.wait_for(lambda m: len(m) >= target, timeout=timeout, what=what)
        fresh = got[self.seen : target]
        self.seen = target
        return fresh


def assert_told(mail: Received, kind: str, to: str, *, where: bool = True) -> None:
    assert mail.subject == SUBJECTS[kind], (mail.subject, kind)
    assert mail.rcpt_tos == [to] and mail.message["To"] == to
    text, html = mail.part("plain"), mail.part("html")
    if kind == "verify_email":
        return
    for part in (text, html):
        assert "/profile/authentication#sessions" in part
        if where:
            assert "127.0.0.1" in part, part  # the IP address
            assert "Firefox on Linux" in part, part  # the device


# ---------------------------------------------------------------------------- the table


def test_every_mail_of_the_table_arrives_once_to_its_owner_only(
    database_url: str,
    tmp_path: Path,
    smtp: MailServer,
    openid_provider: OpenIdProvider,  # noqa: F811
) -> None:
    op = openid_provider
    port = free_port()
    base = f"http://localhost:{port}"
    client_id, client_secret = op.add_client([f"{base}/auth/sso/corp/callback"])
    extra = {"ANKRA_SSO_PROVIDERS": op.providers_env(client_id, client_secret)}
    inbox = Inbox(smtp)
    with services(database_url, tmp_path, smtp, extra=extra, port=port):
        alice = Person(base, "alice@example.com").sign_up()
        bob = Person(base, "bob@example.com").sign_up()  # never proves his address
        for verification in inbox.expect(2, "the verification mails"):
            assert verification.subject == SUBJECTS["verify_email"]
        alice.sign_in()  # her first sign-in: no news
        alice.api(
            "POST",
            "/api/v1/me/email/verify",
            204,
            json={"token": token_for(database_url, alice.email)},
        )

        def told(kind: str, action: Callable[[], object], *, where: bool = True) -> Received:
            action()
            [mail] = inbox.expect(1, kind)
            assert_told(mail, kind, alice.email, where=where)
            return mail

        laptop = alice.another_device()
        mail = told("sign_in", laptop.sign_in)
        assert "Method: Password" in mail.part("plain")
        laptop.sign_in()  # the same browser again: its device token is known (no mail)

        told("totp_enabled", alice.enroll_totp)
        passkey = ""

        def add_passkey() -> None:
            nonlocal passkey
            passkey = alice.add_passkey("YubiKey")

        assert "YubiKey" in told("passkey_added", add_passkey).part("plain")
        told(
            "passkey_removed",
            lambda: alice.api("DELETE", f"/api/v1/profile/auth/passkeys/{passkey}", 204),
        )
        codes = alice.api("POST", "/api/v1/profile/auth/recovery-codes")["recovery_codes"]
        [mail] = inbox.expect(1, "recovery_codes_regenerated")
        assert_told(mail, "recovery_codes_regenerated", alice.email)

        phone = alice.another_device()
        token = phone.sign_in()["mfa_token"]
        phone.api(
            "POST", "/api/v1/auth/mfa/recovery-code", json={"mfa_token": token, "code": codes[0]}
        )
        two = {m.subject: m for m in inbox.expect(2, "a recovery code used, from a new device")}
        assert set(two) == {SUBJECTS["recovery_code_used"], SUBJECTS["sign_in"]}
        assert_told(two[SUBJECTS["recovery_code_used"]], "recovery_code_used", alice.email)
        assert "Recovery codes left: 9" in two[SUBJECTS["recovery_code_used"]].part("plain")
        assert "Method: Recovery code" in two[SUBJECTS["sign_in"]].part("plain")

        def fail_five_times() -> None:
            stranger = alice.another_device()
            token = stranger.sign_in()["mfa_token"]
            for _ in range(5):
                stranger.api(
                    "POST",
                    "/api/v1/auth/mfa/totp",
                    None,
                    json={"mfa_token": token, "code": "000000"},
                )

        assert "change your password" in told("pending_login_voided", fail_five_times).part("plain")

        person = op.add_user(email="alice.sso@example.com")

        def link() -> None:
            page = alice.browser.link(op, person)
            assert alice.browser.confirm_link(page).status_code == 303

        assert "Acme SSO" in told("sso_linked", link).part("plain")
        told("sso_unlinked", lambda: alice.api("DELETE", "/api/v1/profile/sso/corp", 204))

        mail = told("session_revoked", lambda: alice.api("DELETE", "/api/v1/profile/sessions", 204))
        assert "3 sessions of your Ankra account were signed out at once" in mail.part("plain")

        told("passkey_added", add_passkey)
        told("totp_removed", lambda: alice.api("DELETE", "/api/v1/profile/auth/totp", 204))
        told("two_factor_disabled", lambda: alice.api("DELETE", "/api/v1/profile/auth", 204))

        alice.enroll_totp()
        inbox.expect(1, "totp_enabled again")
        reset = subprocess.run(
            [sys.executable, "-m", "ankra_auth", "users", "reset-2fa", alice.email],
            env={**os.environ, "ANKRA_DATABASE_URL": database_url, "ANKRA_SECRET_KEY": SECRET},
            capture_output=True,
            text=True,
            check=False,
        )
        assert reset.returncode == 0, reset.stderr
        by_admin = {m.subject: m for m in inbox.expect(2, "the administrator's reset")}
        assert set(by_admin) == {SUBJECTS["two_factor_reset_by_admin"], SUBJECTS["session_revoked"]}
        for mail in by_admin.values():
            assert mail.rcpt_tos == [alice.email]
            assert "ankra-auth admin" in mail.part("plain") or "Unknown device" in mail.part(
                "plain"
            )

        # Bob changed as much and was told nothing: his address is unproven.
        bob.sign_in()
        bob.enroll_totp()
        bob.api("DELETE", "/api/v1/profile/sessions", 204)
        time.sleep(QUIET)

    received = smtp.received()
    rows = outbox(database_url)
    # Each mail once, each row sent, nothing else: counted by Message-ID.
    by_id = Counter(m.message_id for m in received)
    assert all(n == 1 for n in by_id.values()), by_id
    assert {f"<{r.id}@localhost>" for r in rows} == set(by_id)
    assert {r.state for r in rows} == {"sent"}
    to_bob = [m for m in received if "bob@example.com" in m.rcpt_tos]
    assert [m.subject for m in to_bob] == [SUBJECTS["verify_email"]]
    assert {r.kind for r in rows} - {"verify_email"} == set(SUBJECTS) - {"verify_email"}
    assert all(m.mail_from == "no-reply@localhost" for m in received)


# ---------------------------------------------------------------------------- the fleet


def test_two_instances_deliver_each_mail_once(
    database_url: str, tmp_path: Path, smtp: MailServer
) -> None:
    with services(database_url, tmp_path, smtp, count=2) as instances:
        people = []
        for i in range(16):
            base = instances[i % 2].base
            people.append(Person(base, f"user{i}@example.com").sign_up())
        # Each verification mail out before its link is used (a link used first is not sent).
        smtp.wait_for(lambda got: len(got) >= len(people), timeout=60, what="16 mails")
        for i, person in enumerate(people):
            person.base = person.browser.base = instances[(i + 1) % 2].base
            person.sign_in()
            token = token_for(database_url, person.email)
            person.api("POST", "/api/v1/me/email/verify", 204, json={"token": token})
            person.another_device().sign_in()  # a new device: one more mail each
        expected = 32
        smtp.wait_for(lambda got: len(got) >= expected, timeout=60, what="32 mails")
        time.sleep(QUIET * 2)
        logs = [service.log.read_text() for service in instances]
    received = smtp.received()
    by_id = Counter(m.message_id for m in received)
    assert len(received) == expected and all(n == 1 for n in by_id.values()), by_id
    assert {f"<{r.id}@localhost>" for r in outbox(database_url)} == set(by_id)
    assert sum(log.count("mail sent to") for log in logs) == expected


# ---------------------------------------------------------------------------- failures


def test_an_outage_delays_mail_and_loses_or_repeats_none(
    database_url: str, tmp_path: Path, smtp: MailServer
) -> None:
    with services(database_url, tmp_path, smtp) as [service]:
        smtp.stop()
        Person(service.base, "patient@example.com").sign_up()
        deadline = time.monotonic() + 30
        while service.log.read_text().count("trying again in") < 2:
            assert time.monotonic() < deadline, service.log.read_text()
            time.sleep(0.2)
        smtp.start()  # the same port, some seconds later
        [mail] = smtp.wait_for(lambda got: len(got) == 1, timeout=60)
        time.sleep(QUIET)
    assert len(smtp.received()) == 1
    [row] = outbox(database_url)
    assert row.state == "sent" and row.attempts >= 3
    assert mail.message_id == f"<{row.id}@localhost>"


def test_an_instance_killed_while_sending_leaves_the_mail_to_another(
    database_url: str, tmp_path: Path, smtp: MailServer
) -> None:
    """Killed after the server took the message, before it said so: another instance
    sends it again once the claim's lease runs out (6 x the 3 s timeout + 5 s); the copy
    has the same Message-ID, so a mail system can drop it."""
    smtp.set_mode("stall 30")  # take the message, then keep the sender waiting
    with services(database_url, tmp_path, smtp, timeout=3) as [doomed]:
        Person(doomed.base, "crash@example.com").sign_up()
        smtp.wait_for(lambda got: len(got) == 1, what="the first copy")
        doomed.kill()  # SIGKILL, mid-send
    [row] = outbox(database_url)
    assert row.state == "sending"
    smtp.stop()
    smtp.set_mode("ok")
    smtp.start()
    with services(database_url, tmp_path, smtp, timeout=3):
        smtp.wait_for(lambda got: len(got) == 2, timeout=60, what="the mail again")
        time.sleep(QUIET)
    received = smtp.received()
    assert len(received) == 2
    assert {m.message_id for m in received} == {f"<{row.id}@localhost>"}
    [row] = outbox(database_url)
    assert row.state == "sent" and row.attempts == 2
