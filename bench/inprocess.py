"""A served app's own CPU per sign-in, in-process: the ASGI app called directly, no sockets.

    python bench/inprocess.py --path totp --requests 4000 --concurrency 32 [--rounds 3]

The app ``ankra-auth serve`` makes (``create_app``, its lifespan: the event loop's pool,
``gc.freeze()``) on a throwaway PostgreSQL, driven by ``--concurrency`` tasks on one event
loop. What it prints is this process's CPU time (``time.process_time``) per request: the
app, FastAPI, the middleware and the driver, without uvicorn, h11 and the kernel's
sockets. Being CPU time of this process only, it moves far less with other load on the
machine than req/s does: the figure for before/after comparisons of the service's code.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

import seed  # noqa: E402
from options import Options  # noqa: E402
from paths import PATHS, Users, Workloads  # noqa: E402
from servers import PUBLIC_URL, SECRET_KEY  # noqa: E402

from ankra_auth import migrate  # noqa: E402
from ankra_auth.app import create_app  # noqa: E402
from ankra_auth.clock import SystemClock  # noqa: E402
from ankra_auth.config import Settings  # noqa: E402
from ankra_auth.db import make_engine  # noqa: E402
from tests.postgres_server import PostgresServer  # noqa: E402


def requests_of(jobs: Path) -> list[tuple[str, bytes]]:
    out = []
    for line in jobs.read_text().splitlines():
        _method, path, body = line.split("\t")[:3]
        out.append((path, body.encode()))
    return out


async def call(app: Any, path: str, body: bytes) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def drive(app: Any, requests: list[tuple[str, bytes]], concurrency: int) -> dict[str, Any]:
    queue = list(reversed(requests))
    statuses: dict[int, int] = {}

    async def worker() -> None:
        while queue:
            path, body = queue.pop()
            status = await call(app, path, body)
            statuses[status] = statuses.get(status, 0) + 1

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    n = len(requests)
    return {"cpu_ms": cpu * 1000 / n, "rps": n / wall, "statuses": statuses}


async def measure(app: Any, make: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    async with app.router.lifespan_context(app):
        await drive(app, requests_of(make(500)), args.concurrency)  # warm: pool, caches
        out = []
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        for _ in range(args.rounds):
            jobs = requests_of(make(args.requests))
            if profiler is not None:
                profiler.enable()
            result = await drive(app, jobs, args.concurrency)
            if profiler is not None:
                profiler.disable()
            print(
                f"  {result['cpu_ms']:.3f} ms CPU/req, {result['rps']:,.0f} req/s, "
                f"{json.dumps(result['statuses'])}",
                flush=True,
            )
            out.append(result)
        if profiler is not None:
            profiler.dump_stats(args.profile)
            # Unlike time, the count of Python calls does not move with the machine's load:
            # the figure docs/performance.md compares code changes by (print_stats() heads
            # its table with it; typeshed does not declare the attribute).
            calls = pstats.Stats(profiler).total_calls  # type: ignore[attr-defined]
            print(f"  {calls / (args.requests * args.rounds):,.0f} function calls per request")
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", choices=PATHS, default="totp")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--profile", type=Path, help="also write a cProfile of the rounds here")
    args = parser.parse_args()
    pg = PostgresServer()
    pg.start()
    try:
        with tempfile.TemporaryDirectory(prefix="ankra-inprocess-") as tmp:
            url = pg.create_database("inprocess")
            settings = Settings(database_url=url, secret_key=SECRET_KEY, public_url=PUBLIC_URL)
            engine = make_engine(settings)
            migrate.upgrade(engine)
            now = SystemClock().now()
            pw_hash = seed.password_hash()
            seed.seed_active(engine, settings, first=0, count=args.users, pw_hash=pw_hash, now=now)
            public_key = seed.bench_public_key()
            seed.seed_passkeys(engine, first=0, count=args.users, public_key=public_key, now=now)
            opts = Options(
                users=args.users,
                small=0,
                big=0,
                clients=args.concurrency,
                threads=1,
                duration=0,
                warmup=0,
                rounds=0,
                storm=0,
                cli_runs=0,
                workdir=Path(tmp),
                server_env={},
            )
            work, users = Workloads(engine, settings, opts), Users(args.users)
            path_jobs = getattr(work, args.path)
            app = create_app(settings)
            gc.freeze()  # as ankra-auth serve does (app.create_served_app)
            results = asyncio.run(measure(app, lambda n: path_jobs(users.take(n)), args))
            median = statistics.median(r["cpu_ms"] for r in results)
            print(f"{args.path}: median {median:.3f} ms CPU per request (in-process)")
            app.state.engine.dispose()
            engine.dispose()
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
