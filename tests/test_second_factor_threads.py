"""Second-factor sign-ins run on a few threads of their own, in arrival order."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ankra_auth.api.threads import run_second_factor

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a thread of its own: Playwright's sync API, used by other tests
    in this process, leaves an event loop running on the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_at_most_the_configured_threads_run_at_once() -> None:
    lock = threading.Lock()
    running, most, release = 0, 0, threading.Event()

    def work() -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(5)
        with lock:
            running -= 1
        return threading.get_ident()

    async def burst() -> list[int]:
        tasks = [asyncio.ensure_future(run_second_factor(3, work)) for _ in range(10)]
        while most < 3:  # the first three are in; the rest must wait for them
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert most == 3
        release.set()
        return await asyncio.gather(*tasks)

    idents = _run(burst())
    assert len(idents) == 10 and most == 3


def test_each_event_loop_gets_its_own_limiter() -> None:
    # Test clients run an app on a loop of their own: a limiter bound to an old loop
    # would fail when contended on a new one.
    for _ in range(2):
        assert _run(run_second_factor(1, lambda: 42)) == 42
