"""Ankra Auth benchmark: TOTP second-factor verification against a bare endpoint.

    python bench/run.py                      # the full run recorded in docs/performance.md
    python bench/run.py --quick              # a smoke run (small tables, short phases)
    python bench/run.py --json out.json      # also save the figures (bench/chart.py draws them)

For SQLite and for PostgreSQL (a throwaway server started here) it seeds users with TOTP
and pending logins, starts ``ankra-auth serve`` (1 worker), and drives it from a separate
process (bench/load.py, 127.0.0.1 only, bounded in time): ``GET /healthz`` (the bare
endpoint of the same stack) and ``POST /api/v1/auth/mfa/totp`` with a correct code for a
distinct user per request. Then, on PostgreSQL: the same verification at 1k and at 1M
users, a storm of 200 simultaneous password logins, and the CLI's ``profile auth status``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))  # tests.postgres_server: the throwaway PostgreSQL

import httpx  # noqa: E402
import seed  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

from ankra_auth import migrate  # noqa: E402
from ankra_auth.clock import SystemClock  # noqa: E402
from ankra_auth.config import Settings  # noqa: E402
from ankra_auth.db import make_engine  # noqa: E402
from ankra_auth.security import totp  # noqa: E402
from tests.postgres_server import PostgresServer, free_port  # noqa: E402

SECRET_KEY = "bench-secret-key-" + "b" * 32
VERIFY = "/api/v1/auth/mfa/totp"
SCALING_ROUND = 1000  # verifications per round when comparing table sizes


@dataclass(frozen=True)
class Options:
    users: int
    big: int
    clients: int
    duration: float
    rounds: int
    workdir: Path


# --- the service under test ----------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    port: int
    pid: int

    def memory_mb(self) -> dict[str, float]:
        """Current (VmRSS) and peak (VmHWM) resident memory of the server process."""
        fields = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = round(int(value.split()[0]) / 1024, 1)
        return {"rss_mb": fields["VmRSS"], "peak_rss_mb": fields["VmHWM"]}

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        stat = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def service(url: str, log: Path, extra_env: dict[str, str] | None = None) -> Iterator[Service]:
    port = free_port()
    env = {**os.environ, "ANKRA_DATABASE_URL": url, "ANKRA_SECRET_KEY": SECRET_KEY}
    env.update(extra_env or {})
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ankra_auth", "serve", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("service did not start:\n" + log.read_text()[-3000:])
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield Service(port, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def drive(
    svc: Service,
    *,
    clients: int,
    duration: float = 8.0,
    warmup: float = 1.0,
    get: str | None = None,
    jobs: Path | None = None,
    storm: bool = False,
) -> dict[str, Any]:
    """Run bench/load.py in its own process and return its figures."""
    cmd = [sys.executable, str(BENCH / "load.py"), "--port", str(svc.port)]
    cmd += ["--clients", str(clients), "--duration", str(duration), "--warmup", str(warmup)]
    cmd += ["--get", get] if get else ["--jobs", str(jobs)]
    cmd += ["--storm"] if storm else []
    cpu_before = svc.cpu_seconds()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + warmup + 300)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    result: dict[str, Any] = json.loads(done.stdout)
    result.update(svc.memory_mb())
    # Server CPU per request: unlike req/s, barely moved by other load on the machine.
    cpu = svc.cpu_seconds() - cpu_before
    result["cpu_ms_per_req"] = round(cpu * 1000 / max(1, result["sent"]), 2)
    return result


# --- workloads ----------------------------------------------------------------------------


def verify_jobs(engine: Engine, users: range, path: Path) -> Path:
    """One pending login per user and its correct code for the current step, as load jobs."""
    seed.forget_used_steps(engine)
    now = SystemClock().now()
    mfa_tokens = seed.pending_logins(engine, users, now=now)
    step = totp.time_step(now)
    with path.open("w") as out:
        for i, token in zip(users, mfa_tokens, strict=True):
            code = totp.code_at_step(secret=seed.secret(i), step=step)
            out.write(json.dumps({"path": VERIFY, "body": {"mfa_token": token, "code": code}}))
            out.write("\n")
    return path


def login_jobs(users: range, path: Path) -> Path:
    with path.open("w") as out:
        for i in users:
            body = {"email": seed.email(i), "password": seed.PASSWORD}
            out.write(json.dumps({"path": "/api/v1/auth/login", "body": body}) + "\n")
    return path


def verify(svc: Service, engine: Engine, users: range, opts: Options, **kw: Any) -> dict[str, Any]:
    jobs = verify_jobs(engine, users, opts.workdir / "verify.jsonl")
    return drive(svc, clients=opts.clients, jobs=jobs, **kw)


def bare(svc: Service, opts: Options) -> dict[str, Any]:
    return drive(svc, clients=opts.clients, get="/healthz", duration=opts.duration)


def scaling_rounds(svc: Service, engine: Engine, opts: Options) -> list[dict[str, Any]]:
    """``rounds`` x 1000 verifications by the same 1000 users (all requests measured)."""
    return [
        verify(svc, engine, range(SCALING_ROUND), opts, duration=120, warmup=0)
        for _ in range(opts.rounds)
    ]


def cli_status_seconds(svc: Service, engine: Engine, opts: Options) -> list[float]:
    """Wall time of ``ankra profile auth status`` (process start, imports and the round trip)."""
    seed.forget_used_steps(engine)
    now = SystemClock().now()
    [token] = seed.pending_logins(engine, range(1), now=now)
    code = totp.code_at_step(secret=seed.secret(0), step=totp.time_step(now))
    r = httpx.post(f"http://127.0.0.1:{svc.port}{VERIFY}", json={"mfa_token": token, "code": code})
    r.raise_for_status()
    config = opts.workdir / "cli-config"
    config.mkdir(exist_ok=True)
    (config / "credentials.json").write_text(
        json.dumps(
            {"server": f"http://127.0.0.1:{svc.port}", "access_token": r.json()["access_token"]}
        )
    )
    (config / "credentials.json").chmod(0o600)
    env = {**os.environ, "ANKRA_CONFIG_DIR": str(config)}
    times = []
    for _ in range(7):
        began = time.perf_counter()
        done = subprocess.run(
            ["ankra", "profile", "auth", "status"], env=env, capture_output=True, text=True
        )
        times.append(time.perf_counter() - began)
        if done.returncode != 0:
            raise RuntimeError(f"ankra profile auth status failed: {done.stdout}{done.stderr}")
    return times


# --- the run --------------------------------------------------------------------------------


def prepare(settings: Settings, first_users: int) -> tuple[Engine, str]:
    engine = make_engine(settings)
    migrate.upgrade(engine)
    pw_hash = seed.password_hash()
    began = time.perf_counter()
    seed.seed_active(
        engine, settings, first=0, count=first_users, pw_hash=pw_hash, now=SystemClock().now()
    )
    note(f"  seeded {first_users:,} users with TOTP in {time.perf_counter() - began:.1f} s")
    return engine, pw_hash


def run_sqlite(opts: Options) -> dict[str, Any]:
    note("SQLite")
    url = f"sqlite:///{opts.workdir / 'bench.db'}"
    settings = Settings(database_url=url, secret_key=SECRET_KEY)
    engine, _ = prepare(settings, opts.users)
    with service(url, opts.workdir / "sqlite.log") as svc:
        drive(svc, clients=opts.clients, get="/healthz", duration=2)  # warm-up
        out = {"users": opts.users, "bare": bare(svc, opts)}
        out["verify"] = verify(svc, engine, range(opts.users), opts, duration=opts.duration)
    engine.dispose()
    return out


def run_postgres(opts: Options) -> dict[str, Any]:
    note("PostgreSQL")
    pg = PostgresServer()
    pg.start()
    try:
        url = pg.create_database("bench")
        settings = Settings(database_url=url, secret_key=SECRET_KEY)
        engine, pw_hash = prepare(settings, SCALING_ROUND)
        out: dict[str, Any] = {}
        with service(url, opts.workdir / "postgres.log") as svc:
            drive(svc, clients=opts.clients, get="/healthz", duration=2)  # warm-up
            verify(svc, engine, range(SCALING_ROUND), opts, duration=120, warmup=0)  # warm-up
            out["scaling_small"] = {
                "users": SCALING_ROUND,
                "rounds": scaling_rounds(svc, engine, opts),
            }

            began = time.perf_counter()
            seed.seed_active(
                engine,
                settings,
                first=SCALING_ROUND,
                count=opts.users - SCALING_ROUND,
                pw_hash=pw_hash,
                now=SystemClock().now(),
            )
            note(f"  seeded up to {opts.users:,} users in {time.perf_counter() - began:.1f} s")
            out["users"] = opts.users
            out["bare"] = bare(svc, opts)
            out["verify"] = verify(svc, engine, range(opts.users), opts, duration=opts.duration)

            began = time.perf_counter()
            seed.seed_filler_postgres(engine, count=opts.big - opts.users, pw_hash=pw_hash)
            out["big_seed_seconds"] = round(time.perf_counter() - began, 1)
            note(f"  seeded up to {opts.big:,} users in {out['big_seed_seconds']} s")
            out["scaling_big"] = {"users": opts.big, "rounds": scaling_rounds(svc, engine, opts)}
            out["bare_big"] = bare(svc, opts)
            out["verify_big"] = verify(svc, engine, range(opts.users), opts, duration=opts.duration)
        jobs = login_jobs(range(200), opts.workdir / "logins.jsonl")
        # Each storm on a fresh process, so its peak RSS is the storm's own. The image
        # sets MALLOC_ARENA_MAX=2 (see the Dockerfile); a bare `ankra-auth serve` does not.
        for name, env in (("storm", None), ("storm_arena2", {"MALLOC_ARENA_MAX": "2"})):
            with service(url, opts.workdir / f"{name}.log", env) as svc:
                out[name] = drive(svc, clients=200, jobs=jobs, storm=True)
        with service(url, opts.workdir / "cli.log") as svc:
            try:
                out["cli_status_seconds"] = cli_status_seconds(svc, engine, opts)
            except (OSError, RuntimeError) as exc:
                note(f"  CLI status not measured: {exc}")
        engine.dispose()
        return out
    finally:
        pg.stop()


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the report -----------------------------------------------------------------------------


def median_of(rounds: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in rounds))


def report(results: dict[str, Any]) -> None:
    rows = [
        (
            "backend",
            "users",
            "endpoint",
            "req/s",
            "p50 ms",
            "p99 ms",
            "x bare",
            "CPU ms/req",
            "RSS MB",
            "errors",
        )
    ]

    def add(backend: str, users: int, name: str, r: dict[str, Any], base: dict[str, Any]) -> None:
        errors = sum(v for k, v in r["statuses"].items() if not k.startswith("2"))
        ratio = f"{r['rps'] / base['rps']:.3f}" if base is not r else "1"
        rows.append(
            (
                backend,
                f"{users:,}",
                name,
                f"{r['rps']:,.0f}",
                f"{r['p50_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                ratio,
                f"{r['cpu_ms_per_req']:.2f}",
                f"{r['rss_mb']:.0f}",
                str(errors),
            )
        )

    for backend in ("sqlite", "postgresql"):
        res = results.get(backend)
        if not res:
            continue
        add(backend, res["users"], "GET /healthz", res["bare"], res["bare"])
        add(backend, res["users"], "TOTP verify", res["verify"], res["bare"])
        if "verify_big" in res:
            big = res["scaling_big"]["users"]
            add(backend, big, "GET /healthz", res["bare_big"], res["bare_big"])
            add(backend, big, "TOTP verify", res["verify_big"], res["bare_big"])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print()
    for row in rows:
        print(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )

    pg = results.get("postgresql")
    if not pg:
        return
    small, big = pg["scaling_small"], pg["scaling_big"]
    p50_small, p50_big = median_of(small["rounds"], "p50_ms"), median_of(big["rounds"], "p50_ms")
    print(
        f"\nTOTP verify on PostgreSQL, {len(small['rounds'])} rounds of {SCALING_ROUND} "
        f"(median of rounds): p50 {p50_small:.1f} ms at {small['users']:,} users, "
        f"{p50_big:.1f} ms at {big['users']:,} users: x{p50_big / p50_small:.2f}"
    )
    print(
        f"  rounds at {small['users']:,}: "
        + ", ".join(f"{r['p50_ms']:.1f}" for r in small["rounds"])
    )
    print(
        f"  rounds at {big['users']:,}: " + ", ".join(f"{r['p50_ms']:.1f}" for r in big["rounds"])
    )
    storm = pg["storm"]
    for name, label in (("storm", "default malloc"), ("storm_arena2", "MALLOC_ARENA_MAX=2")):
        s = pg[name]
        print(
            f"\nPassword storm, 200 simultaneous logins ({label}): {s['rps']:.1f} logins/s, "
            f"p50 {s['p50_ms']:.0f} ms, p99 {s['p99_ms']:.0f} ms, "
            f"peak RSS {s['peak_rss_mb']:.0f} MB, statuses {s['statuses']}"
        )
    if "cli_status_seconds" in pg:
        times = pg["cli_status_seconds"]
        print(
            f"\nankra profile auth status: median {statistics.median(times):.3f} s, "
            f"best {min(times):.3f} s ({len(times)} runs)"
        )
    verify = pg["verify"]
    print("\nTargets:")
    checks = [
        ("TOTP verify >= 0.06 x bare (PostgreSQL)", verify["rps"] / pg["bare"]["rps"] >= 0.06),
        ("TOTP verify p99 < 150 ms (PostgreSQL)", verify["p99_ms"] < 150),
        ("p50 at 1M <= 1.2 x p50 at 1k", p50_big <= 1.2 * p50_small),
        ("RSS < 150 MB under verification load", verify["rss_mb"] < 150),
        ("storm peak RSS < 300 MB (default malloc)", storm["peak_rss_mb"] < 300),
        ("storm peak RSS < 300 MB (MALLOC_ARENA_MAX=2)", pg["storm_arena2"]["peak_rss_mb"] < 300),
        ("storm: every login answered 200", storm["statuses"] == {"200": 200}),
    ]
    if "cli_status_seconds" in pg:
        checks.append(("CLI status < 0.3 s", statistics.median(pg["cli_status_seconds"]) < 0.3))
    for name, ok in checks:
        print(f"  {'met ' if ok else 'MISS'}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=20_000, help="users driven by the load")
    parser.add_argument("--big", type=int, default=1_000_000, help="table size for the scaling run")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measured phase")
    parser.add_argument("--rounds", type=int, default=3, help="scaling rounds per table size")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--quick", action="store_true", help="small tables and short phases")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.quick:
        args.users, args.big, args.duration = 5_000, 50_000, 3.0

    results: dict[str, Any] = {
        "command": "python " + " ".join([os.path.relpath(__file__, ROOT), *sys.argv[1:]]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "started": SystemClock().now().isoformat(timespec="seconds"),
    }
    with tempfile.TemporaryDirectory(prefix="ankra-bench-") as tmp:
        opts = Options(args.users, args.big, args.clients, args.duration, args.rounds, Path(tmp))
        if not args.skip_sqlite:
            results["sqlite"] = run_sqlite(opts)
        results["postgresql"] = run_postgres(opts)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
