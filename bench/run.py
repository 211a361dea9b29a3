"""Ankra Auth benchmark: the sign-in paths against a bare FastAPI endpoint, driven by wrk.

    python bench/run.py                      # the full run recorded in docs/performance.md
    python bench/run.py --quick              # a few minutes: small tables, short phases
    python bench/run.py --json out.json      # also save the figures (bench/chart.py draws them)
    python bench/run.py --cli-only           # only the CLI start-to-exit figure (seconds)

A throwaway PostgreSQL is started and seeded (users with TOTP, a passkey each); then, with
one uvicorn worker each and ``wrk -c32``, in the same run:

- the bare endpoint: bench/bare_app.py, FastAPI parsing the same pydantic body as the
  TOTP step, no database, same uvicorn and flags;
- ``ankra-auth serve`` (observability on, as operators run it): TOTP sign-in, recovery-code
  sign-in and passkey-assertion sign-in, each request a distinct pending login with its
  correct code or a signature over its own challenge, pre-created and read by the Lua
  script (bench/requests.lua) so wrk, not Python, makes the load;
- TOTP p50 with 1,000 users in the tables and again with 1,000,000;
- a storm of 200 simultaneous password logins (fresh process, answered in full, peak RSS);
- ``ankra profile auth status`` with a saved session, median wall time over N runs.

Server CPU per request comes from /proc/PID/stat (utime + stime) around each phase; the
peak RSS of each phase from VmHWM (reset before the phase through /proc/PID/clear_refs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pty
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))  # tests.postgres_server, tests.soft_authenticator

import httpx  # noqa: E402
import seed  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402

from ankra_auth import migrate  # noqa: E402
from ankra_auth.clock import SystemClock  # noqa: E402
from ankra_auth.config import Settings  # noqa: E402
from ankra_auth.db import make_engine  # noqa: E402
from ankra_auth.passkeys.service import user_handle  # noqa: E402
from ankra_auth.security import totp  # noqa: E402
from tests.postgres_server import PostgresServer, free_port  # noqa: E402
from tests.soft_authenticator import SoftAuthenticator, SoftCredential, b64url  # noqa: E402

SECRET_KEY = "bench-secret-key-" + "b" * 32
TOTP = "/api/v1/auth/mfa/totp"
RECOVERY = "/api/v1/auth/mfa/recovery-code"
PASSKEY = "/api/v1/auth/mfa/passkey"
LUA = BENCH / "requests.lua"
PATHS = ("totp", "recovery", "passkey")
LABELS = {
    "bare": "bare FastAPI POST (same body)",
    "totp": "POST /auth/mfa/totp",
    "recovery": "POST /auth/mfa/recovery-code",
    "passkey": "POST /auth/mfa/passkey",
}


@dataclass(frozen=True)
class Options:
    users: int
    small: int
    big: int
    clients: int
    threads: int
    duration: float
    warmup: float
    rounds: int
    storm: int
    cli_runs: int
    workdir: Path
    server_env: dict[str, str]
    side_by_side_only: bool = False
    cli_only: bool = False


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- processes under test --------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    port: int
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        stat = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")

    def memory_mb(self) -> dict[str, float]:
        """Current (VmRSS) and peak (VmHWM) resident memory."""
        fields = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = round(int(value.split()[0]) / 1024, 1)
        return {"rss_mb": fields["VmRSS"], "peak_rss_mb": fields["VmHWM"]}

    def reset_peak(self) -> None:
        """Make VmHWM start again from the current RSS (Linux: clear_refs 5)."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            pass  # then the peak is the process's lifetime peak


@contextmanager
def server(cmd: list[str], env: dict[str, str], log: Path, port: int) -> Iterator[Server]:
    with log.open("ab") as out:
        process = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[1:3]} did not start:\n" + log.read_text()[-3000:])
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield Server(port, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def service(url: str, opts: Options, log: str, extra: dict[str, str] | None = None) -> Any:
    """``ankra-auth serve --workers 1`` as an operator runs it (JSON access log, metrics)."""
    port = free_port()
    env = {**os.environ, **opts.server_env, "ANKRA_DATABASE_URL": url}
    env |= {"ANKRA_SECRET_KEY": SECRET_KEY, **(extra or {})}
    cmd = [sys.executable, "-m", "ankra_auth", "serve", "--port", str(port), "--workers", "1"]
    return server(cmd, env, opts.workdir / log, port)


def bare_server(opts: Options) -> Any:
    port = free_port()
    env = {**os.environ, **opts.server_env}
    env["PYTHONPATH"] = os.pathsep.join([str(BENCH), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, str(BENCH / "bare_app.py"), "--port", str(port)]
    return server(cmd, env, opts.workdir / "bare.log", port)


# --- wrk ---------------------------------------------------------------------------------------


def write_jobs(path: Path, jobs: Iterator[tuple[str, str, Any]]) -> Path:
    with path.open("w") as out:
        for method, target, body in jobs:
            out.write(f"{method}\t{target}\t{json.dumps(body) if body is not None else ''}\n")
    return path


def wrk(
    srv: Server,
    jobs: Path,
    *,
    connections: int,
    threads: int,
    duration: float,
    mode: str = "timed",
    timeout: str = "20s",
) -> dict[str, Any]:
    """One wrk phase; returns its figures plus the server's CPU and memory over the phase."""
    env = {**os.environ, "BENCH_JOBS": str(jobs), "BENCH_THREADS": str(threads)}
    env["BENCH_MODE"] = mode
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:.0f}s", f"--timeout={timeout}"]
    cmd += ["-s", str(LUA), f"http://127.0.0.1:{srv.port}"]
    srv.reset_peak()
    cpu_before = srv.cpu_seconds()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    if proc.stdout is None:
        raise RuntimeError("wrk: no output pipe")
    lines, done_threads = [], 0
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("BENCH-DONE"):
            done_threads += 1
            if done_threads == threads:
                proc.send_signal(signal.SIGINT)  # ends wrk now: its duration is the phase's
    if proc.wait() != 0:
        raise RuntimeError("wrk failed:\n" + "".join(lines))
    cpu = srv.cpu_seconds() - cpu_before
    [line] = [line for line in lines if line.startswith("BENCH {")]
    raw = json.loads(line.removeprefix("BENCH "))
    seconds = raw["duration_us"] / 1e6
    statuses: dict[str, int] = {}
    for part in raw["statuses"]:
        for code, count in part.items():
            statuses[code] = statuses.get(code, 0) + count
    # Read errors also count the connections wrk drops when it stops: reported, not errors.
    errors = raw["non_2xx"] + raw["connect_errors"] + raw["timeouts"]
    result = {
        "requests": raw["requests"],
        "seconds": round(seconds, 2),
        "rps": round(raw["requests"] / seconds, 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["latency_max_us"] / 1000,
        "errors": errors,
        "read_errors": raw["read_errors"],
        "ran_out": done_threads > 0 and mode == "timed",
        # Server CPU per request: unlike req/s, barely moved by other load on the machine.
        "cpu_ms_per_req": round(cpu * 1000 / max(1, raw["requests"]), 3),
        **srv.memory_mb(),
    }
    if mode == "finite":
        result["answered"] = raw["answered"]
        result["statuses"] = statuses
    return result


# --- workloads -------------------------------------------------------------------------------


class Users:
    """Hands out users in order, so no user serves two requests within one phase."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.next = 0

    def take(self, n: int) -> list[int]:
        n = min(n, self.count)
        if self.next + n > self.count:
            self.next = 0
        taken = list(range(self.next, self.next + n))
        self.next += n
        return taken


class Workloads:
    """Pre-creates each phase's requests: distinct pending logins with their correct proofs."""

    def __init__(self, engine: Engine, settings: Settings, opts: Options) -> None:
        self.engine = engine
        self.settings = settings
        self.opts = opts
        self.sign_count = 0
        self.authenticator = SoftAuthenticator(origin=settings.public_origin, counts=True)
        self.key = SoftCredential(b"", seed.bench_private_key(), b"")

    def path(self, name: str) -> Path:
        return self.opts.workdir / f"{name}.tsv"

    def bare(self, n: int) -> Path:
        jobs = (
            ("POST", TOTP, {"mfa_token": f"bare-{i:040d}", "code": f"{i % 1_000_000:06d}"})
            for i in range(n)
        )
        return write_jobs(self.path("bare"), jobs)

    def totp(self, users: Sequence[int]) -> Path:
        seed.forget_used_steps(self.engine)  # a user may sign in again in this time step
        now = SystemClock().now()
        tokens = seed.pending_logins(self.engine, users, now=now)
        step = totp.time_step(now)
        jobs = (
            (
                "POST",
                TOTP,
                {"mfa_token": t, "code": totp.code_at_step(secret=seed.secret(i), step=step)},
            )
            for i, t in zip(users, tokens, strict=True)
        )
        return write_jobs(self.path("totp"), jobs)

    def recovery(self, users: Sequence[int]) -> Path:
        now = SystemClock().now()
        tokens = seed.pending_logins(self.engine, users, now=now)
        codes = seed.recovery_codes(self.engine, self.settings, users, now=now)
        jobs = (
            ("POST", RECOVERY, {"mfa_token": t, "code": c})
            for t, c in zip(tokens, codes, strict=True)
        )
        return write_jobs(self.path("recovery"), jobs)

    def passkey(self, users: Sequence[int]) -> Path:
        now = SystemClock().now()
        logins = seed.pending_logins_with_ids(self.engine, users, now=now)
        challenges = seed.passkey_challenges(self.engine, [i for i, _ in logins], now=now)
        self.sign_count += 1  # above every count stored so far: the key counts
        rp_id = self.settings.effective_rp_id

        def jobs() -> Iterator[tuple[str, str, Any]]:
            for i, (_, token), challenge in zip(users, logins, challenges, strict=True):
                cid = seed.credential_id(i)
                self.authenticator.credentials[cid] = SoftCredential(
                    cid, self.key.private_key, user_handle(seed.user_id(i))
                )
                options = {"challenge": b64url(challenge), "rpId": rp_id}
                assertion = self.authenticator.get(
                    options, credential_id=cid, sign_count=self.sign_count
                )
                del self.authenticator.credentials[cid]
                yield "POST", PASSKEY, {"mfa_token": token, "credential": assertion}

        return write_jobs(self.path("passkey"), jobs())

    def logins(self, users: Sequence[int]) -> Path:
        body = {"password": seed.PASSWORD}
        jobs = (("POST", "/api/v1/auth/login", {"email": seed.email(i), **body}) for i in users)
        return write_jobs(self.path("logins"), jobs)


def phase(
    srv: Server, make: Callable[[int], Path], opts: Options, *, label: str, mode: str = "timed"
) -> dict[str, Any]:
    """A warm-up then a measured phase; the measured one gets ample distinct requests."""
    warm = wrk(
        srv,
        make(max(500, int(400 * opts.warmup))),
        connections=opts.clients,
        threads=opts.threads,
        duration=opts.warmup,
        mode=mode,
    )
    need = int(max(warm["rps"], 50) * opts.duration * 2.5) + 500
    result = wrk(
        srv,
        make(need),
        connections=opts.clients,
        threads=opts.threads,
        duration=opts.duration,
        mode=mode,
    )
    ran_out = " (ran out of requests: raise --users)" if result["ran_out"] else ""
    note(
        f"  {label}: {result['rps']:,.0f} req/s, p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms, {result['cpu_ms_per_req']:.2f} ms CPU/req, "
        f"{result['errors']} errors{ran_out}"
    )
    return result


def scaling_rounds(srv: Server, work: Workloads, opts: Options) -> list[dict[str, Any]]:
    """``rounds`` x ``small`` TOTP sign-ins by the same ``small`` users, every one measured."""
    rounds = []
    for _ in range(opts.rounds):
        jobs = work.totp(range(opts.small))
        # Timed mode: wrk stops when the round's requests run out (the last few in flight
        # then go unmeasured; p50 is what this compares).
        rounds.append(wrk(srv, jobs, connections=opts.clients, threads=1, duration=300))
    return rounds


def cli_status_seconds(srv: Server, work: Workloads, opts: Options) -> dict[str, list[float]]:
    """Wall time of ``ankra profile auth status``: process start, imports and the round trip,
    with the output piped and on a terminal (where rich is loaded for the colours)."""
    jobs = work.totp([0])
    body = json.loads(jobs.read_text().split("\t", 2)[2])
    r = httpx.post(f"http://127.0.0.1:{srv.port}{TOTP}", json=body)
    r.raise_for_status()
    config = opts.workdir / "cli-config"
    config.mkdir(exist_ok=True)
    saved = {"server": f"http://127.0.0.1:{srv.port}", "access_token": r.json()["access_token"]}
    (config / "credentials.json").write_text(json.dumps(saved))
    (config / "credentials.json").chmod(0o600)
    env = {**os.environ, "ANKRA_CONFIG_DIR": str(config)}
    ankra = ankra_command()
    times: dict[str, list[float]] = {"piped": [], "terminal": []}
    for _ in range(opts.cli_runs):
        for mode, run_once in (("piped", _status_piped), ("terminal", _status_on_a_terminal)):
            began = time.perf_counter()
            run_once([ankra, "profile", "auth", "status"], env)
            times[mode].append(time.perf_counter() - began)
    return times


def _status_piped(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"{cmd} failed: {done.stdout!r}{done.stderr!r}")


def _status_on_a_terminal(cmd: list[str], env: dict[str, str]) -> None:
    """As a person runs it: stdout on a (pseudo) terminal, so rich draws the colours."""
    main, side = pty.openpty()
    try:
        done = subprocess.run(cmd, env=env, stdout=side, stderr=side, stdin=subprocess.DEVNULL)
        os.close(side)
        side = -1
        output = b""
        while chunk := _read_pty(main):
            output += chunk
    finally:
        os.close(main)
        if side != -1:
            os.close(side)
    if done.returncode != 0:
        raise RuntimeError(f"{cmd} failed on a terminal: {output!r}")


def _read_pty(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the other side is closed and everything was read
        return b""


def ankra_command() -> str:
    """The ``ankra`` installed beside the Python running the benchmark.

    Not the first one on PATH: that may be a pyenv shim (a bash script that runs
    ``pyenv exec``: 0.1 to 0.3 s before any Python starts) or another environment's copy.
    """
    beside = Path(sys.executable).with_name("ankra")
    return str(beside) if beside.exists() else shutil.which("ankra") or "ankra"


def python_startup_seconds(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - began)
    return times


# --- the run ---------------------------------------------------------------------------------


def run(opts: Options) -> dict[str, Any]:
    pg = PostgresServer()
    pg.start()
    try:
        url = pg.create_database("bench")
        settings = Settings(database_url=url, secret_key=SECRET_KEY)
        engine = make_engine(settings)
        migrate.upgrade(engine)
        out = measure(engine, settings, url, opts)
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


def measure(engine: Engine, settings: Settings, url: str, opts: Options) -> dict[str, Any]:
    out: dict[str, Any] = {}
    pw_hash = seed.password_hash()
    work = Workloads(engine, settings, opts)
    if opts.cli_only:
        grow(engine, settings, first=0, count=1, pw_hash=pw_hash)
        return cli(url, work, opts)
    grow(engine, settings, first=0, count=opts.small, pw_hash=pw_hash)
    with service(url, opts, "service.log") as svc, bare_server(opts) as bare:
        if not opts.side_by_side_only:
            note(f"TOTP p50 with {opts.small:,} users")
            warm = work.totp(range(opts.small))
            wrk(svc, warm, connections=opts.clients, threads=1, duration=300)
            out["scaling_small"] = {"users": opts.small, "rounds": scaling_rounds(svc, work, opts)}

        grow(engine, settings, first=opts.small, count=opts.users - opts.small, pw_hash=pw_hash)
        note(f"side by side, {opts.users:,} users, {opts.clients} connections")
        users = Users(opts.users)
        out["users"] = opts.users
        out["bare"] = phase(bare, work.bare, opts, label="bare", mode="repeat")
        if out["bare"]["errors"]:
            # Every ratio divides by this figure: a bare endpoint that fails is no reference.
            raise SystemExit(f"the bare endpoint answered {out['bare']['errors']} errors")
        for name in PATHS:
            make = getattr(work, name)
            out[name] = phase(svc, lambda n, make=make: make(users.take(n)), opts, label=name)
            out[name]["ratio"] = round(out[name]["rps"] / out["bare"]["rps"], 4)

        if opts.side_by_side_only:
            return out
        began = time.perf_counter()
        seed.seed_filler_postgres(engine, count=opts.big - opts.users, pw_hash=pw_hash)
        out["big_seed_seconds"] = round(time.perf_counter() - began, 1)
        note(f"  seeded up to {opts.big:,} users in {out['big_seed_seconds']} s")
        note(f"TOTP p50 with {opts.big:,} users")
        out["scaling_big"] = {"users": opts.big, "rounds": scaling_rounds(svc, work, opts)}

    note(f"password storm: {opts.storm} simultaneous logins")
    jobs = work.logins(range(opts.storm))
    # Each storm on a fresh process, so its peak RSS is the storm's own. The image sets
    # MALLOC_ARENA_MAX=2 (see the Dockerfile); a bare `ankra-auth serve` does not.
    for name, env in (("storm", None), ("storm_arena2", {"MALLOC_ARENA_MAX": "2"})):
        with service(url, opts, f"{name}.log", env) as svc:
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
    with service(url, opts, "cli.log") as svc:
        note(f"CLI: {ankra_command()} profile auth status x {opts.cli_runs}")
        out["cli_status_seconds"] = cli_status_seconds(svc, work, opts)
    # The floor under any Python command on this machine (interpreter and site start-up).
    out["python_startup_seconds"] = python_startup_seconds(opts.cli_runs)
    return out


# --- the report --------------------------------------------------------------------------------


def median_of(rounds: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in rounds))


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


def report_side_by_side(res: dict[str, Any]) -> None:
    rows = [("path", "req/s", "x bare", "p50 ms", "p99 ms", "CPU ms/req", "peak RSS MB", "errors")]
    for name in ("bare", *PATHS):
        r = res[name]
        rows.append(
            (
                LABELS[name],
                f"{r['rps']:,.0f}",
                f"{r.get('ratio', 1):.3f}",
                f"{r['p50_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                f"{r['cpu_ms_per_req']:.2f}",
                f"{r['peak_rss_mb']:.0f}",
                str(r["errors"]),
            )
        )
    print(f"\n{res['users']:,} users, PostgreSQL, 1 uvicorn worker each, wrk -c{res['clients']}")
    print(table(rows))


def report_cli(res: dict[str, Any]) -> float:
    """Print the CLI figures; returns the median."""
    runs = res["cli_status_seconds"]
    if isinstance(runs, list):  # an older run's JSON: piped only
        runs = {"piped": runs}
    for mode, cli in runs.items():
        print(
            f"ankra profile auth status, {mode}: median {statistics.median(cli):.3f} s, "
            f"best {min(cli):.3f} s ({len(cli)} runs)"
        )
    cli_median = float(statistics.median(runs["piped"]))
    if "python_startup_seconds" in res:
        floor = res["python_startup_seconds"]
        print(
            f"  python -c pass on this machine: median {statistics.median(floor):.3f} s, "
            f"best {min(floor):.3f} s"
        )
    return cli_median


def report(res: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """Print the table of record; returns the targets as (name, met, figure)."""
    report_side_by_side(res)

    small, big = res["scaling_small"], res["scaling_big"]
    p50_small, p50_big = median_of(small["rounds"], "p50_ms"), median_of(big["rounds"], "p50_ms")
    growth = p50_big / p50_small
    print(
        f"\nTOTP p50, median of {len(small['rounds'])} rounds of {small['users']:,}: "
        f"{p50_small:.1f} ms at {small['users']:,} users, {p50_big:.1f} ms at "
        f"{big['users']:,} users: x{growth:.2f}"
    )
    for r in (small, big):
        print(
            f"  rounds at {r['users']:,}: " + ", ".join(f"{x['p50_ms']:.1f}" for x in r["rounds"])
        )
    for name, label in (("storm", "default malloc"), ("storm_arena2", "MALLOC_ARENA_MAX=2")):
        s = res[name]
        print(
            f"Password storm, {s['answered']} answered ({label}): {s['rps']:.1f} logins/s, "
            f"p50 {s['p50_ms']:.0f} ms, p99 {s['p99_ms']:.0f} ms, "
            f"peak RSS {s['peak_rss_mb']:.0f} MB, statuses {s['statuses']}"
        )
    cli_median = report_cli(res)

    t, storm = res["totp"], res["storm"]
    peak = max(res[name]["peak_rss_mb"] for name in PATHS)
    checks = [
        ("TOTP >= 0.10 x bare (aim 0.15)", t["ratio"] >= 0.10, f"{t['ratio']:.3f}"),
        ("TOTP p99 <= 100 ms", t["p99_ms"] <= 100, f"{t['p99_ms']:.0f} ms"),
        ("TOTP <= 1.5 ms server CPU", t["cpu_ms_per_req"] <= 1.5, f"{t['cpu_ms_per_req']:.2f} ms"),
        (
            "recovery code >= 0.08 x bare",
            res["recovery"]["ratio"] >= 0.08,
            f"{res['recovery']['ratio']:.3f}",
        ),
        (
            "passkey >= 0.08 x bare",
            res["passkey"]["ratio"] >= 0.08,
            f"{res['passkey']['ratio']:.3f}",
        ),
        (
            f"p50 at {big['users']:,} <= 1.1 x at {small['users']:,}",
            growth <= 1.1,
            f"x{growth:.2f}",
        ),
        ("RSS <= 150 MB per worker", peak <= 150, f"{peak:.0f} MB"),
        (
            f"storm of {storm['answered']}: all answered 200, under 300 MB",
            storm["statuses"] == {"200": res["storm_size"]} and storm["peak_rss_mb"] < 300,
            f"{storm['statuses']}, {storm['peak_rss_mb']:.0f} MB",
        ),
        ("CLI status <= 0.2 s median", cli_median <= 0.2, f"{cli_median:.3f} s"),
    ]
    print("\nTargets:")
    for name, ok, figure in checks:
        print(f"  {'met ' if ok else 'MISS'}  {name}: {figure}")
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=20_000, help="users the paths draw from")
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
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment for both servers, e.g. ANKRA_DB_POOL_SIZE=32 (repeatable)",
    )
    parser.add_argument(
        "--side-by-side-only",
        action="store_true",
        help="only the bare endpoint and the three paths (for before/after comparisons)",
    )
    parser.add_argument(
        "--cli-only",
        action="store_true",
        help="only `ankra profile auth status` (one seeded user, no wrk phases)",
    )
    parser.add_argument("--quick", action="store_true", help="small tables and short phases")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.quick:
        args.users, args.small, args.big = 4_000, 500, 20_000
        args.duration, args.warmup, args.rounds, args.cli_runs = 5.0, 1.0, 2, 9
    if shutil.which("wrk") is None and not args.cli_only:
        sys.exit("wrk not found: apt-get install wrk (scripts/test.sh installs it)")

    started = SystemClock().now().isoformat(timespec="seconds")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ankra-bench-") as tmp:
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
            workdir=Path(tmp),
            server_env=dict(kv.split("=", 1) for kv in args.server_env),
            side_by_side_only=args.side_by_side_only,
            cli_only=args.cli_only,
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
        report_cli(results)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
        return
    if args.side_by_side_only:
        report_side_by_side(results)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
        return
    checks = report(results)
    results["targets"] = [{"target": n, "met": ok, "figure": f} for n, ok, f in checks]
    print(
        f"\n{results['command']}; started {started}; load average "
        f"{results['load_average_at_start']} -> {results['load_average_at_end']}"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
