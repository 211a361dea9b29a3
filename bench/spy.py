"""Where a served sign-in's CPU goes: py-spy on ``ankra-auth serve`` under wrk.

    python bench/spy.py --path totp --seconds 20 [--py-spy PATH] [-o stacks.txt]

Starts a throwaway PostgreSQL and the service (one worker, as bench/run.py does), keeps
wrk on one path for ``--seconds`` while py-spy samples the server (CPU only: threads
waiting are not counted), then prints the own and the cumulative share of the busiest
functions and of each package. py-spy is not a project dependency: ``pip install py-spy``
into any environment and pass its path.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

import seed  # noqa: E402
from options import Options  # noqa: E402
from paths import PATHS, Users, Workloads  # noqa: E402
from servers import PUBLIC_URL, SECRET_KEY, service  # noqa: E402
from wrk import wrk  # noqa: E402

from ankra_auth import migrate  # noqa: E402
from ankra_auth.clock import SystemClock  # noqa: E402
from ankra_auth.config import Settings  # noqa: E402
from ankra_auth.db import make_engine  # noqa: E402
from tests.postgres_server import PostgresServer  # noqa: E402


def package(frame: str) -> str:
    where = frame.rpartition("(")[2]
    for marker in (
        "ankra_auth",
        "sqlalchemy",
        "psycopg",
        "starlette",
        "fastapi",
        "uvicorn",
        "h11",
        "pydantic",
        "anyio",
        "asyncio",
        "prometheus",
        "logging",
        "json",
    ):
        if marker in where:
            return marker
    return "other"


def summarize(stacks: Path, top: int) -> None:
    own: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in stacks.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        packages[package(frames[-1])] += count
        for frame in set(frames):
            cumulative[frame] += count
    print(f"{total} samples (CPU only)\nown time by package:")
    for name, n in packages.most_common():
        print(f"  {name:<12} {n * 100 / total:5.1f} %")
    print(f"\ntop {top} by own time:")
    for frame, n in own.most_common(top):
        print(f"  {n * 100 / total:5.1f} %  {frame}")
    print(f"\ntop {top} by cumulative time:")
    for frame, n in cumulative.most_common(top):
        print(f"  {n * 100 / total:5.1f} %  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", choices=PATHS, default="totp")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("-o", "--output", type=Path, help="keep the collapsed stacks here")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    pg = PostgresServer()
    pg.start()
    try:
        with tempfile.TemporaryDirectory(prefix="ankra-spy-") as tmp:
            workdir = Path(tmp)
            opts = Options(
                users=args.users,
                small=0,
                big=0,
                clients=32,
                threads=1,
                duration=5,
                warmup=1,
                rounds=0,
                storm=0,
                cli_runs=0,
                workdir=workdir,
                server_env=dict(kv.split("=", 1) for kv in args.server_env),
            )
            url = pg.create_database("spy")
            settings = Settings(database_url=url, secret_key=SECRET_KEY, public_url=PUBLIC_URL)
            engine = make_engine(settings)
            migrate.upgrade(engine)
            now = SystemClock().now()
            seed.seed_active(
                engine, settings, first=0, count=args.users, pw_hash=seed.password_hash(), now=now
            )
            seed.seed_passkeys(
                engine, first=0, count=args.users, public_key=seed.bench_public_key(), now=now
            )
            work, users = Workloads(engine, settings, opts), Users(args.users)
            make = getattr(work, args.path)
            stacks = args.output or workdir / "stacks.txt"
            with service(url, workdir, opts.server_env, "service.log") as svc:
                wrk(svc, make(users.take(1000)), connections=32, threads=1, duration=3)
                spy = subprocess.Popen(
                    [
                        args.py_spy,
                        "record",
                        "-p",
                        str(svc.pid),
                        "-f",
                        "raw",
                        "-o",
                        str(stacks),
                        "-d",
                        str(int(args.seconds)),
                        "-r",
                        "200",
                        "--nonblocking",
                        "--gil",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                began, done = time.monotonic(), []
                while spy.poll() is None:
                    jobs = make(users.take(4000))
                    done.append(wrk(svc, jobs, connections=32, threads=1, duration=5))
                    if time.monotonic() - began > args.seconds + 10:
                        break
                spy.wait()
            for r in done:
                print(
                    f"  {r['rps']:,.0f} req/s, {r['cpu_ms_per_req']:.2f} ms CPU/req, "
                    f"p99 {r['p99_ms']:.0f} ms, {r['errors']} errors"
                )
            summarize(stacks, args.top)
            engine.dispose()
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
