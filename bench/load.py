"""The load generator: a separate process that drives one HTTP endpoint and prints JSON.

A small asyncio HTTP/1.1 client with one keep-alive connection per simulated client:
it costs far less CPU per request than a general-purpose client, so on a 2-core
machine the figures describe the server rather than the load generator. Loopback
only; every run is bounded in time and in request count.

    python bench/load.py --port 8000 --get /healthz --clients 32 --duration 8
    python bench/load.py --port 8000 --jobs jobs.jsonl --clients 32 --duration 8
    python bench/load.py --port 8000 --jobs logins.jsonl --clients 200 --storm
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

HOST = "127.0.0.1"


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    first_error: str | None = None
    sent: int = 0  # warm-up included: what the server's CPU time is divided by


def request_bytes(method: str, path: str, body: bytes | None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + (body or b"")


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, bytes]:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length)


def load_jobs(path: str) -> list[bytes]:
    """One request per line: ``{"method", "path", "body"}`` (body is JSON, may be null)."""
    jobs = []
    with open(path) as handle:
        for line in handle:
            job = json.loads(line)
            body = json.dumps(job["body"]).encode() if job.get("body") is not None else None
            jobs.append(request_bytes(job.get("method", "POST"), job["path"], body))
    return jobs


async def client(
    port: int, jobs: Iterator[bytes], tally: Tally, *, measure_from: float, deadline: float
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while time.perf_counter() < deadline:
            raw = next(jobs, None)
            if raw is None:
                return
            began = time.perf_counter()
            status, body = await exchange(reader, writer, raw)
            tally.sent += 1
            if began >= measure_from:
                tally.latencies.append(time.perf_counter() - began)
                tally.statuses[status] += 1
                if status >= 400 and tally.first_error is None:
                    tally.first_error = body[:300].decode(errors="replace")
    finally:
        writer.close()


async def steady(
    port: int, jobs: Iterator[bytes], clients: int, warmup: float, duration: float
) -> dict[str, object]:
    """``clients`` connections send back to back; only requests sent after the warm-up count."""
    tally = Tally()
    start = time.perf_counter()
    measure_from, deadline = start + warmup, start + warmup + duration
    await asyncio.gather(
        *(
            client(port, jobs, tally, measure_from=measure_from, deadline=deadline)
            for _ in range(clients)
        )
    )
    elapsed = min(time.perf_counter(), deadline) - measure_from
    return summary(tally, elapsed)


async def storm(port: int, jobs: list[bytes], clients: int) -> dict[str, object]:
    """Every client connects first, then all send their one request at the same moment."""
    tally = Tally()
    connections = [await asyncio.open_connection(HOST, port) for _ in range(clients)]
    go = asyncio.Event()

    async def one(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], raw: bytes) -> None:
        await go.wait()
        began = time.perf_counter()
        status, body = await exchange(*conn, raw)
        tally.sent += 1
        tally.latencies.append(time.perf_counter() - began)
        tally.statuses[status] += 1
        if status >= 400 and tally.first_error is None:
            tally.first_error = body[:300].decode(errors="replace")
        conn[1].close()

    tasks = [asyncio.create_task(one(c, raw)) for c, raw in zip(connections, jobs, strict=False)]
    await asyncio.sleep(0.2)  # let every task reach the starting line
    start = time.perf_counter()
    go.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=300)
    return summary(tally, time.perf_counter() - start)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def summary(tally: Tally, elapsed: float) -> dict[str, object]:
    count = len(tally.latencies)
    return {
        "requests": count,
        "sent": tally.sent,
        "seconds": round(elapsed, 3),
        "rps": round(count / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(percentile(tally.latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(tally.latencies, 0.99) * 1000, 2),
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "first_error": tally.first_error,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--get", help="GET this path over and over")
    parser.add_argument("--jobs", help="JSON lines of requests, each sent once")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--storm", action="store_true", help="one request per client, all at once")
    args = parser.parse_args()

    if args.get:
        raw = request_bytes("GET", args.get, None)
        jobs: list[bytes] | None = None
        source: Iterator[bytes] = iter(lambda: raw, None)
    else:
        jobs = load_jobs(args.jobs)
        source = iter(jobs)
    if args.storm:
        assert jobs is not None, "--storm needs --jobs"  # noqa: S101
        result = asyncio.run(storm(args.port, jobs, args.clients))
    else:
        result = asyncio.run(steady(args.port, source, args.clients, args.warmup, args.duration))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
