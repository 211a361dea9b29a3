"""``ankra-auth backup`` while a real service signs people in, and ``ankra-auth restore``
into a fresh folder: every account that existed at backup time signs in there."""

from __future__ import annotations

import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ankra_auth.config import Settings
from tests.faults.services import code, new_email
from tests.helpers import PASSWORD
from tests.live_server import service_process
from tests.test_admin import run_admin

# The embedded default: no ANKRA_SECRET_KEY, the key generated into secret.key beside
# the database (an empty value counts as unset; the tests' own key is in the environment).
KEY_FROM_FILE = {"ANKRA_SECRET_KEY": ""}


@dataclass(frozen=True)
class Enrolled:
    email: str
    totp_secret: str
    started_at: float  # time.monotonic() before its sign-up
    done_at: float  # and once its TOTP was confirmed


def _env(database: Path) -> dict[str, str]:
    return {"ANKRA_DATABASE_URL": f"sqlite:///{database}", **KEY_FROM_FILE}


def _enroll(http: httpx.Client, base: str) -> Enrolled:
    started_at = time.monotonic()
    email = new_email("backup")
    assert http.post(f"{base}/api/v1/users", json={"email": email, "password": PASSWORD}).is_success
    login = http.post(f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    secret = http.post(f"{base}/api/v1/profile/auth/totp", headers=auth).json()["secret"]
    confirm = http.post(
        f"{base}/api/v1/profile/auth/totp/confirm", headers=auth, json={"code": code(secret)}
    )
    assert confirm.status_code == 200, confirm.text
    return Enrolled(email, secret, started_at, time.monotonic())


def _sign_in(http: httpx.Client, base: str, account: Enrolled) -> int:
    """Password, then a TOTP code of the next step (the enrolment spent the current one)."""
    login = http.post(
        f"{base}/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    if login.status_code != 200 or login.json()["status"] != "mfa_required":
        return login.status_code
    totp = http.post(
        f"{base}/api/v1/auth/mfa/totp",
        json={"mfa_token": login.json()["mfa_token"], "code": code(account.totp_secret, 1)},
    )
    return totp.status_code


class Writers:
    """One thread enrolls new accounts, another signs people in, until stopped."""

    def __init__(self, base: str, signing_in: list[str]) -> None:
        self.base = base
        self.signing_in = signing_in
        self.enrolled: list[Enrolled] = []
        self.sign_ins: list[int] = []
        self.failures: list[BaseException] = []
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._guarded, args=(work,), daemon=True)
            for work in (self._enroll_accounts, self._sign_people_in)
        ]

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _guarded(self, work: object) -> None:
        try:
            work()  # type: ignore[operator]
        except BaseException as exc:  # reported by the test, not lost in a thread
            self.failures.append(exc)

    def _enroll_accounts(self) -> None:
        with httpx.Client(timeout=30) as http:
            while not self.stop.is_set():
                self.enrolled.append(_enroll(http, self.base))

    def _sign_people_in(self) -> None:
        with httpx.Client(timeout=30) as http:
            while not self.stop.is_set():
                for email in self.signing_in:
                    r = http.post(
                        f"{self.base}/api/v1/auth/login",
                        json={"email": email, "password": PASSWORD},
                    )
                    self.sign_ins.append(r.status_code)


def test_a_backup_taken_while_serving_restores_every_account(tmp_path: Path) -> None:
    live = tmp_path / "live" / "ankra.db"
    live.parent.mkdir()
    backup = tmp_path / "backups" / "ankra-1.db"
    backup.parent.mkdir()
    with service_process(
        f"sqlite:///{live}", log_path=tmp_path / "live.log", extra_env=KEY_FROM_FILE
    ) as base:
        plain = [new_email("plain") for _ in range(2)]
        for email in plain:
            r = httpx.post(f"{base}/api/v1/users", json={"email": email, "password": PASSWORD})
            assert r.status_code == 201, r.text
        with Writers(base, plain) as writers:
            while len(writers.enrolled) < 4 or len(writers.sign_ins) < 4:
                assert not writers.failures, writers.failures
                time.sleep(0.05)
            taken_at = time.monotonic()
            result = run_admin("backup", str(backup), env=_env(live))
            assert result.returncode == 0, result.stderr
            backed_up = time.monotonic()
            while not any(a.started_at > backed_up for a in writers.enrolled):
                assert not writers.failures, writers.failures
                time.sleep(0.05)  # the service goes on writing after the backup
        assert not writers.failures, writers.failures
        assert set(writers.sign_ins) == {200}
        existed = [a for a in writers.enrolled if a.done_at < taken_at]
        after = [a for a in writers.enrolled if a.started_at > backed_up]
    key_copy = tmp_path / "backups" / "ankra-1.db.secret.key"
    assert stat.S_IMODE(key_copy.stat().st_mode) == 0o600
    assert key_copy.read_bytes() == (live.parent / "secret.key").read_bytes()
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600

    fresh = tmp_path / "fresh" / "ankra.db"  # a folder that does not exist yet
    result = run_admin("restore", str(backup), env=_env(fresh))
    assert result.returncode == 0, result.stderr
    assert (fresh.parent / "secret.key").read_bytes() == key_copy.read_bytes()
    assert stat.S_IMODE((fresh.parent / "secret.key").stat().st_mode) == 0o600
    with (
        service_process(
            f"sqlite:///{fresh}", log_path=tmp_path / "fresh.log", extra_env=KEY_FROM_FILE
        ) as base,
        httpx.Client(timeout=30) as http,
    ):
        for account in existed:
            assert _sign_in(http, base, account) == 200, account.email
        for email in plain:
            r = http.post(f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            assert r.status_code == 200, r.text
        for account in after:  # the copy is of its moment: later accounts are not in it
            assert _sign_in(http, base, account) == 401
    print(f"backup: {len(existed)} enrolled accounts at backup time, all signed in restored")


def test_restore_refuses_while_a_service_holds_the_database(tmp_path: Path) -> None:
    live = tmp_path / "ankra.db"
    with service_process(
        f"sqlite:///{live}", log_path=tmp_path / "live.log", extra_env=KEY_FROM_FILE
    ):
        backup = tmp_path / "copy.db"
        assert run_admin("backup", str(backup), env=_env(live)).returncode == 0
        refused = run_admin("restore", str(backup), env=_env(live))
        assert refused.returncode == 1
        assert "a running service holds" in refused.stderr and "Traceback" not in refused.stderr
    done = run_admin("restore", str(backup), env=_env(live))  # the service stopped
    assert done.returncode == 0, done.stderr


def test_backup_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    pg = run_admin(
        "backup",
        str(tmp_path / "x.db"),
        env={"ANKRA_DATABASE_URL": "postgresql+psycopg://u@db.invalid/ankra"},
    )
    assert pg.returncode == 1 and "pg_dump" in pg.stderr
    assert len(pg.stderr.strip().splitlines()) == 1 and not (tmp_path / "x.db").exists()

    live = tmp_path / "ankra.db"
    assert run_admin("migrate", env=_env(live)).returncode == 0
    taken = tmp_path / "taken.db"
    taken.write_bytes(b"something else")
    again = run_admin("backup", str(taken), env=_env(live))
    assert again.returncode == 1 and "exists" in again.stderr
    assert taken.read_bytes() == b"something else"

    not_a_backup = run_admin("restore", str(taken), env=_env(tmp_path / "other.db"))
    assert not_a_backup.returncode == 1 and "not an Ankra Auth SQLite backup" in (
        not_a_backup.stderr
    )


@pytest.mark.parametrize("given", ["wrong", "right"])
def test_restore_with_a_key_in_the_environment_checks_it_opens_the_backup(
    tmp_path: Path, given: str
) -> None:
    live = tmp_path / "ankra.db"
    assert run_admin("migrate", env=_env(live)).returncode == 0
    key = Settings(database_url=f"sqlite:///{live}", secret_key=None).secret.decode()
    assert run_admin("backup", str(tmp_path / "copy.db"), env=_env(live)).returncode == 0
    assert (tmp_path / "copy.db.secret.key").read_text().strip() == key
    env = {
        "ANKRA_DATABASE_URL": f"sqlite:///{tmp_path / 'restored' / 'ankra.db'}",
        "ANKRA_SECRET_KEY": key if given == "right" else "another-key-" + "k" * 32,
    }
    result = run_admin("restore", str(tmp_path / "copy.db"), env=env)
    if given == "right":
        assert result.returncode == 0, result.stderr
        assert not (tmp_path / "restored" / "secret.key").exists()  # the key stays in env
    else:
        assert result.returncode == 1 and "unreadable" in result.stderr
