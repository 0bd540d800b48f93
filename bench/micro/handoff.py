"""CPU per hand-off of a call to a thread and back, in process: the event loop's
``run_in_executor`` (a ``ThreadPoolExecutor``, as web/threads.py used) against
``web.threads._Pool``, 32 callers at once on uvloop, two threads each.

    .venv/bin/python bench/micro/handoff.py [--calls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import uvloop

from localforce.web.threads import _Pool

CALLERS = 32


def work(x: int) -> int:
    return x + 1


async def measure(hand_off: Callable[[], Awaitable[int]], calls: int) -> float:
    async def caller() -> None:
        for _ in range(calls):
            await hand_off()

    start = time.process_time()
    await asyncio.gather(*(caller() for _ in range(CALLERS)))
    return (time.process_time() - start) * 1e6 / (CALLERS * calls)


async def main(calls: int) -> None:
    loop = asyncio.get_running_loop()
    executor, pool = ThreadPoolExecutor(2), _Pool("handoff", 2)
    cases = {
        "run_in_executor": lambda: loop.run_in_executor(
            executor, contextvars.copy_context().run, work, 1),
        "threads._Pool": lambda: pool.submit(lambda: work(1)),
    }
    for _round in range(3):
        for name, hand_off in cases.items():
            print(f"{name:16} {await measure(hand_off, calls):6.1f} µs CPU per call")
    executor.shutdown()
    pool.resize(0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200, help="per caller")
    uvloop.run(main(parser.parse_args().calls))
