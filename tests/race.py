"""Fire requests at once from many threads, for single-use races against a real server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx


def race(calls: list[Callable[[httpx.Client], httpx.Response]]) -> list[httpx.Response]:
    """Run every call at the same moment (a barrier releases them together)."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[httpx.Client], httpx.Response]) -> httpx.Response:
        with httpx.Client(timeout=60) as http:
            barrier.wait()
            return call(http)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))
