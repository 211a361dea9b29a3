"""Two real service processes on one PostgreSQL: no instance keeps state of its own.

Both instances get the same public URL, as they do behind the fleet's one port, so a
browser ceremony (passkeys, the CLI hand-off page) may be answered by either of them.
Codes come from the real clock: the service processes run on system time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ankra_auth import migrate
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from ankra_auth.security import pkce, totp
from tests.conftest import new_postgres_database
from tests.helpers import PASSWORD
from tests.live_server import service_process
from tests.postgres_server import PostgresServer
from tests.race import race

PUBLIC_URL = "http://localhost:8000"  # the fleet's one public address


@dataclass(frozen=True)
class Fleet:
    a: str
    b: str


@pytest.fixture(scope="module")
def fleet(
    postgres: PostgresServer | str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fleet]:
    url = new_postgres_database(postgres)
    logs = tmp_path_factory.mktemp("fleet")
    env = {"ANKRA_PUBLIC_URL": PUBLIC_URL}
    with (
        service_process(url, log_path=logs / "a.log", extra_env=env) as a,
        service_process(url, log_path=logs / "b.log", extra_env=env) as b,
    ):
        yield Fleet(a, b)


@dataclass
class User:
    email: str
    token: str = ""
    secret: str = ""
    recovery_codes: list[str] = field(default_factory=list)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def code(secret: str, offset_steps: int = 0) -> str:
    return totp.code_at_step(secret=secret, step=totp.time_step(datetime.now(UTC)) + offset_steps)


def new_user(base: str) -> User:
    user = User(email=f"fleet-{uuid.uuid4().hex[:10]}@example.com")
    r = httpx.post(f"{base}/api/v1/users", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    r = httpx.post(f"{base}/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    user.token = r.json()["access_token"]
    return user


def with_totp(base: str, user: User) -> User:
    """Enroll TOTP; the confirming step is spent, so sign-ins use the next step's code."""
    user.secret = httpx.post(f"{base}/api/v1/profile/auth/totp", headers=user.auth).json()["secret"]
    r = httpx.post(
        f"{base}/api/v1/profile/auth/totp/confirm",
        json={"code": code(user.secret)},
        headers=user.auth,
    )
    assert r.status_code == 200, r.text
    user.recovery_codes = r.json()["recovery_codes"]
    return user


def start_login(base: str, user: User) -> str:
    r = httpx.post(f"{base}/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200 and r.json()["status"] == "mfa_required", r.text
    mfa_token: str = r.json()["mfa_token"]
    return mfa_token


def signed_in_everywhere(fleet: Fleet, token: str) -> bool:
    auth = {"Authorization": f"Bearer {token}"}
    return all(
        httpx.get(f"{b}/api/v1/me", headers=auth).status_code == 200 for b in (fleet.a, fleet.b)
    )


# --- a sign-in started on one instance finishes on the other ----------------------------------


def test_totp_sign_in_started_on_a_finishes_on_b(fleet: Fleet) -> None:
    user = with_totp(fleet.a, new_user(fleet.a))
    mfa_token = start_login(fleet.a, user)
    r = httpx.post(
        f"{fleet.b}/api/v1/auth/mfa/totp",
        json={"mfa_token": mfa_token, "code": code(user.secret, 1)},
    )
    assert r.status_code == 200, r.text
    assert signed_in_everywhere(fleet, r.json()["access_token"])
    # The pending login is spent on both instances.
    r = httpx.post(
        f"{fleet.a}/api/v1/auth/mfa/totp",
        json={"mfa_token": mfa_token, "code": code(user.secret, 1)},
    )
    assert r.json()["code"] == "mfa_token_invalid"


def test_recovery_code_sign_in_started_on_b_finishes_on_a(fleet: Fleet) -> None:
    user = with_totp(fleet.b, new_user(fleet.b))
    mfa_token = start_login(fleet.b, user)
    r = httpx.post(
        f"{fleet.a}/api/v1/auth/mfa/recovery-code",
        json={"mfa_token": mfa_token, "code": user.recovery_codes[0]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["recovery_codes_remaining"] == 9
    assert signed_in_everywhere(fleet, r.json()["access_token"])
    # The spent code fails on the other instance too.
    mfa_token = start_login(fleet.a, user)
    r = httpx.post(
        f"{fleet.b}/api/v1/auth/mfa/recovery-code",
        json={"mfa_token": mfa_token, "code": user.recovery_codes[0]},
    )
    assert r.json()["code"] == "invalid_code"


def test_passkey_ceremonies_span_instances(fleet: Fleet) -> None:
    soft_authenticator = pytest.importorskip("tests.soft_authenticator")
    key = soft_authenticator.SoftAuthenticator(origin=PUBLIC_URL, rp_id="localhost")
    user = new_user(fleet.a)
    passkeys = "/api/v1/profile/auth/passkeys"
    options = httpx.post(f"{fleet.a}{passkeys}/options", headers=user.auth).json()
    r = httpx.post(
        f"{fleet.b}{passkeys}",
        json={"name": "Laptop", "credential": key.create(options)},
        headers=user.auth,
    )
    assert r.status_code == 201, r.text

    mfa_token = start_login(fleet.b, user)
    r = httpx.post(f"{fleet.a}/api/v1/auth/mfa/passkey/options", json={"mfa_token": mfa_token})
    assert r.status_code == 200, r.text
    assertion = key.get(r.json())
    r = httpx.post(
        f"{fleet.b}/api/v1/auth/mfa/passkey", json={"mfa_token": mfa_token, "credential": assertion}
    )
    assert r.status_code == 200, r.text
    assert signed_in_everywhere(fleet, r.json()["access_token"])
    # The ceremony's challenge is single use on every instance.
    r = httpx.post(
        f"{fleet.a}/api/v1/auth/mfa/passkey", json={"mfa_token": mfa_token, "credential": assertion}
    )
    assert r.status_code == 401


def test_cli_hand_off_spans_instances(fleet: Fleet) -> None:
    user = with_totp(fleet.a, new_user(fleet.a))
    mfa_token = start_login(fleet.a, user)
    verifier = "v" * 20 + uuid.uuid4().hex
    r = httpx.post(
        f"{fleet.b}/api/v1/auth/cli/authorize",
        json={
            "mfa_token": mfa_token,
            "redirect_uri": "http://127.0.0.1:53682/callback",
            "state": "st-1",
            "code_challenge": pkce.s256_challenge(verifier),
            "code_challenge_method": "S256",
        },
    )
    assert r.status_code == 201, r.text
    browser_url = r.json()["browser_url"]
    assert browser_url.startswith(f"{PUBLIC_URL}/")
    browser_token = urlsplit(browser_url).path.rsplit("/", 1)[-1]
    handoff = f"/api/v1/auth/cli/handoff/{browser_token}"
    assert httpx.get(f"{fleet.a}{handoff}").status_code == 200
    r = httpx.post(f"{fleet.a}{handoff}/totp", json={"code": code(user.secret, 1)})
    assert r.status_code == 200, r.text
    query = parse_qs(urlsplit(r.json()["redirect_url"]).query)
    assert query["state"] == ["st-1"]
    exchange = {"code": query["code"][0], "code_verifier": verifier}
    r = httpx.post(f"{fleet.b}/api/v1/auth/cli/token", json=exchange)
    assert r.status_code == 200, r.text
    assert signed_in_everywhere(fleet, r.json()["access_token"])
    r = httpx.post(f"{fleet.a}/api/v1/auth/cli/token", json=exchange)
    assert r.json()["code"] == "invalid_grant"


# --- the single-use rules and the backoff hold across instances --------------------------------


def test_the_account_backoff_holds_across_instances(fleet: Fleet) -> None:
    user = with_totp(fleet.a, new_user(fleet.a))
    bases = [fleet.a, fleet.b]
    for round_ in range(2):  # 2 pending logins x 5 failures = the 10 free failures
        mfa_token = start_login(bases[round_], user)
        for attempt in range(5):
            r = httpx.post(
                f"{bases[attempt % 2]}/api/v1/auth/mfa/recovery-code",
                json={"mfa_token": mfa_token, "code": "AAAAA-AAAAA"},
            )
            assert r.status_code == 401
    for base in bases:
        mfa_token = start_login(base, user)
        r = httpx.post(
            f"{base}/api/v1/auth/mfa/totp",
            json={"mfa_token": mfa_token, "code": code(user.secret, 1)},
        )
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def _split(fleet: Fleet, path: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    """POST each body at once, alternating between the two instances."""
    bases = [fleet.a, fleet.b]
    return race(
        [
            (lambda http, url=f"{bases[i % 2]}{path}", body=body: http.post(url, json=body))
            for i, body in enumerate(bodies)
        ]
    )


def test_one_recovery_code_raced_across_instances_succeeds_once(fleet: Fleet) -> None:
    user = with_totp(fleet.a, new_user(fleet.a))
    tokens = [start_login(fleet.a if i % 2 else fleet.b, user) for i in range(20)]
    answers = _split(
        fleet,
        "/api/v1/auth/mfa/recovery-code",
        [{"mfa_token": t, "code": user.recovery_codes[0]} for t in tokens],
    )
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 401, 429}, statuses


def test_one_totp_code_raced_across_instances_succeeds_once(fleet: Fleet) -> None:
    user = with_totp(fleet.b, new_user(fleet.b))
    tokens = [start_login(fleet.b if i % 2 else fleet.a, user) for i in range(20)]
    the_code = code(user.secret, 1)
    answers = _split(
        fleet, "/api/v1/auth/mfa/totp", [{"mfa_token": t, "code": the_code} for t in tokens]
    )
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 401, 429}, statuses


# --- starting a fleet ----------------------------------------------------------------------------


def test_instances_starting_together_migrate_once(
    postgres: PostgresServer | str, tmp_path: Path
) -> None:
    if isinstance(postgres, str):
        pytest.skip("needs a fresh database on a server this test run controls")
    url = new_postgres_database(postgres)
    env = {**os.environ, "ANKRA_DATABASE_URL": url, "ANKRA_SECRET_KEY": "k" * 32}
    starts = [
        subprocess.Popen(
            [sys.executable, "-m", "ankra_auth", "migrate"],
            env=env,
            stdout=(tmp_path / f"migrate{i}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for i in range(4)
    ]
    codes = [p.wait(timeout=120) for p in starts]
    assert codes == [0, 0, 0, 0], [(tmp_path / f"migrate{i}.log").read_text() for i in range(4)]
    assert migrate.is_current(make_engine(Settings(database_url=url, secret_key="k")))


def test_pool_size_and_timeout_come_from_settings(
    postgres: PostgresServer | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = new_postgres_database(postgres)
    monkeypatch.setenv("ANKRA_DATABASE_URL", url)
    monkeypatch.setenv("ANKRA_DB_POOL_SIZE", "1")
    monkeypatch.setenv("ANKRA_DB_MAX_OVERFLOW", "0")
    monkeypatch.setenv("ANKRA_DB_POOL_TIMEOUT_SECONDS", "0.2")
    engine = make_engine(Settings(secret_key="k"))
    try:
        with engine.connect():
            began = time.monotonic()
            with pytest.raises(Exception, match="QueuePool limit of size 1 overflow 0"):
                engine.connect()
            assert time.monotonic() - began < 5
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("trusted", "recorded"), [(None, "127.0.0.1"), ("127.0.0.1", "203.0.113.9")]
)
def test_the_client_address_behind_a_trusted_proxy(
    tmp_path: Path, trusted: str | None, recorded: str
) -> None:
    env = {"ANKRA_FORWARDED_ALLOW_IPS": trusted} if trusted else {}
    url = f"sqlite:///{tmp_path / 'ankra.db'}"
    with service_process(url, log_path=tmp_path / "service.log", extra_env=env) as base:
        user = new_user(base)
        forwarded = {**user.auth, "X-Forwarded-For": "203.0.113.9"}
        assert httpx.post(f"{base}/api/v1/auth/logout", headers=forwarded).status_code == 204
        user.token = httpx.post(
            f"{base}/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}
        ).json()["access_token"]
        events = httpx.get(f"{base}/api/v1/profile/auth/events", headers=user.auth).json()
    [sign_out] = [e for e in events["events"] if e["type"] == "sign_out"]
    assert sign_out["ip"] == recorded


def test_the_production_guide_quotes_the_deploy_files_line_for_line() -> None:
    root = Path(__file__).resolve().parents[1]
    guide = (root / "README.md").read_text()
    for name in ("Dockerfile", "deploy/compose.yaml", "deploy/nginx.conf", "deploy/prometheus.yml"):
        assert (root / name).read_text() in guide, f"README.md does not quote {name}"
