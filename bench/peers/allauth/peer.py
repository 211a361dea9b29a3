"""django-allauth side by side: its environment, its database, its server, its requests.

Run from bench/run.py (``--peer allauth``) with the benchmark's Python; everything of
Django's runs with the peer's own (bench/peers/allauth/.venv, made on first use from
requirements.txt, git-ignored), never the project's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import seed
from options import note
from servers import Server, server
from wrk import Job, write_jobs

from ankra_auth.clock import SystemClock
from ankra_auth.security import totp
from tests.postgres_server import free_port

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
PYTHON = VENV / "bin" / "python"
AUTHENTICATE = "/_allauth/app/v1/auth/2fa/authenticate"
LABEL = "allauth POST /_allauth/app/v1/auth/2fa/authenticate"
PASSWORD = "bench-peer-password-1"  # noqa: S105 - the benchmark's throwaway accounts


def email(i: int) -> str:
    return f"peer{i}@bench.example"


def ensure_venv() -> None:
    """The peer's own environment, made once from requirements.txt."""
    if PYTHON.exists():
        return
    note(f"installing the allauth peer into {VENV} (first run, about a minute)")
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(PYTHON), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(HERE / "requirements.txt")], check=True)


def versions() -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json, platform;"
        "print(json.dumps({n: m.version(n) for n in "
        "('django-allauth', 'Django', 'gunicorn', 'psycopg')} | "
        "{'Python': platform.python_version()}))"
    )
    done = subprocess.run([str(PYTHON), "-c", code], check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout))


class Peer:
    """The peer's database (in the run's PostgreSQL) and what it runs there."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        # Django's own URL form: no SQLAlchemy driver name.
        self.url = database_url.replace("postgresql+psycopg://", "postgresql://")
        self.workdir = workdir
        self.env = {**os.environ, "PEER_DATABASE_URL": self.url, "PYTHONPATH": str(HERE)}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)

    def _django(self, *args: str, given: str = "") -> str:
        cmd = [str(PYTHON), str(HERE / "peer_seed.py"), *args]
        done = subprocess.run(
            cmd, input=given, env=self.env, cwd=HERE, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"peer_seed.py {args[0]} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def prepare(self, count: int) -> None:
        """Its tables, and ``count`` accounts with an authenticator app (the same secrets
        as the service's users, bench/seed.py)."""
        self._django("migrate")
        lines = "".join(f"{email(i)}\t{seed.secret(i)}\n" for i in range(count))
        self._django("users", PASSWORD, given=lines)

    def round_trips(self, i: int) -> dict[str, Any]:
        """One second step, in-process: its statements, transactions and round trips."""
        code = totp.code_at_step(secret=seed.secret(i), step=totp.time_step(SystemClock().now()))
        return dict(json.loads(self._django("count", PASSWORD, email(i), code)))

    def totp(self, users: Sequence[int]) -> Path:
        """Each request: a sign-in waiting for its second factor (the password step done
        just before), with the code of the current step."""
        emails = "".join(email(i) + "\n" for i in users)
        tokens = self._django("logins", PASSWORD, given=emails).split()
        step = totp.time_step(SystemClock().now())

        def jobs() -> Iterator[Job]:
            for i, token in zip(users, tokens, strict=True):
                code = totp.code_at_step(secret=seed.secret(i), step=step)
                yield "POST", AUTHENTICATE, {"code": code}, {"X-Session-Token": token}

        return write_jobs(self.workdir / "allauth.tsv", jobs())

    @contextmanager
    def serve(self, threads: int = 8) -> Iterator[Server]:
        """gunicorn, one gthread worker with ``threads`` threads, no access log."""
        port = free_port()
        cmd = [str(VENV / "bin" / "gunicorn"), "peer_wsgi:application", "--chdir", str(HERE)]
        cmd += ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "gthread"]
        cmd += ["--threads", str(threads), "--log-level", "warning"]
        with server(cmd, self.env, self.workdir / "allauth.log", port) as srv:
            yield srv
