"""wrk phases: the requests written to a file, wrk run over them, its figures read back.

Every line of a jobs file is one request (bench/requests.lua reads them in ``init()``):
``METHOD <tab> PATH <tab> JSON body``, then any headers as ``<tab> Name: value``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from options import Options, note
from servers import BENCH, Server

LUA = BENCH / "requests.lua"
Job = tuple[str, str, Any] | tuple[str, str, Any, Mapping[str, str]]


def write_jobs(path: Path, jobs: Iterable[Job]) -> Path:
    with path.open("w") as out:
        for method, target, body, *more in jobs:
            line = f"{method}\t{target}\t{json.dumps(body) if body is not None else ''}"
            for headers in more:
                line += "".join(f"\t{name}: {value}" for name, value in headers.items())
            out.write(line + "\n")
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
    db_pids: tuple[int, ...] = (),
) -> dict[str, Any]:
    """One wrk phase; returns its figures plus the server's CPU and memory over the phase,
    and the database's CPU (PostgreSQL's processes, and PgBouncer's when it is in between:
    the trees under ``db_pids``)."""
    db = [Server(0, pid) for pid in db_pids]
    db_before = sum(d.cpu_seconds() for d in db)
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
    db_cpu = sum(d.cpu_seconds() for d in db) - db_before
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
        # PostgreSQL's share: the same machine's cores serve it.
        "db_cpu_ms_per_req": round(db_cpu * 1000 / max(1, raw["requests"]), 3),
        **srv.memory_mb(),
    }
    if mode == "finite":
        result["answered"] = raw["answered"]
        result["statuses"] = statuses
    return result


def phase(
    srv: Server,
    make: Callable[[int], Path],
    opts: Options,
    *,
    label: str,
    mode: str = "timed",
    expect_rps: float = 0,
) -> dict[str, Any]:
    """A warm-up then a measured phase; the measured one gets ample distinct requests.

    ``expect_rps`` sizes the warm-up's requests (a slow peer needs few, and each costs a
    login to make); by default enough for a fast path."""
    warm_jobs = max(200, int((expect_rps or 400) * opts.warmup * 2)) if mode != "repeat" else 500
    warm = wrk(
        srv,
        make(warm_jobs),
        connections=opts.clients,
        threads=opts.threads,
        duration=opts.warmup,
        mode=mode,
        db_pids=opts.db_pids,
    )
    need = int(max(warm["rps"], 50) * opts.duration * 2.5) + 500
    result = wrk(
        srv,
        make(need),
        connections=opts.clients,
        threads=opts.threads,
        duration=opts.duration,
        mode=mode,
        db_pids=opts.db_pids,
    )
    ran_out = " (ran out of requests: raise --users)" if result["ran_out"] else ""
    note(
        f"  {label}: {result['rps']:,.0f} req/s, p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms, {result['cpu_ms_per_req']:.2f} ms CPU/req "
        f"(+{result['db_cpu_ms_per_req']:.2f} database), "
        f"{result['errors']} errors{ran_out}"
    )
    return result
