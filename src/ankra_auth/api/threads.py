"""A few threads of their own for second-factor sign-ins, taken in arrival order.

A sync endpoint runs on the shared pool of 40 threads: with 32 sign-ins in flight, all
32 take turns at the GIL and the slowest answers stretch (p99 about 2.5 x p50 in
``bench/run.py``). The work between a second factor's round trips is short and CPU-bound,
so a few threads serve the queue as fast and in order: with 2 (the default), p99 about
1.2 x p50 and more throughput than 3, 4 or 40 (one waits idle on every round trip).
Other endpoints keep the shared pool, so a password storm waiting on argon2
never holds these threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar
from weakref import WeakKeyDictionary

from anyio import CapacityLimiter, to_thread

T = TypeVar("T")

# One limiter per event loop: asyncio primitives belong to the loop they first wait on,
# and test clients run each app on a loop of their own.
_LIMITERS: WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = WeakKeyDictionary()


def _limiter(threads: int) -> CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _LIMITERS.get(loop)
    if limiter is None:
        limiter = _LIMITERS[loop] = CapacityLimiter(threads)
    return limiter


async def run_second_factor(threads: int, work: Callable[[], T]) -> T:
    """``work()`` on one of the second-factor threads (at most ``threads`` of them)."""
    return await to_thread.run_sync(work, limiter=_limiter(threads))
