"""Where a sign-in's time goes, in-process (no HTTP): statements, round trips, CPU.

    python bench/profile_path.py                 # TOTP, 300 sign-ins on a throwaway PostgreSQL
    python bench/profile_path.py --path recovery --calls 500

Runs the sign-in's flow (``second_factor.sign_in_with_totp`` and friends) with the sync
runner (``db_flow.run``) and a fresh SQLAlchemy session per call, on one thread: the same
statements a served app sends on the event loop on PostgreSQL (``db_async.run``), which
bench/run.py measures over HTTP.
Prints the statement log of one call (pool checkouts, BEGIN/COMMIT and every statement,
each a round trip to the server), CPU and wall time per call, and a cProfile breakdown
by package. Pass ``--url`` to use an existing database seeded by bench/run.py instead.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

import seed  # noqa: E402
from sqlalchemy import Engine, event  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from ankra_auth import db_flow, migrate  # noqa: E402
from ankra_auth.clock import SystemClock  # noqa: E402
from ankra_auth.config import Settings  # noqa: E402
from ankra_auth.context import RequestContext  # noqa: E402
from ankra_auth.db import make_engine, make_session_factory  # noqa: E402
from ankra_auth.security import totp  # noqa: E402
from ankra_auth.signin import second_factor  # noqa: E402
from tests.postgres_server import PostgresServer  # noqa: E402

SECRET_KEY = "bench-secret-key-" + "b" * 32


class StatementLog:
    """Records pool checkouts, transaction boundaries and statements while ``on``."""

    def __init__(self, engine: Engine) -> None:
        self.on = False
        self.lines: list[str] = []
        self.counts: Counter[str] = Counter()
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine.pool, "checkout", self._checkout)
        event.listen(engine, "begin", lambda _conn: self._add("BEGIN"))
        event.listen(engine, "commit", lambda _conn: self._add("COMMIT"))
        event.listen(engine, "rollback", lambda _conn: self._add("ROLLBACK"))
        # pool_pre_ping's "SELECT 1" goes round the statement events: count it here.
        ping = engine.dialect.do_ping

        def do_ping(dbapi_connection: Any) -> bool:
            self._add("SELECT 1 (pool pre-ping)")
            return bool(ping(dbapi_connection))

        engine.dialect.do_ping = do_ping  # type: ignore[method-assign]

    def _add(self, line: str) -> None:
        if self.on:
            self.lines.append(line)
            self.counts[line.split()[0]] += 1

    def _checkout(self, *_args: Any) -> None:
        self._add("checkout")

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.split()
        verb = words[0].upper()
        table = ""
        for keyword in ("FROM", "UPDATE", "INTO"):
            if keyword in (w.upper() for w in words):
                i = [w.upper() for w in words].index(keyword)
                table = words[i + 1] if i + 1 < len(words) else ""
                break
        if statement.strip().upper() == "SELECT 1":
            table = "(pre-ping)"
        self._add(f"{verb} {table}".strip())


def jobs_for(
    path: str, engine: Engine, settings: Settings, users: list[int]
) -> list[dict[str, str]]:
    now = SystemClock().now()
    tokens = seed.pending_logins(engine, users, now=now)
    if path == "totp":
        seed.forget_used_steps(engine)
        step = totp.time_step(now)
        codes = [totp.code_at_step(secret=seed.secret(i), step=step) for i in users]
    else:
        codes = seed.recovery_codes(engine, settings, users, now=now)
    return [{"mfa_token": t, "code": c} for t, c in zip(tokens, codes, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--path", choices=("totp", "recovery"), default="totp")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--url", help="an existing database seeded by bench/run.py")
    parser.add_argument("--top", type=int, default=25, help="functions to list")
    args = parser.parse_args()

    pg = None
    url = args.url
    if url is None:
        pg = PostgresServer()
        pg.start()
        url = pg.create_database("profile")
    try:
        settings = Settings(database_url=url, secret_key=SECRET_KEY)
        engine = make_engine(settings)
        if args.url is None:
            migrate.upgrade(engine)
            now = SystemClock().now()
            count = args.calls + 1
            seed.seed_active(
                engine, settings, first=0, count=count, pw_hash=seed.password_hash(), now=now
            )
        run(args.path, engine, settings, args.calls, args.top)
        engine.dispose()
    finally:
        if pg is not None:
            pg.stop()


def run(path: str, engine: Engine, settings: Settings, calls: int, top: int = 25) -> None:
    factory = make_session_factory(engine)
    sign_in: Callable[..., Any] = (
        second_factor.sign_in_with_totp
        if path == "totp"
        else second_factor.sign_in_with_recovery_code
    )
    log = StatementLog(engine)

    def one(job: dict[str, str]) -> None:
        with factory() as db:
            db_session: Session = db
            try:
                ctx = RequestContext(now=SystemClock().now(), ip="127.0.0.1", user_agent="bench")
                dialect = engine.dialect.name
                flow = sign_in(dialect=dialect, settings=settings, ctx=ctx, **job)
                db_flow.run(db_session, flow)
            finally:
                db_session.rollback()

    jobs = jobs_for(path, engine, settings, list(range(calls + 1)))
    one(jobs[0])  # warm-up: compiled statement caches, pool connections
    log.on = True
    one(jobs[1]) if calls > 1 else None
    log.on = False
    print(f"One {path} sign-in, in order ({len(log.lines)} events):")
    for line in log.lines:
        print(f"  {line}")
    trips = sum(n for k, n in log.counts.items() if k != "checkout")
    print(f"  = {log.counts['checkout']} pool checkouts, {trips} round trips ({dict(log.counts)})")

    jobs = jobs_for(path, engine, settings, list(range(calls)))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for job in jobs[: calls // 2]:
        one(job)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    n = calls // 2
    print(
        f"\n{n} sign-ins in a loop: {cpu * 1000 / n:.2f} ms CPU, {wall * 1000 / n:.2f} ms wall each"
    )

    # CPU time, not wall: waiting for the database must not count as the driver's work.
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for job in jobs[calls // 2 :]:
        one(job)
    profiler.disable()
    stats = pstats.Stats(profiler)
    n_profiled = calls - calls // 2
    by_package: Counter[str] = Counter()
    total = 0.0
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        total += tottime
        by_package[package_of(filename)] += tottime
    print(f"\ncProfile, own CPU time by package ({calls - n} sign-ins; profiling inflates it):")
    for name, seconds in by_package.most_common(12):
        print(f"  {name:<28} {seconds * 100 / total:5.1f} %")
    print(f"\nTop {top} functions by cumulative CPU (share of the sign-in):")
    rows = sorted(
        (
            (cumtime, f"{filename.split('site-packages/')[-1].split('/src/')[-1]}:{name}", calls)
            for (filename, _line, name), (_cc, calls, _tt, cumtime, _callers) in stats.stats.items()  # type: ignore[attr-defined]
            if "ankra_auth" in filename or "sqlalchemy" in filename or "psycopg" in filename
        ),
        reverse=True,
    )
    for cumtime, where, calls in rows[:top]:
        print(f"  {cumtime * 100 / total:5.1f} %  {calls // (n_profiled or 1):4d}/call  {where}")


def package_of(filename: str) -> str:
    for marker, name in (
        ("sqlalchemy", "sqlalchemy"),
        ("psycopg", "psycopg (driver)"),
        ("ankra_auth", "ankra_auth"),
        ("pyotp", "pyotp"),
        ("cryptography", "cryptography"),
        ("pydantic", "pydantic"),
        ("logging", "logging"),
        ("prometheus", "prometheus_client"),
    ):
        if marker in filename:
            return name
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (socket calls, hashing, ...)"
    return "other stdlib"


if __name__ == "__main__":
    main()
