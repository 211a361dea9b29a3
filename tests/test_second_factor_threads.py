"""Second-factor sign-ins run on a few threads of their own, in arrival order."""

from __future__ import annotations

import asyncio
import threading

from ankra_auth.api.threads import run_second_factor
from tests.helpers import run_on_a_loop


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

    idents = run_on_a_loop(burst())
    assert len(idents) == 10 and most == 3


def test_each_event_loop_gets_its_own_limiter() -> None:
    # Test clients run an app on a loop of their own: a limiter bound to an old loop
    # would fail when contended on a new one.
    for _ in range(2):
        assert run_on_a_loop(run_second_factor(1, lambda: 42)) == 42
