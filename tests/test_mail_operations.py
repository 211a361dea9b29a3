"""Running notifications: ANKRA_SMTP_URL read at start-up, the start-up line and one log
line per unsent mail without SMTP, ``ankra-auth mail status`` and the figures on
``/metrics`` (real service processes, SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ankra_auth.mail.smtp_url import parse_smtp_url
from tests.helpers import PASSWORD
from tests.live_server import SECRET, service_process
from tests.mail_server import MailServer
from tests.test_observability import metric, metrics_port_env


def sign_up(base: str, email: str) -> None:
    r = httpx.post(f"{base}/api/v1/users", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text


def mail_status(database_url: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ankra_auth", "mail", "status", *args],
        env={**os.environ, "ANKRA_DATABASE_URL": database_url, "ANKRA_SECRET_KEY": SECRET},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def wait_for_log(log: Path, text: str, count: int = 1, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text()
        if content.count(text) >= count:
            return content
        time.sleep(0.2)
    raise AssertionError(f"{text!r} x{count} not logged:\n{log.read_text()}")


def test_without_smtp_notifications_are_off_and_each_mail_is_logged_once(
    database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    with service_process(database_url, log_path=log) as base:
        assert "notifications are off: ANKRA_SMTP_URL is not set" in log.read_text()
        sign_up(base, "alice@example.com")
        sign_up(base, "bob@example.com")
        wait_for_log(log, "no SMTP server configured", count=2)
        time.sleep(5)  # two more rounds of the sender: nothing is said twice
        content = log.read_text()
    assert content.count("mail to a***@example.com not sent: no SMTP server configured") == 1
    assert content.count("mail to b***@example.com not sent: no SMTP server configured") == 1
    assert "alice@example.com" not in content and "bob@example.com" not in content
    figures = json.loads(mail_status(database_url, "--json"))
    assert figures["queued"] == 2 and figures["sent"] == figures["failed"] == 0
    assert figures["oldest_queued_seconds"] >= 5


def test_mail_status_and_metrics_count_queued_sent_and_failed(
    database_url: str, tmp_path: Path
) -> None:
    smtp = MailServer(tmp_path / "smtp").start()
    env, metrics_url = metrics_port_env()
    env.update({"ANKRA_SMTP_URL": smtp.url("timeout=3"), "ANKRA_MAIL_BURST_SECONDS": "1"})
    log = tmp_path / "serve.log"
    try:
        with service_process(database_url, log_path=log, extra_env=env) as base:
            assert "notifications go through localhost" in log.read_text()
            smtp.set_mode("550")
            sign_up(base, "refused@example.com")
            wait_for_log(log, "failed (verify_email")
            smtp.set_mode("ok")
            sign_up(base, "welcome@example.com")
            smtp.wait_for(lambda got: len(got) == 1)
            smtp.stop()
            sign_up(base, "waiting@example.com")
            wait_for_log(log, "trying again in")
            deadline = time.monotonic() + 20
            while metric(metrics_url, "ankra_mail_outbox", state="sent") != 1:
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert metric(metrics_url, "ankra_mail_outbox", state="queued") == 1
            assert metric(metrics_url, "ankra_mail_outbox", state="failed") == 1
            assert metric(metrics_url, "ankra_mail_oldest_queued_age_seconds") > 0
    finally:
        smtp.stop()
    human = mail_status(database_url)
    assert human.startswith("queued 1 (the oldest for ") and "\nsent 1\nfailed 1" in human
    figures = json.loads(mail_status(database_url, "--json"))
    assert (figures["queued"], figures["sent"], figures["failed"]) == (1, 1, 1)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://mail.example", "must start with smtp:// or smtps://"),
        ("smtp://", "names no host"),
        ("smtp://mail.example/inbox", "takes no path"),
        ("smtp://mail.example?tls=yes", "unknown parameter 'tls'"),
        ("smtp://mail.example?starttls=maybe", "starttls must be 'required'"),
        ("smtps://mail.example?starttls=required", "smtps:// is TLS already"),
        ("smtp://mail.example?timeout=0", "timeout must be"),
    ],
)
def test_a_bad_smtp_url_stops_the_service_with_the_reason_never_the_password(
    tmp_path: Path, url: str, reason: str
) -> None:
    secret_url = url.replace("://", "://ankra:hunter2@", 1) if "://" in url[:8] else url
    result = subprocess.run(
        [sys.executable, "-m", "ankra_auth", "serve", "--port", "8124"],
        env={
            **os.environ,
            "ANKRA_DATABASE_URL": f"sqlite:///{tmp_path / 'ankra.db'}",
            "ANKRA_SMTP_URL": secret_url,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert f"error: ANKRA_SMTP_URL: Value error, {reason}" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_the_url_says_how_to_reach_the_server() -> None:
    plain = parse_smtp_url("smtp://mail.example")
    assert (plain.host, plain.port, plain.implicit_tls, plain.starttls_required) == (
        "mail.example",
        25,
        False,
        False,
    )
    tls = parse_smtp_url("smtps://u%40corp:p%2Fw@mail.example?timeout=7.5")
    assert (tls.port, tls.implicit_tls, tls.username, tls.password, tls.timeout) == (
        465,
        True,
        "u@corp",
        "p/w",
        7.5,
    )
    required = parse_smtp_url("smtp://mail.example:587?starttls=required")
    assert (required.port, required.starttls_required) == (587, True)
    assert "p/w" not in repr(tls) and "p/w" not in tls.describe()
    assert tls.describe() == "u@corp@mail.example:465 (TLS)"
