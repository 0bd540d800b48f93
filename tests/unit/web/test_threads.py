"""web/threads.py's pools: a call handed to a thread answers its caller's event loop with its
result or its exception, runs in a copy of the caller's context, is skipped when its caller
was cancelled before it started, a resized pool finishes the calls queued before, and a forked
child makes threads of its own."""

from __future__ import annotations

import asyncio
import os
import threading
from contextvars import ContextVar

import pytest

from localforce.web import threads

REQUEST: ContextVar[str] = ContextVar("request", default="none")


def test_the_result_and_the_thread() -> None:
    async def main() -> tuple[int, str]:
        return await threads.run(lambda: (41 + 1, threading.current_thread().name))

    result, name = asyncio.run(main())
    assert result == 42
    assert name.startswith("request_") and name != threading.main_thread().name


def test_an_exception_reaches_the_caller() -> None:
    def fails() -> None:
        raise LookupError("no such row")

    with pytest.raises(LookupError, match="no such row"):
        asyncio.run(threads.write(fails))


def test_a_call_runs_in_a_copy_of_the_callers_context() -> None:
    def inside() -> str:
        seen = REQUEST.get()
        REQUEST.set("changed in the thread")
        return seen

    async def main() -> tuple[str, str]:
        REQUEST.set("the caller's")
        seen = await threads.run(inside)
        return seen, REQUEST.get()

    assert asyncio.run(main()) == ("the caller's", "the caller's")


def test_a_call_cancelled_before_it_starts_never_runs() -> None:
    pool = threads._Pool("test", 1)  # noqa: SLF001
    gate, ran = threading.Event(), []

    async def main() -> None:
        first = pool.submit(lambda: gate.wait(5))
        second = pool.submit(lambda: ran.append("second"))
        second.cancel()  # still queued behind the first
        gate.set()
        assert await first is True
        third = pool.submit(lambda: ran.append("third"))
        await third

    asyncio.run(main())
    assert ran == ["third"]
    pool.resize(0)


def test_a_resized_pool_finishes_what_was_queued() -> None:
    pool = threads._Pool("resized", 1)  # noqa: SLF001
    gate, done = threading.Event(), []

    async def main() -> list[str]:
        queued = [pool.submit(lambda: gate.wait(5)),
                  pool.submit(lambda: done.append("queued before") or "queued before")]
        pool.resize(2)  # the old thread ends after the calls queued before
        later = pool.submit(lambda: threading.current_thread().name)
        gate.set()
        await asyncio.gather(*queued)
        return [await later, *done]

    name, *finished = asyncio.run(main())
    assert finished == ["queued before"]
    assert name.startswith("resized_")
    assert sum(t.name.startswith("resized_") for t in threading.enumerate()) <= 3
    pool.resize(0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_child_makes_threads_of_its_own() -> None:
    """A pool whose threads started before a fork answers in the child, where those threads
    do not exist (its call would wait forever on their queue)."""
    asyncio.run(threads.run(lambda: None))  # this process's request threads now exist
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if the call is answered
        code = 1
        try:
            async def main() -> int:
                return await asyncio.wait_for(threads.run(lambda: 42), 5)

            code = 0 if asyncio.run(main()) == 42 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
