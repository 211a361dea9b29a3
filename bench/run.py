"""Ankra Auth benchmark: every sign-in path against bare FastAPI references and a peer, by wrk.

    python bench/run.py                      # the full run recorded in docs/performance.md
    python bench/run.py --quick              # a few minutes: small tables, short phases
    python bench/run.py --json out.json      # also save the figures (bench/chart.py draws them)
    python bench/run.py --side-by-side-only  # only the table (before/after comparisons)
    python bench/run.py --cli-only           # only the CLI start-to-exit figure (seconds)

A throwaway PostgreSQL is started and seeded (users with TOTP, a passkey each); then, with
one worker each and ``wrk -c32``, in the same run:

- the references: bench/bare_app.py, FastAPI parsing the same pydantic body as the TOTP
  step, no database; an ``async def`` route (the reference every ratio divides by) and a
  ``def`` one (FastAPI's threadpool), same uvicorn and flags as the service;
- ``ankra-auth serve`` (observability on, as operators run it): the TOTP, recovery-code and
  passkey second steps and the passkey-alone sign-in, each request a distinct pending login
  with its correct proof, pre-created and read by bench/requests.lua so wrk makes the load;
- the TOTP step again with ``--workers N`` (default 2) and through PgBouncer in
  transaction mode (``--no-through-pgbouncer`` skips it);
- the peer (``--peer allauth``, bench/peers/allauth/): django-allauth's own TOTP step
  under gunicorn, on the same PostgreSQL, with the same kind of requests;
- TOTP p50 with 1,000 users in the tables and again with 1,000,000;
- a storm of 200 simultaneous password logins (fresh process, answered in full, peak RSS);
- ``ankra profile auth status`` with a saved session, median wall time over N runs.

Server CPU per request comes from /proc/PID/stat (utime + stime of the process tree)
around each phase; the peak RSS of each phase from VmHWM (reset before the phase through
/proc/PID/clear_refs), the largest process's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))  # tests.postgres_server, tests.soft_authenticator

import cli_timing  # noqa: E402
import report  # noqa: E402
import seed  # noqa: E402
from options import Options, note  # noqa: E402
from paths import PATHS, Users, Workloads  # noqa: E402
from servers import PUBLIC_URL, SECRET_KEY, Server, bare_server, pgbouncer, service  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402
from wrk import phase, wrk  # noqa: E402

from ankra_auth import migrate  # noqa: E402
from ankra_auth.clock import SystemClock  # noqa: E402
from ankra_auth.config import Settings  # noqa: E402
from ankra_auth.db import make_engine  # noqa: E402
from tests.postgres_server import PostgresServer  # noqa: E402

# Said to the service when it runs behind PgBouncer in transaction mode: prepare nothing.
POOLER_ENV = {"ANKRA_DB_TRANSACTION_POOLER": "1"}


def run(opts: Options) -> dict[str, Any]:
    pg = PostgresServer()
    pg.start()
    try:
        url = pg.create_database("bench")
        settings = Settings(database_url=url, secret_key=SECRET_KEY, public_url=PUBLIC_URL)
        engine = make_engine(settings)
        migrate.upgrade(engine)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name, value in opts.db_settings.items():  # for every later connection
                conn.execute(text(f"ALTER DATABASE bench SET {name} = '{value}'"))
        if pg.process is not None:
            opts = replace(opts, db_pids=(pg.process.pid,))
        out = measure(engine, settings, url, pg, opts)
        out["server_env"] = opts.server_env
        engine.dispose()
        return out
    finally:
        pg.stop()


def grow(engine: Engine, settings: Settings, *, first: int, count: int, pw_hash: str) -> None:
    began = time.perf_counter()
    now = SystemClock().now()
    seed.seed_active(engine, settings, first=first, count=count, pw_hash=pw_hash, now=now)
    public_key = seed.bench_public_key()
    seed.seed_passkeys(engine, first=first, count=count, public_key=public_key, now=now)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    note(f"  seeded {first + count:,} users in {time.perf_counter() - began:.1f} s")


def scaling_rounds(srv: Server, work: Workloads, opts: Options) -> list[dict[str, Any]]:
    """``rounds`` x ``small`` TOTP sign-ins by the same ``small`` users, every one measured."""
    rounds = []
    for _ in range(opts.rounds):
        jobs = work.totp(range(opts.small))
        # Timed mode: wrk stops when the round's requests run out (the last few in flight
        # then go unmeasured; p50 is what this compares).
        rounds.append(wrk(srv, jobs, connections=opts.clients, threads=1, duration=300))
    return rounds


def side_by_side(
    svc: Server, bare: Server, work: Workloads, users: Users, opts: Options
) -> dict[str, Any]:
    """The references, then every path of the service."""
    out: dict[str, Any] = {}
    out["bare"] = phase(bare, work.bare, opts, label="async reference", mode="repeat")
    out["bare_sync"] = phase(bare, work.bare_sync, opts, label="sync reference", mode="repeat")
    for name in ("bare", "bare_sync"):
        if out[name]["errors"]:
            # Every ratio divides by this figure: a reference that fails is no reference.
            raise SystemExit(f"the {name} endpoint answered {out[name]['errors']} errors")
    for name in opts.paths:
        make = getattr(work, name)
        out[name] = phase(svc, lambda n, make=make: make(users.take(n)), opts, label=name)
        out[name]["ratio"] = round(out[name]["rps"] / out["bare"]["rps"], 4)
    return out


def variants(
    url: str, pg: PostgresServer, work: Workloads, users: Users, opts: Options
) -> dict[str, Any]:
    """The TOTP step with more workers, and through PgBouncer."""
    out: dict[str, Any] = {"workers": {}}

    def totp(n: int) -> Any:
        return work.totp(users.take(n))

    for workers in opts.workers:
        log = f"service-{workers}-workers.log"
        with service(url, opts.workdir, opts.server_env, log, workers=workers) as svc:
            out["workers"][str(workers)] = phase(svc, totp, opts, label=f"totp, {workers} workers")
    if opts.through_pgbouncer:
        try:
            bouncing = pgbouncer(pg.port)
            bouncer = bouncing.__enter__()
        except (ImportError, RuntimeError) as exc:
            note(f"  through PgBouncer: not measured ({exc})")
            return out
        try:
            env = {**opts.server_env, **POOLER_ENV}
            through = bouncer.url(url.rsplit("/", 1)[1])
            both = replace(opts, db_pids=(*opts.db_pids, bouncer.process.pid))
            with service(through, opts.workdir, env, "service-pgbouncer.log") as svc:
                out["pgbouncer"] = phase(svc, totp, both, label="totp through PgBouncer")
        finally:
            bouncing.__exit__(None, None, None)
    return out


def peers(pg: PostgresServer, opts: Options) -> dict[str, Any]:
    """Each peer's step, side by side (the same PostgreSQL, the same kind of requests)."""
    out: dict[str, Any] = {"peers": {}, "peer_versions": {}, "peer_round_trips": {}}
    if "allauth" not in opts.peers:
        return out
    from peers.allauth import peer as allauth

    allauth.ensure_venv()
    out["peer_versions"]["allauth"] = allauth.versions()
    peer = allauth.Peer(pg.create_database("peer"), opts.workdir)
    began = time.perf_counter()
    peer.prepare(opts.peer_users)
    note(f"  allauth: {opts.peer_users:,} accounts in {time.perf_counter() - began:.1f} s")
    out["peer_round_trips"]["allauth"] = peer.round_trips(opts.peer_users - 1)
    taken = Users(opts.peer_users - 1)
    with peer.serve() as srv:
        out["peers"]["allauth"] = phase(
            srv, lambda n: peer.totp(taken.take(n)), opts, label="allauth", expect_rps=150
        )
    return out


def measure(
    engine: Engine, settings: Settings, url: str, pg: PostgresServer, opts: Options
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    pw_hash = seed.password_hash()
    work = Workloads(engine, settings, opts)
    if opts.cli_only:
        grow(engine, settings, first=0, count=1, pw_hash=pw_hash)
        return cli(url, work, opts)
    grow(engine, settings, first=0, count=opts.small, pw_hash=pw_hash)
    users = Users(opts.users)
    with (
        service(url, opts.workdir, opts.server_env, "service.log") as svc,
        bare_server(opts.workdir, opts.server_env) as bare,
    ):
        if not opts.side_by_side_only:
            note(f"TOTP p50 with {opts.small:,} users")
            warm = work.totp(range(opts.small))
            wrk(svc, warm, connections=opts.clients, threads=1, duration=300)
            out["scaling_small"] = {"users": opts.small, "rounds": scaling_rounds(svc, work, opts)}

        grow(engine, settings, first=opts.small, count=opts.users - opts.small, pw_hash=pw_hash)
        note(f"side by side, {opts.users:,} users, {opts.clients} connections")
        out["users"] = opts.users
        out |= side_by_side(svc, bare, work, users, opts)
    out |= variants(url, pg, work, users, opts)
    out |= peers(pg, opts)
    if opts.side_by_side_only:
        return out

    with service(url, opts.workdir, opts.server_env, "service-big.log") as svc:
        began = time.perf_counter()
        seed.seed_filler_postgres(engine, count=opts.big - opts.users, pw_hash=pw_hash)
        out["big_seed_seconds"] = round(time.perf_counter() - began, 1)
        note(f"  seeded up to {opts.big:,} users in {out['big_seed_seconds']} s")
        note(f"TOTP p50 with {opts.big:,} users")
        wrk(svc, work.totp(range(opts.small)), connections=opts.clients, threads=1, duration=300)
        out["scaling_big"] = {"users": opts.big, "rounds": scaling_rounds(svc, work, opts)}

    note(f"password storm: {opts.storm} simultaneous logins")
    jobs = work.logins(range(opts.storm))
    # Each storm on a fresh process, so its peak RSS is the storm's own. The image sets
    # MALLOC_ARENA_MAX=2 (see the Dockerfile); a bare `ankra-auth serve` does not.
    for name, env in (("storm", None), ("storm_arena2", {"MALLOC_ARENA_MAX": "2"})):
        with service(url, opts.workdir, opts.server_env, f"{name}.log", extra=env) as svc:
            out[name] = wrk(
                svc,
                jobs,
                connections=opts.storm,
                threads=1,
                duration=300,
                mode="finite",
                timeout="60s",
            )
    return out | cli(url, work, opts)


def cli(url: str, work: Workloads, opts: Options) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with service(url, opts.workdir, opts.server_env, "cli.log") as svc:
        note(f"CLI: {cli_timing.ankra_command()} profile auth status x {opts.cli_runs}")
        out["cli_status_seconds"] = cli_timing.status_seconds(svc, work, opts)
    # The floor under any Python command on this machine (interpreter and site start-up).
    out["python_startup_seconds"] = cli_timing.python_startup_seconds(opts.cli_runs)
    return out


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50_000, help="users the paths draw from")
    parser.add_argument("--small", type=int, default=1_000, help="table size, small scaling run")
    parser.add_argument("--big", type=int, default=1_000_000, help="table size, big scaling run")
    parser.add_argument("--clients", type=int, default=32, help="wrk connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1 leaves a core)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per phase")
    parser.add_argument("--rounds", type=int, default=3, help="scaling rounds per table size")
    parser.add_argument("--storm", type=int, default=200, help="simultaneous password logins")
    parser.add_argument("--cli-runs", type=int, default=15)
    parser.add_argument(
        "--workers",
        type=int,
        action="append",
        help="also measure TOTP with this many uvicorn workers (repeatable; default 2; "
        "1 measures none)",
    )
    parser.add_argument(
        "--through-pgbouncer",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure TOTP through PgBouncer in transaction mode (default: yes)",
    )
    parser.add_argument(
        "--peer",
        action="append",
        choices=("allauth", "none"),
        help="peers measured side by side (default: allauth)",
    )
    parser.add_argument("--peer-users", type=int, default=12_000, help="the peer's accounts")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment for the servers, e.g. ANKRA_DB_POOL_SIZE=32 (repeatable)",
    )
    parser.add_argument(
        "--db-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a PostgreSQL setting for the run's database (ALTER DATABASE ... SET; repeatable)",
    )
    parser.add_argument(
        "--side-by-side-only",
        action="store_true",
        help="only the table: references, paths, workers, PgBouncer, peer",
    )
    parser.add_argument(
        "--cli-only",
        action="store_true",
        help="only `ankra profile auth status` (one seeded user, no wrk phases)",
    )
    parser.add_argument("--quick", action="store_true", help="small tables and short phases")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--paths",
        default=",".join(PATHS),
        help=f"the service's paths to measure, comma-separated (default: {','.join(PATHS)})",
    )
    parser.add_argument("--keep", type=Path, help="keep the servers' logs and jobs here")
    args = parser.parse_args()
    if args.quick:
        args.users, args.small, args.big = 12_000, 500, 20_000
        args.duration, args.warmup, args.rounds, args.cli_runs = 5.0, 1.0, 2, 9
        args.peer_users = min(args.peer_users, 4_000)
    return args


def main() -> None:
    args = parse()
    if shutil.which("wrk") is None and not args.cli_only:
        sys.exit("wrk not found: apt-get install wrk (scripts/test.sh installs it)")
    started = SystemClock().now().isoformat(timespec="seconds")
    load = os.getloadavg()[0]
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ankra-bench-", dir=args.keep) as tmp:
        opts = Options(
            users=args.users,
            small=args.small,
            big=args.big,
            clients=args.clients,
            threads=args.threads,
            duration=args.duration,
            warmup=args.warmup,
            rounds=args.rounds,
            storm=args.storm,
            cli_runs=args.cli_runs,
            workdir=args.keep or Path(tmp),
            server_env=dict(kv.split("=", 1) for kv in args.server_env),
            db_settings=dict(kv.split("=", 1) for kv in args.db_setting),
            side_by_side_only=args.side_by_side_only,
            cli_only=args.cli_only,
            workers=tuple(w for w in (args.workers or [2]) if w > 1),
            through_pgbouncer=args.through_pgbouncer,
            peers=tuple(p for p in (args.peer or ["allauth"]) if p != "none"),
            peer_users=args.peer_users,
            paths=tuple(args.paths.split(",")),
        )
        results = run(opts)
    results |= {
        "command": "python " + " ".join([os.path.relpath(__file__, ROOT), *sys.argv[1:]]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "started": started,
        "load_average_at_start": round(load, 2),
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "clients": args.clients,
        "storm_size": args.storm,
    }
    if args.cli_only:
        report.report_cli(results)
    elif args.side_by_side_only:
        report.report_side_by_side(results)
        report.print_checks(report.side_by_side_checks(results))
    else:
        checks = report.report(results)
        results["targets"] = [{"target": n, "met": ok, "figure": f} for n, ok, f in checks]
    print(
        f"\n{results['command']}; started {started}; load average "
        f"{results['load_average_at_start']} -> {results['load_average_at_end']}"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
