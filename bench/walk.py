"""The walk of one TOTP sign-in through the service's own modules, from its route to its answer.

    python bench/walk.py [--wrong]


On a throwaway PostgreSQL (the event loop's way, the hot path), signs up an account with
TOTP in-process, starts a sign-in, then traces every call into an ``ankra_auth`` module, on
every thread, while ``POST /api/v1/auth/mfa/totp`` is answered (``--wrong``: a wrong code). Prints the distinct
modules in the order first entered, and how often the walk crossed into each package (a
crossing is a call from one of our packages into another; a generator resumed is not a
call): one way per step reads as few crossings per package.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from fastapi.testclient import TestClient  # noqa: E402

from ankra_auth import migrate  # noqa: E402
from ankra_auth.app import create_app  # noqa: E402
from ankra_auth.clock import FrozenClock  # noqa: E402
from ankra_auth.config import Settings  # noqa: E402
from ankra_auth.db import make_engine  # noqa: E402
from ankra_auth.security import totp  # noqa: E402
from tests.postgres_server import PostgresServer  # noqa: E402

OURS = "ankra_auth."
RESUMABLE = 0x20 | 0x80 | 0x200  # generators, coroutines, async generators


def _module(frame: FrameType) -> str:
    return str(frame.f_globals.get("__name__", ""))


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else module


class Walk:
    def __init__(self) -> None:
        self.on = False
        self.order: list[str] = []
        self.crossings: Counter[str] = Counter()
        self.edges: list[str] = []

    def __call__(self, frame: FrameType, event: str, _arg: Any) -> None:
        if (
            not self.on
            or event != "call"
            or (frame.f_code.co_flags & RESUMABLE and frame.f_lasti > 0)
        ):
            return  # a generator or coroutine resumed is the same step going on
        module = _module(frame)
        if not module.startswith(OURS):
            return
        if module not in self.order:
            self.order.append(module)
        caller = frame.f_back
        caller_module = _module(caller) if caller is not None else ""
        if caller_module.startswith(OURS) and _package(caller_module) != _package(module):
            self.crossings[_package(module)] += 1
            self.edges.append(f"{caller_module} -> {module}.{frame.f_code.co_name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wrong", action="store_true", help="walk a wrong code instead")
    parser.add_argument("--verbose", action="store_true", help="print every crossing")
    args = parser.parse_args()
    pg = PostgresServer()
    pg.start()
    try:
        _walk(pg.create_database("walk"), wrong=args.wrong, verbose=args.verbose)
    finally:
        pg.stop()


def _walk(url: str, *, wrong: bool, verbose: bool) -> None:
    settings = Settings(database_url=url, secret_key="walk-" + "k" * 40)
    migrate.upgrade(make_engine(settings))
    clock = FrozenClock(datetime(2026, 12, 7, 12, 0, 15, tzinfo=UTC))
    app = create_app(settings, clock)
    walk = Walk()
    threading.setprofile(walk)  # every thread started from here: the app's loop, its workers
    with TestClient(app, base_url="http://localhost:8000") as client:
        email, password = "walk@example.com", "correct horse battery"
        client.post("/api/v1/users", json={"email": email, "password": password})
        token = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        secret = client.post("/api/v1/profile/auth/totp", headers=auth).json()["secret"]
        code = totp.code_at_step(secret=secret, step=totp.time_step(clock.now()))
        client.post("/api/v1/profile/auth/totp/confirm", json={"code": code}, headers=auth)
        clock.advance(30)
        mfa = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        body = {"mfa_token": mfa.json()["mfa_token"], "code": ""}
        body["code"] = totp.code_at_step(secret=secret, step=totp.time_step(clock.now()))
        client.post("/api/v1/auth/mfa/totp", json=body)  # warm: imports, caches
        clock.advance(30)
        mfa = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        body = {"mfa_token": mfa.json()["mfa_token"], "code": ""}
        body["code"] = totp.code_at_step(secret=secret, step=totp.time_step(clock.now()))
        if wrong:
            body["code"] = "000000"
        walk.on = True
        answer = client.post("/api/v1/auth/mfa/totp", json=body)
        walk.on = False
        if answer.status_code != (401 if wrong else 200):
            raise SystemExit(f"the sign-in failed: {answer.text}")
    app.state.engine.dispose()
    print(f"{len(walk.order)} modules, in the order first entered:")
    for module in walk.order:
        print(f"  {module}")
    if verbose:
        print("calls from one of our packages into another, in order:")
        for edge in walk.edges:
            print(f"  {edge}")
    print("calls into each package from another of ours:")
    for package, count in walk.crossings.most_common():
        print(f"  {package:24} {count}")


if __name__ == "__main__":
    main()
