"""Request ids, Prometheus metrics and the JSON logs of a real service process."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.exceptions import ResponseValidationError
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, ValidationError

from ankra_auth.clock import FrozenClock
from ankra_auth.context import RequestContext
from ankra_auth.events import service as events
from ankra_auth.observability import metrics
from ankra_auth.observability.logging import JsonFormatter
from ankra_auth.security import totp
from tests.helpers import PASSWORD, code_now, enroll_totp, sign_up, start_login
from tests.live_server import service_process
from tests.postgres_server import free_port


def metrics_port_env() -> tuple[dict[str, str], str]:
    """Settings for a service process that serves metrics on a free port, and that port's URL."""
    port = free_port()
    return {"ANKRA_METRICS_PORT": str(port)}, f"http://127.0.0.1:{port}"


def scrape(source: TestClient | str) -> str:
    """The metrics text: this process's registry for an in-process app, else a metrics port."""
    if isinstance(source, TestClient):
        return metrics.exposition().decode()
    r = httpx.get(f"{source}/metrics", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return r.text


def metric(source: TestClient | str, name: str, **labels: str) -> float:
    """The value of one sample (0 when it has not been counted yet)."""
    for family in text_string_to_metric_families(scrape(source)):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


# --- request ids ---------------------------------------------------------------------------


def test_a_sane_incoming_request_id_is_echoed(client: TestClient) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": "edge-7f3a.42"})
    assert r.headers["x-request-id"] == "edge-7f3a.42"


@pytest.mark.parametrize("bad", ["has spaces", "a" * 65, 'quote"d', "-leading-dash", "x\x7fy"])
def test_an_unusable_request_id_is_replaced_by_a_fresh_one(client: TestClient, bad: str) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": bad})
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])


def test_every_response_carries_a_request_id_errors_included(client: TestClient) -> None:
    ids = {
        client.get("/no/such/page").headers["x-request-id"],
        client.post("/api/v1/auth/login", json={}).headers["x-request-id"],
        client.get("/api/v1/me").headers["x-request-id"],
    }
    assert len(ids) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


# --- metrics -------------------------------------------------------------------------------


def test_metrics_are_not_served_by_the_public_app(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 404
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]
    assert "ankra_http_request_duration_seconds" in scrape(client)


def test_sign_in_counters_move(client: TestClient, clock: FrozenClock) -> None:
    account = sign_up(client, "metrics@example.com")
    enroll_totp(client, account, clock)
    success = metric(client, "ankra_sign_ins_total", outcome="success", method="totp")
    failed = metric(client, "ankra_second_factor_failures_total", method="totp")
    failed_sign_ins = metric(client, "ankra_sign_ins_total", outcome="failure", method="totp")
    latency = metric(
        client,
        "ankra_http_request_duration_seconds_count",
        route="/api/v1/auth/mfa/totp",
        method="POST",
        status="4xx",
    )

    mfa_token = start_login(client, account)["mfa_token"]
    wrong = code_now(account.totp_secret, clock, offset_steps=5)
    r = client.post("/api/v1/auth/mfa/totp", json={"mfa_token": mfa_token, "code": wrong})
    assert r.status_code == 401
    r = client.post(
        "/api/v1/auth/mfa/totp",
        json={"mfa_token": mfa_token, "code": code_now(account.totp_secret, clock)},
    )
    assert r.status_code == 200, r.text

    assert metric(client, "ankra_sign_ins_total", outcome="success", method="totp") == success + 1
    assert metric(client, "ankra_second_factor_failures_total", method="totp") == failed + 1
    assert (
        metric(client, "ankra_sign_ins_total", outcome="failure", method="totp")
        == failed_sign_ins + 1
    )
    assert (
        metric(
            client,
            "ankra_http_request_duration_seconds_count",
            route="/api/v1/auth/mfa/totp",
            method="POST",
            status="4xx",
        )
        == latency + 1
    )


def test_voided_logins_and_throttled_attempts_are_counted(
    client: TestClient, clock: FrozenClock
) -> None:
    account = sign_up(client, "throttled@example.com")
    enroll_totp(client, account, clock)
    voided = metric(client, "ankra_pending_logins_voided_total", method="recovery_code")
    throttled = metric(
        client, "ankra_throttled_attempts_total", route="/api/v1/auth/mfa/recovery-code"
    )
    for _ in range(2):  # 2 pending logins x 5 failures = the 10 free failures
        mfa_token = start_login(client, account)["mfa_token"]
        for _ in range(5):
            r = client.post(
                "/api/v1/auth/mfa/recovery-code",
                json={"mfa_token": mfa_token, "code": "AAAAA-AAAAA"},
            )
    assert r.json()["code"] == "too_many_attempts"
    mfa_token = start_login(client, account)["mfa_token"]
    r = client.post(
        "/api/v1/auth/mfa/recovery-code", json={"mfa_token": mfa_token, "code": "AAAAA-AAAAA"}
    )
    assert r.status_code == 429

    assert metric(client, "ankra_pending_logins_voided_total", method="recovery_code") == voided + 2
    assert (
        metric(client, "ankra_throttled_attempts_total", route="/api/v1/auth/mfa/recovery-code")
        == throttled + 1
    )


def test_an_event_counts_only_once_its_transaction_commits(
    client: TestClient, clock: FrozenClock
) -> None:
    account = sign_up(client, "rollback@example.com")
    user_id = client.get("/api/v1/me", headers=account.auth).json()["id"]
    ctx = RequestContext(now=clock.now())
    before = metric(client, "ankra_security_events_total", type=events.SIGN_OUT)
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as db:
        events.record(db, user_id=user_id, type=events.SIGN_OUT, ctx=ctx)
        db.rollback()
        db.commit()  # nothing left to count
        assert metric(client, "ankra_security_events_total", type=events.SIGN_OUT) == before
        events.record(db, user_id=user_id, type=events.SIGN_OUT, ctx=ctx)
        db.commit()
    assert metric(client, "ankra_security_events_total", type=events.SIGN_OUT) == before + 1


def test_every_counted_event_type_is_a_security_log_type() -> None:
    types = {v for k, v in vars(events).items() if k.isupper() and isinstance(v, str)}
    assert set(metrics._SIGN_IN_OUTCOMES) | {"pending_login_voided"} <= types


# --- a real process: JSON lines, and nothing secret in them -------------------------------------


def _logged(exc: BaseException) -> str:
    try:
        raise RuntimeError("unhandled") from exc
    except RuntimeError:
        info = sys.exc_info()
    record = logging.LogRecord("ankra_auth.errors", logging.ERROR, __file__, 1, "boom", None, info)
    return JsonFormatter().format(record)


def test_a_logged_validation_error_does_not_quote_what_it_rejected() -> None:
    class Out(BaseModel):
        access_token: int

    token = "tok-" + "SECRET-123"  # not spelled out on the line the traceback quotes
    try:
        Out(access_token=token)  # type: ignore[arg-type]
    except ValidationError as exc:
        line = _logged(exc)
    assert token not in line and "access_token: int_parsing" in line
    response_error = ResponseValidationError(
        errors=[{"type": "missing", "loc": ("response", "code"), "input": {"code": "123456"}}],
        body={"code": "123456"},
    )
    line = _logged(response_error)
    assert "123456" not in line and "response.code: missing" in line
    assert json.loads(line)["message"] == "boom"


def _totp_code(secret: str, *, offset_steps: int) -> str:
    return totp.code_at_step(secret=secret, step=totp.time_step(datetime.now(UTC)) + offset_steps)


def test_the_logs_of_a_full_sign_in_hold_no_secret(database_url: str, tmp_path: Path) -> None:
    log_path = tmp_path / "service.log"
    secrets: list[str] = [PASSWORD]
    env, metrics_url = metrics_port_env()
    with (
        service_process(database_url, log_path=log_path, extra_env=env) as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        email = "logscan@example.com"
        assert http.post("/api/v1/users", json={"email": email, "password": PASSWORD}).is_success
        r = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        token = r.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        setup = http.post("/api/v1/profile/auth/totp", headers=auth).json()
        secret = setup["secret"]
        confirm_code = _totp_code(secret, offset_steps=0)
        r = http.post(
            "/api/v1/profile/auth/totp/confirm", json={"code": confirm_code}, headers=auth
        )
        recovery = r.json()["recovery_codes"]
        secrets += [token, secret, setup["otpauth_uri"], confirm_code, *recovery]
        secrets += [c.replace("-", "") for c in recovery]

        # Wrong password, then a login with a wrong and a right authenticator code.
        r = http.post("/api/v1/auth/login", json={"email": email, "password": "wrong password!"})
        assert r.status_code == 401
        secrets.append("wrong password!")
        mfa_token = http.post(
            "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
        ).json()["mfa_token"]
        valid = {_totp_code(secret, offset_steps=s) for s in (-1, 0, 1, 2)}
        wrong = next(c for c in ("135791", "246802", "975310") if c not in valid)
        r = http.post("/api/v1/auth/mfa/totp", json={"mfa_token": mfa_token, "code": wrong})
        assert r.status_code == 401
        right = _totp_code(secret, offset_steps=1)
        r = http.post(
            "/api/v1/auth/mfa/totp",
            json={"mfa_token": mfa_token, "code": right},
            headers={"X-Request-ID": "scan-totp-ok"},
        )
        assert r.status_code == 200, r.text
        secrets += [mfa_token, wrong, right, r.json()["access_token"]]

        # A recovery code, then re-authentication and a fresh set of codes.
        mfa_token = http.post(
            "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
        ).json()["mfa_token"]
        r = http.post(
            "/api/v1/auth/mfa/recovery-code", json={"mfa_token": mfa_token, "code": recovery[0]}
        )
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        secrets += [mfa_token, token]
        auth = {"Authorization": f"Bearer {token}"}
        r = http.post("/api/v1/auth/reauthenticate", json={"password": PASSWORD}, headers=auth)
        assert r.status_code == 204
        r = http.post("/api/v1/profile/auth/recovery-codes", headers=auth)
        fresh = r.json()["recovery_codes"]
        secrets += fresh
        # A careless client putting a token in the query string.
        assert http.get(f"/api/v1/me?access_token={token}", headers=auth).status_code == 200
        assert metric(metrics_url, "ankra_sign_ins_total", outcome="success", method="totp") == 1
        assert http.post("/api/v1/auth/logout", headers=auth).status_code == 204

    log = log_path.read_text()
    leaked = [s for s in set(secrets) if _appears(s, log)]
    assert not leaked, f"secrets found in the service log: {leaked}"

    records = [json.loads(line) for line in log.splitlines() if line.strip()]
    access = [r for r in records if r["logger"] == "ankra_auth.access"]
    assert len(access) >= 15
    for line in access:
        assert {"time", "level", "message", "request_id", "method", "path", "status"} <= set(line)
        assert isinstance(line["duration_ms"], float | int)
        assert "?" not in line["path"]
    ok = [r for r in access if r["request_id"] == "scan-totp-ok"]
    assert [(r["path"], r["status"]) for r in ok] == [("/api/v1/auth/mfa/totp", 200)]


def _appears(secret: str, log: str) -> bool:
    """Whole-token match, so a 6-digit code does not 'appear' inside a random hex id."""
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", log) is not None


def test_metrics_add_up_across_worker_processes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ankra.db'}"
    env, metrics_url = metrics_port_env()
    with (
        service_process(url, log_path=tmp_path / "service.log", workers=2, extra_env=env) as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        http.post("/api/v1/users", json={"email": "w@example.com", "password": PASSWORD})
        for _ in range(6):
            r = http.post(
                "/api/v1/auth/login", json={"email": "w@example.com", "password": PASSWORD}
            )
            assert r.json()["status"] == "authenticated"
        # The metrics port reports every worker's sign-ins; the public port none.
        assert (
            metric(metrics_url, "ankra_sign_ins_total", outcome="success", method="password") == 6
        )
        assert http.get("/metrics").status_code == 404


def test_labels_and_logs_are_bounded_whatever_is_requested(tmp_path: Path) -> None:
    """Odd methods and unmatched token-like paths add no series and reach no log line."""
    url = f"sqlite:///{tmp_path / 'ankra.db'}"
    log_path = tmp_path / "service.log"
    env, metrics_url = metrics_port_env()
    tokens = [f"tok{n}SECRETxyz{n:04d}" for n in range(40)]
    with (
        service_process(url, log_path=log_path, extra_env=env) as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        assert http.get("/healthz").status_code == 200
        before = _series(metrics_url)
        for n, token in enumerate(tokens):
            http.get(f"/api/v1/auth/cli/handof/{token}")  # a mistyped hand-off URL
            http.request(f"BREW{n}", f"/cli/{token}")
            http.request(f"PROPFIND{n}", "/healthz")
        after = _series(metrics_url)
    added = after - before
    # At most: unmatched GET, unmatched other, /healthz other (each with its status class).
    assert len(added) <= 3, sorted(added)
    assert {labels["route"] for labels in map(dict, added)} <= {"unmatched", "/healthz"}
    assert {labels["method"] for labels in map(dict, added)} <= {"GET", "other"}
    log = log_path.read_text()
    assert "SECRETxyz" not in log and "BREW" not in log and "PROPFIND" not in log
    access = [json.loads(line) for line in log.splitlines() if '"ankra_auth.access"' in line]
    assert {(r["method"], r["path"]) for r in access if r["path"] == "unmatched"} == {
        ("GET", "unmatched"),
        ("other", "unmatched"),
    }


def _series(metrics_url: str) -> set[tuple[tuple[str, str], ...]]:
    """The label sets of the request-latency histogram (one per series)."""
    found = set()
    for family in text_string_to_metric_families(scrape(metrics_url)):
        if family.name == "ankra_http_request_duration_seconds":
            for sample in family.samples:
                if sample.name.endswith("_count"):
                    found.add(tuple(sorted(sample.labels.items())))
    return found


def test_serve_refuses_a_metrics_port_equal_to_the_public_port(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ankra_auth", "serve", "--port", "8123", "--metrics-port", "8123"],
        env={**os.environ, "ANKRA_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and "--metrics-port must differ" in result.stderr
