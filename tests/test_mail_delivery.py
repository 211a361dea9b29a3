"""The sender against a real SMTP server (aiosmtpd in its own process), driven round by
round with a frozen clock: what is sent, when it is tried again, when it gives up, and
that a claim is one sender's (SQLite and PostgreSQL). Whole service processes are in
tests/test_notifications_live.py."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from ankra_auth.clock import FrozenClock
from ankra_auth.config import Settings
from ankra_auth.mail import outbox_store
from ankra_auth.mail.sender import BATCH, GIVE_UP_AFTER, Sender, lease_for
from ankra_auth.notify.models import MailOutbox
from tests.conftest import PUBLIC_URL
from tests.helpers import sign_up, verify_in_app
from tests.mail_server import MailServer

VERIFY = "/api/v1/me/email/verify"


@pytest.fixture
def quiet_client(app: FastAPI) -> TestClient:
    """The API without the app's lifespan: no background sender races the test's rounds."""
    return TestClient(app, base_url=PUBLIC_URL)


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[MailServer]:
    server = MailServer(tmp_path / "smtp").start()
    yield server
    server.stop()


def sender_for(app: FastAPI, clock: FrozenClock, **settings: object) -> Sender:
    base: Settings = app.state.settings
    return Sender(app.state.engine, clock, base.model_copy(update=settings))


def rows(app: FastAPI) -> list[MailOutbox]:
    with app.state.session_factory() as db:
        return list(db.scalars(select(MailOutbox).order_by(MailOutbox.created_at, MailOutbox.id)))


def test_a_mail_is_sent_once_with_both_parts(
    quiet_client: TestClient, clock: FrozenClock, smtp_server: MailServer
) -> None:
    app = quiet_client.app
    account = sign_up(quiet_client)
    sender = sender_for(app, clock, smtp_url=smtp_server.url(), mail_burst_seconds=30)
    assert sender.run_once() == 1  # the verification mail does not wait for a burst
    [verification] = smtp_server.wait_for(lambda got: len(got) == 1)
    assert verification.subject == "Verify your email address for Ankra"
    verify_in_app(quiet_client, account)
    r = quiet_client.post(
        "/api/v1/auth/login",
        json={"email": account.email, "password": account.password},
        headers={
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
        },
    )
    assert r.status_code == 200
    clock.advance(29)
    assert sender.run_once() == 0  # a new-device sign-in waits 30 s for more like it
    clock.advance(1)
    assert sender.run_once() == 1
    assert sender.run_once() == 0
    [_, mail] = smtp_server.wait_for(lambda got: len(got) == 2)

    [row] = [m for m in rows(app) if m.kind == "sign_in"]
    assert (row.state, row.attempts, row.claim, row.lease_until) == ("sent", 1, None, None)
    assert mail.subject == "New sign-in to your Ankra account"
    assert mail.message_id == f"<{row.id}@localhost>"
    assert (mail.mail_from, mail.rcpt_tos) == ("no-reply@localhost", ["alice@example.com"])
    assert mail.message["From"] == "Ankra <no-reply@localhost>"
    assert mail.message["To"] == "alice@example.com"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert mail.message.get_content_type() == "multipart/alternative"
    text, html = mail.part("plain"), mail.part("html")
    for part in (text, html):
        assert "testclient" in part  # the IP address (the test client's)
        assert "Firefox on Linux" in part
        assert "Password" in part  # the method
        assert f"{PUBLIC_URL}/profile/authentication#sessions" in part
        assert "Wasn't you?" in part or "Wasn&#39;t you?" in part
    # Nothing is fetched when the mail is read: no image, no remote resource at all.
    assert "<img" not in html and "src=" not in html and "url(" not in html
    hrefs = [chunk.split('"', 1)[0] for chunk in html.split('href="')[1:]]
    assert hrefs and all(h.startswith(PUBLIC_URL) for h in hrefs)


def test_the_verification_mail_carries_a_working_link(
    quiet_client: TestClient, clock: FrozenClock, smtp_server: MailServer
) -> None:
    account = sign_up(quiet_client)
    sender_for(quiet_client.app, clock, smtp_url=smtp_server.url()).run_once()
    [mail] = smtp_server.wait_for(lambda got: len(got) == 1)
    links = [
        w for w in mail.part("plain").split() if w.startswith(f"{PUBLIC_URL}/verify-email?token=")
    ]
    assert len(links) == 1
    token = links[0].split("token=", 1)[1]
    assert f'href="{links[0]}"' in mail.part("html")
    r = quiet_client.post(VERIFY, json={"token": token}, headers=account.auth)
    assert r.status_code == 204, r.text


def test_a_link_used_before_it_went_out_is_not_sent(
    quiet_client: TestClient,
    clock: FrozenClock,
    smtp_server: MailServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    account = sign_up(quiet_client)
    verify_in_app(quiet_client, account)  # with the link's token, before the sender ran
    with caplog.at_level(logging.ERROR, logger="ankra_auth.mail"):
        sender_for(quiet_client.app, clock, smtp_url=smtp_server.url()).run_once()
    [row] = rows(quiet_client.app)
    assert (row.kind, row.state) == ("verify_email", "failed")
    assert smtp_server.received() == []
    assert "mail to a***@example.com failed" in caplog.text


def new_device_mail(client: TestClient) -> None:
    """A security mail in the outbox: a verified account signed in from a new device (its
    verification mail is spent: the sender drops it unsent)."""
    account = sign_up(client)
    verify_in_app(client, account)
    r = client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert r.status_code == 200, r.text


def test_try_later_backs_off_and_gives_up_after_24_hours(
    quiet_client: TestClient,
    clock: FrozenClock,
    smtp_server: MailServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    new_device_mail(quiet_client)
    sender = sender_for(quiet_client.app, clock, smtp_url=smtp_server.url(), mail_burst_seconds=0)
    smtp_server.set_mode("451")
    delays = []
    with caplog.at_level(logging.WARNING, logger="ankra_auth.mail"):
        sender.run_once()  # the spent verification mail goes (failed), and the sign-in's
        while True:
            [row] = [m for m in rows(quiet_client.app) if m.kind == "sign_in"]
            if row.state != "queued":
                break
            delays.append((row.due_at - clock.now()).total_seconds())
            assert sender.run_once() == 0  # not before it is due
            clock.advance(delays[-1])
            assert sender.run_once() == 1
    assert delays[:5] == [5, 10, 20, 40, 80] and max(delays) == 900
    assert row.state == "failed" and row.last_error is not None
    assert row.last_error.startswith("gave up after 24 hours") and "451" in row.last_error
    assert (
        row.created_at + GIVE_UP_AFTER
        <= clock.now()
        < row.created_at + GIVE_UP_AFTER + timedelta(minutes=16)
    )
    assert "not sent (sign_in" in caplog.text and "failed (sign_in" in caplog.text
    assert smtp_server.received() == []


def test_a_5xx_answer_is_final(
    quiet_client: TestClient, clock: FrozenClock, smtp_server: MailServer
) -> None:
    sign_up(quiet_client)
    smtp_server.set_mode("550")
    sender = sender_for(quiet_client.app, clock, smtp_url=smtp_server.url())
    assert sender.run_once() == 1
    [row] = rows(quiet_client.app)
    assert row.state == "failed" and row.last_error is not None and "550" in row.last_error
    clock.advance(3600)
    smtp_server.set_mode("ok")
    assert sender.run_once() == 0


def test_an_outage_delays_the_mail_and_it_arrives_once(
    quiet_client: TestClient, clock: FrozenClock, smtp_server: MailServer
) -> None:
    sign_up(quiet_client)
    sender = sender_for(quiet_client.app, clock, smtp_url=smtp_server.url())
    smtp_server.stop()
    for _ in range(3):  # refused three times: 5, 10, 20 seconds apart
        assert sender.run_once() == 1
        clock.advance((rows(quiet_client.app)[0].due_at - clock.now()).total_seconds())
    smtp_server.start()  # the same port
    assert sender.run_once() == 1
    assert sender.run_once() == 0
    [mail] = smtp_server.wait_for(lambda got: len(got) == 1)
    [row] = rows(quiet_client.app)
    assert (row.state, row.attempts) == ("sent", 4)
    assert mail.message_id == f"<{row.id}@localhost>"


def test_a_claim_outlives_no_dead_sender(
    quiet_client: TestClient, clock: FrozenClock, smtp_server: MailServer
) -> None:
    """A sender that claimed a mail and died: when its lease runs out another sends it,
    under the same Message-ID; the dead one's late word changes nothing."""
    sign_up(quiet_client)
    app = quiet_client.app
    settings = app.state.settings.model_copy(update={"smtp_url": smtp_server.url()})
    lease = lease_for(settings.smtp_server)
    with app.state.session_factory() as db:
        [dead] = outbox_store.claim(
            db, now=clock.now(), burst_over=clock.now(), lease=lease, limit=BATCH
        )
    sender = Sender(app.state.engine, clock, settings)
    clock.advance(lease.total_seconds() - 1)
    assert sender.run_once() == 0  # still the other's
    clock.advance(2)
    assert sender.run_once() == 1
    [mail] = smtp_server.wait_for(lambda got: len(got) == 1)
    assert mail.message_id == f"<{dead.id}@localhost>"
    with app.state.session_factory() as db:
        assert not outbox_store.sent(db, dead, now=clock.now())  # its claim is void
    [row] = rows(app)
    assert (row.state, row.attempts) == ("sent", 2)


def test_senders_claiming_at_once_take_each_mail_once(
    quiet_client: TestClient, clock: FrozenClock
) -> None:
    for i in range(30):
        sign_up(quiet_client, f"user{i}@example.com")
    app = quiet_client.app
    claims: list[list[str]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def claiming(mine: list[str]) -> None:
        start.wait()
        with app.state.session_factory() as db:
            while got := outbox_store.claim(
                db, now=clock.now(), burst_over=clock.now(), lease=timedelta(minutes=1), limit=3
            ):
                mine.extend(m.id for m in got)

    threads = [threading.Thread(target=claiming, args=(mine,)) for mine in claims]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    taken = [mail_id for mine in claims for mail_id in mine]
    assert sorted(taken) == sorted(m.id for m in rows(app)) and len(taken) == 30


def test_a_mail_a_day_old_is_not_sent_late(
    quiet_client: TestClient, clock: FrozenClock, smtp_server: MailServer
) -> None:
    """Queued while no server was configured: once one is, what is younger than a day
    goes, and what is older fails unsent."""
    sign_up(quiet_client, "old@example.com")
    clock.advance(3600)
    sign_up(quiet_client, "new@example.com")
    sender_for(quiet_client.app, clock).run_once()  # no SMTP: logged, waiting
    clock.advance(23 * 3600)
    sender = sender_for(quiet_client.app, clock, smtp_url=smtp_server.url())
    assert sender.run_once() == 2
    [mail] = smtp_server.wait_for(lambda got: len(got) == 1)
    assert mail.rcpt_tos == ["new@example.com"]
    states = {m.to_address: (m.state, m.last_error) for m in rows(quiet_client.app)}
    assert states["old@example.com"] == (
        "failed",
        "gave up after 24 hours: no SMTP server configured",
    )
    assert states["new@example.com"] == ("sent", None)


def test_without_smtp_each_mail_is_logged_once_and_waits(
    quiet_client: TestClient, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    sign_up(quiet_client)
    sign_up(quiet_client, "bob@example.com")
    sender = sender_for(quiet_client.app, clock)
    with caplog.at_level(logging.WARNING, logger="ankra_auth.mail"):
        sender.run_once()
        sender.run_once()
        clock.advance(3600)
        sender.run_once()
    lines = [r.getMessage() for r in caplog.records if r.name == "ankra_auth.mail"]
    assert sorted(lines) == [
        "mail to a***@example.com not sent: no SMTP server configured",
        "mail to b***@example.com not sent: no SMTP server configured",
    ]
    assert {m.state for m in rows(quiet_client.app)} == {"queued"}


# ------------------------------------------------------------------------- TLS and login


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, trusted by the sender through SSL_CERT_FILE."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize(
    ("implicit", "query"), [(False, "starttls=required&timeout=3"), (True, "timeout=3")]
)
def test_tls_from_the_first_byte_or_by_starttls(
    quiet_client: TestClient,
    clock: FrozenClock,
    tmp_path: Path,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    implicit: bool,
    query: str,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    server = MailServer(
        tmp_path / "tls", tls=certificate, implicit=implicit, auth="ankra:s3cret"
    ).start()
    try:
        sign_up(quiet_client)
        sender = sender_for(quiet_client.app, clock, smtp_url=server.url(query))
        assert sender.run_once() == 1
        [mail] = server.wait_for(lambda got: len(got) == 1)
        assert mail.rcpt_tos == ["alice@example.com"]
    finally:
        server.stop()


def test_starttls_required_refuses_a_plain_server(
    quiet_client: TestClient, clock: FrozenClock, smtp_server: MailServer
) -> None:
    sign_up(quiet_client)
    sender = sender_for(quiet_client.app, clock, smtp_url=smtp_server.url("starttls=required"))
    assert sender.run_once() == 1
    [row] = rows(quiet_client.app)
    assert row.state == "queued" and "STARTTLS" in (row.last_error or "")
    assert smtp_server.received() == []


def test_a_wrong_login_is_refused_for_good(
    quiet_client: TestClient, clock: FrozenClock, tmp_path: Path
) -> None:
    server = MailServer(tmp_path / "auth", auth="ankra:right").start()
    try:
        sign_up(quiet_client)
        url = server.url().replace("ankra:right@", "ankra:wrong@")
        assert sender_for(quiet_client.app, clock, smtp_url=url).run_once() == 1
        [row] = rows(quiet_client.app)
        assert row.state == "failed" and "535" in (row.last_error or "")
    finally:
        server.stop()
