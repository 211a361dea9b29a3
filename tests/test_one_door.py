"""One door: what is *compared*, not only what is answered, across two service processes.

Both processes log each secret they compare (``ANKRA_LOG_COMPARISONS``, a test-only
switch), so these tests count the comparisons themselves: a burst of wrong second factors
compares at most 10 codes per account and 5 per pending login, whatever the answers say,
and a right code sent at the end of a burst is never compared. Right answers at once are
no failures: they all succeed and start no backoff.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from ankra_auth import migrate
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from ankra_auth.security import totp
from tests.conftest import PUBLIC_URL, new_postgres_database
from tests.helpers import PASSWORD
from tests.live_server import service_process
from tests.race import race
from tests.soft_authenticator import SoftAuthenticator
from tests.test_races import enroll, pending_logins
from tests.test_throttle_races import Call, codes

TOTP = "/api/v1/auth/mfa/totp"
RECOVERY = "/api/v1/auth/mfa/recovery-code"
LOGIN = "/api/v1/auth/login"
COMPARING = {"ANKRA_LOG_COMPARISONS": "1"}


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    logs: tuple[Path, Path]

    def instance(self, i: int) -> str:
        return self.a if i % 2 == 0 else self.b

    def comparisons(self, kind: str, subject: str) -> int:
        """How many times either process compared a ``kind`` secret for ``subject``."""
        line = f"comparing {kind} for {subject}"
        return sum(log.read_text(errors="replace").count(line) for log in self.logs)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    """Two processes on one database, for the whole module (each test its own accounts);
    one public URL for both, so a passkey signed for it verifies on either."""
    folder = tmp_path_factory.mktemp("door")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'ankra.db'}"
        migrate.upgrade(make_engine(Settings(database_url=url, secret_key="x")))
    else:
        url = new_postgres_database(request.getfixturevalue("postgres"))
    env = {**COMPARING, "ANKRA_PUBLIC_URL": PUBLIC_URL}
    logs = (folder / "a.log", folder / "b.log")
    with (
        service_process(url, log_path=logs[0], extra_env=env) as a,
        service_process(url, log_path=logs[1], extra_env=env) as b,
    ):
        yield Pair(a, b, logs)


def user_id(base: str, email: str, mfa_token: str, code: str) -> str:
    """Sign in once (right code) and read the account's id."""
    with httpx.Client(base_url=base, timeout=30) as http:
        done = http.post(TOTP, json={"mfa_token": mfa_token, "code": code})
        assert done.status_code == 200, done.text
        me = http.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {done.json()['access_token']}"}
        )
        return str(me.json()["id"])


def attempt(base: str, mfa_token: str, code: str, path: str = TOTP) -> Call:
    return lambda http: http.post(f"{base}{path}", json={"mfa_token": mfa_token, "code": code})


def passkey_call(base: str, mfa_token: str, credential: dict[str, Any]) -> Call:
    body = {"mfa_token": mfa_token, "credential": credential}
    return lambda http: http.post(f"{base}/api/v1/auth/mfa/passkey", json=body)


def enrolled(pair: Pair, email: str) -> tuple[str, str, list[str]]:
    """An account with TOTP; its id, its secret and its recovery codes. The step after
    the current one stays unused, for the test's right code."""
    secret, recovery = enroll(pair.a, email)
    [mfa] = pending_logins(pair.b, email, 1)
    now = totp.time_step(datetime.now(UTC))
    return user_id(pair.b, email, mfa, totp.code_at_step(secret=secret, step=now)), secret, recovery


def test_a_burst_of_wrong_codes_compares_at_most_ten(pair: Pair) -> None:
    account, _, _ = enrolled(pair, "burst@example.com")
    before = pair.comparisons("totp", account)
    logins = pending_logins(pair.a, "burst@example.com", 20)
    burst = [attempt(pair.instance(i), logins[i % 20], "000000") for i in range(100)]
    seen = codes(race(burst))
    compared = pair.comparisons("totp", account) - before
    assert compared <= 10, (compared, seen)
    failed = [c for c in seen if c in ("invalid_code", "too_many_attempts")]
    assert len(failed) == compared, seen  # every comparison was answered as one
    assert len(failed) + seen.count("rate_limited") == 100, seen


@pytest.mark.parametrize("trial", range(3))
def test_a_right_code_sent_last_in_a_burst_does_not_sign_in(pair: Pair, trial: int) -> None:
    email = f"last-{trial}@example.com"
    account, secret, _ = enrolled(pair, email)
    before = pair.comparisons("totp", account)
    logins = pending_logins(pair.a, email, 13)
    right = totp.code_at_step(secret=secret, step=totp.time_step(datetime.now(UTC)) + 1)
    burst: list[Call] = [attempt(pair.instance(i), logins[i % 12], "000000") for i in range(59)]

    def last(http: httpx.Client) -> httpx.Response:
        time.sleep(0.05)  # after the burst has gone out, as an attacker's last try would
        return attempt(pair.b, logins[12], right)(http)

    *answers, final = race([*burst, last])
    assert final.status_code == 429, final.text
    assert final.json()["code"] == "rate_limited"
    compared = pair.comparisons("totp", account) - before
    assert compared <= 10, (compared, codes(answers))


def test_one_pending_login_compares_at_most_five(pair: Pair) -> None:
    account, _, _ = enrolled(pair, "five@example.com")
    before = pair.comparisons("totp", account)
    [login] = pending_logins(pair.a, "five@example.com", 1)
    seen = codes(race([attempt(pair.instance(i), login, "000000") for i in range(20)]))
    assert pair.comparisons("totp", account) - before == 5, seen
    assert seen.count("invalid_code") == 4 and seen.count("too_many_attempts") == 1, seen
    assert seen.count("mfa_token_invalid") == 15, seen


def test_right_passwords_at_once_start_no_backoff(pair: Pair) -> None:
    email = "ci-jobs@example.com"
    with httpx.Client(timeout=30) as http:
        r = http.post(f"{pair.a}/api/v1/users", json={"email": email, "password": PASSWORD})
        assert r.status_code == 201, r.text
    body = {"email": email, "password": PASSWORD}
    answers = race(
        [lambda http, i=i: http.post(f"{pair.instance(i)}{LOGIN}", json=body) for i in range(20)]
    )
    assert [r.status_code for r in answers] == [200] * 20, codes(answers)
    wrong = httpx.post(f"{pair.b}{LOGIN}", json={"email": email, "password": "not-the-password"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials", wrong.text


def add_key(pair: Pair, email: str, secret: str, key: SoftAuthenticator) -> None:
    """Sign in with the step after the current one (unused by :func:`enrolled`) and add
    ``key`` as a passkey."""
    with httpx.Client(base_url=pair.a, timeout=30) as http:
        token = http.post(LOGIN, json={"email": email, "password": PASSWORD}).json()["mfa_token"]
        code = totp.code_at_step(secret=secret, step=totp.time_step(datetime.now(UTC)) + 1)
        signed_in = http.post(TOTP, json={"mfa_token": token, "code": code}).json()
        auth = {"Authorization": f"Bearer {signed_in['access_token']}"}
        options = http.post("/api/v1/profile/auth/passkeys/options", headers=auth).json()
        r = http.post(
            "/api/v1/profile/auth/passkeys",
            json={"name": "Key", "credential": key.create(options)},
            headers=auth,
        )
        assert r.status_code == 201, r.text


def test_right_second_factors_at_once_start_no_backoff(pair: Pair) -> None:
    email = "twenty@example.com"
    _, secret, recovery = enrolled(pair, email)
    key = SoftAuthenticator(origin=PUBLIC_URL, counts=False)  # a key that keeps no counter
    add_key(pair, email, secret, key)
    logins = pending_logins(pair.b, email, 20)
    calls: list[Call] = [
        attempt(pair.instance(i), logins[i], code, RECOVERY) for i, code in enumerate(recovery)
    ]
    for i, login in enumerate(logins[10:]):
        options: dict[str, Any] = httpx.post(
            f"{pair.a}/api/v1/auth/mfa/passkey/options", json={"mfa_token": login}
        ).json()
        calls.append(passkey_call(pair.instance(i), login, key.get(options)))
    answers = race(calls)
    assert [r.status_code for r in answers] == [200] * 20, codes(answers)
    [login] = pending_logins(pair.a, email, 1)
    wrong = httpx.post(f"{pair.b}{TOTP}", json={"mfa_token": login, "code": "000000"})
    assert wrong.status_code == 401, wrong.text
    assert wrong.json()["code"] == "invalid_code" and wrong.json()["attempts_remaining"] == 4


def test_one_passkey_assertion_signs_in_once_across_instances(pair: Pair) -> None:
    """The same assertion for one pending login, ten times at once on both instances: one
    sign-in, and the key compared once. The challenge is spent, and the key read, by the
    statement that admits the attempt; the key keeps no counter, so its sign count cannot
    be what stops the others."""
    email = "assertion-race@example.com"
    user, secret, _ = enrolled(pair, email)
    key = SoftAuthenticator(origin=PUBLIC_URL, counts=False)
    add_key(pair, email, secret, key)
    [login] = pending_logins(pair.b, email, 1)
    options = httpx.post(f"{pair.a}/api/v1/auth/mfa/passkey/options", json={"mfa_token": login})
    credential = key.get(options.json())
    answers = race([passkey_call(pair.instance(i), login, credential) for i in range(10)])
    assert sorted(r.status_code for r in answers) == [200] + [401] * 9, codes(answers)
    assert codes(answers).count("mfa_token_invalid") == 9, codes(answers)
    assert pair.comparisons("passkey", user) == 1


def _with_passkey(pair: Pair, email: str, key: SoftAuthenticator) -> str:
    """An account (no password 2FA) with ``key`` registered; its device token."""
    with httpx.Client(base_url=pair.a, timeout=30) as http:
        assert http.post("/api/v1/users", json={"email": email, "password": PASSWORD}).is_success
        signed_in = http.post(LOGIN, json={"email": email, "password": PASSWORD}).json()
        auth = {"Authorization": f"Bearer {signed_in['access_token']}"}
        options = http.post("/api/v1/profile/auth/passkeys/options", headers=auth).json()
        r = http.post(
            "/api/v1/profile/auth/passkeys",
            json={"name": "Key", "credential": key.create(options)},
            headers=auth,
        )
        assert r.status_code == 201, r.text
        return str(signed_in["device_token"])


def _alone(pair: Pair, i: int, key: SoftAuthenticator, **get: Any) -> dict[str, Any]:
    options = httpx.post(f"{pair.instance(i)}/api/v1/auth/passkey/options", json={}).json()
    return key.get(options, **get)


def test_a_passkey_alone_challenge_works_once_across_instances(pair: Pair) -> None:
    key = SoftAuthenticator(origin=PUBLIC_URL, counts=False)
    _with_passkey(pair, "alone-race@example.com", key)
    body = {"credential": _alone(pair, 1, key)}
    answers = race(
        [
            lambda http, i=i: http.post(f"{pair.instance(i)}/api/v1/auth/passkey", json=body)
            for i in range(10)
        ]
    )
    assert sorted(r.status_code for r in answers) == [200] + [401] * 9, codes(answers)
    assert codes(answers).count("invalid_credential") == 9


def test_a_burst_of_bad_passkey_assertions_compares_at_most_ten(pair: Pair) -> None:
    key = SoftAuthenticator(origin=PUBLIC_URL)
    device_token = _with_passkey(pair, "alone-burst@example.com", key)
    bodies = [{"credential": _alone(pair, i, key, tamper=True)} for i in range(30)]
    user = str(next(iter(key.credentials.values())).user_handle.decode())
    before = pair.comparisons("passkey", user)
    answers = race(
        [
            lambda http, i=i: http.post(f"{pair.instance(i)}/api/v1/auth/passkey", json=bodies[i])
            for i in range(30)
        ]
    )
    seen = codes(answers)
    assert pair.comparisons("passkey", user) - before <= 10, seen
    assert seen.count("invalid_credential") <= 10, seen
    assert seen.count("invalid_credential") + seen.count("rate_limited") == 30, seen
    # The owner's known device still gets in; a stranger does not.
    stranger = httpx.post(
        f"{pair.a}/api/v1/auth/passkey", json={"credential": _alone(pair, 0, key)}
    )
    assert stranger.status_code == 429, stranger.text
    known = httpx.post(
        f"{pair.b}/api/v1/auth/passkey",
        json={"credential": _alone(pair, 1, key), "device_token": device_token},
    )
    assert known.status_code == 200, known.text
