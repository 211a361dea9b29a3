"""SQLite: two ``serve`` processes on one file, and a disk that fills up under the service."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.faults.checks import Answer, assert_unavailable_or_expected, timed
from tests.faults.seed import plain_users
from tests.faults.services import new_email, running, sign_up, start_service
from tests.helpers import PASSWORD

pytestmark = pytest.mark.faults

BURST = 40


def test_two_processes_on_one_file_wait_for_each_other(tmp_path: Path) -> None:
    database = tmp_path / "ankra.db"
    url = f"sqlite:///{database}"
    a = start_service(url, log_path=tmp_path / "a.log")
    b = start_service(url, log_path=tmp_path / "b.log")
    with running(a, b):
        existing = plain_users(url, BURST // 2, prefix="burst-in")
        fresh = [new_email("burst-up") for _ in range(BURST // 2)]
        requests = [("sign-up", "/api/v1/users", e) for e in fresh] + [
            ("sign-in", "/api/v1/auth/login", e) for e in existing
        ]
        bases = [a.base, b.base]
        answers: dict[int, Answer] = {}
        barrier = threading.Barrier(BURST)

        def send(i: int) -> None:
            what, path, email = requests[i]
            with httpx.Client(timeout=60) as http:
                barrier.wait()
                answers[i] = timed(
                    what,
                    http,
                    "POST",
                    f"{bases[i % 2]}{path}",
                    json={"email": email, "password": PASSWORD},
                )

        threads = [threading.Thread(target=send, args=(i,)) for i in range(BURST)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert len(answers) == BURST
        statuses = sorted(str(a) for a in answers.values() if a.status >= 500)
        assert not statuses, statuses  # not even a 503: "database is locked" must be a wait
        assert all(
            answers[i].status == (201 if what == "sign-up" else 200)
            for i, (what, _, _) in enumerate(requests)
        ), [str(a) for a in answers.values()]
        # No lost write: every session works on the other process, every sign-up is stored.
        for i, (what, _, _) in enumerate(requests):
            if what == "sign-in":
                token = answers[i].body["access_token"]
                me = httpx.get(
                    f"{bases[(i + 1) % 2]}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                )
                assert me.status_code == 200, me.text
    with closing(sqlite3.connect(database)) as db:
        stored = {row[0] for row in db.execute("SELECT email FROM users")}
    assert set(fresh) | set(existing) <= stored


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs (root only); unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root; no small filesystem to fill")
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True, capture_output=True)


def _fill(directory: Path) -> Path:
    """Write a file until the filesystem has no block left."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as handle:
        for chunk in (1 << 20, 1 << 16, 1 << 12, 1 << 9):
            while True:
                try:
                    handle.write(b"\0" * chunk)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    break
    return filler


def test_a_full_disk_answers_503_writes_nothing_half_and_recovers(
    small_filesystem: Path, tmp_path: Path
) -> None:
    database = small_filesystem / "ankra.db"
    url = f"sqlite:///{database}"
    service = start_service(url, log_path=tmp_path / "service.log")
    with running(service):
        assert sign_up(service.base, new_email("before")).status_code == 201
        filler = _fill(small_filesystem)
        refused: list[str] = []
        with httpx.Client(timeout=30) as http:
            for _ in range(10):  # SQLite may still fit a write or two in pages it holds
                email = new_email("full")
                answer = timed(
                    "sign-up",
                    http,
                    "POST",
                    f"{service.base}/api/v1/users",
                    json={"email": email, "password": PASSWORD},
                )
                assert_unavailable_or_expected([answer], {201})
                if answer.status == 503:
                    refused.append(email)
                    if len(refused) == 3:
                        break
        assert refused, "the disk filled up but every write still succeeded"
        assert "database unavailable: OperationalError: database or disk is full" in (service.log())
        # Reads still work: sessions keep answering while the disk is full.
        assert httpx.get(f"{service.base}/healthz").status_code == 200

        filler.unlink()
        for email in refused:  # nothing half-written: the refused sign-ups are not there
            assert sign_up(service.base, email).status_code == 201
        r = httpx.post(
            f"{service.base}/api/v1/auth/login", json={"email": refused[0], "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
