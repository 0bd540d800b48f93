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

from localforce import commits
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


# -- reads run apart (``on_loop(..., apart=True)``, ``threads.READS``) --------------------------


class _Numbers:
    """A ``commits.ReadSource`` whose read of ``n`` answers ``n * 10``; its first batch waits
    for ``release``, so the reads asked for meanwhile gather for the next."""

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.threads: set[str] = set()
        self.release = threading.Event()
        self.fail = fail

    def run_many(self, reads: list[commits.Read]) -> list[object] | None:
        if not self.batches:
            self.release.wait(5)
        self.batches.append([r.key for r in reads])  # type: ignore[misc]
        self.threads.add(threading.current_thread().name)
        return None if self.fail else [r.key * 10 for r in reads]  # type: ignore[operator]

    def read(self, n: int) -> int:
        """What a store does on the loop: the answer from an earlier attempt, or WouldWait."""
        answer = commits.answered(n)
        if answer is commits.NO_ANSWER:
            raise commits.WouldWait(commits.Read(self, n))
        return int(answer)


def test_a_call_is_tried_again_with_the_answers_of_the_reads_it_waited_for() -> None:
    source = _Numbers()
    source.release.set()
    where: list[bool] = []

    def call(a: int, b: int) -> int:
        total = source.read(a) + source.read(b)  # two reads: two rounds
        where.append(commits.on_loop())
        return total

    assert asyncio.run(threads.on_loop(True, call, 1, 2, apart=True)) == 30
    assert where == [True]  # finished on the loop: its reads ran on the request threads
    assert source.batches == [[1], [2]]
    assert all(name.startswith("request_") for name in source.threads)


def test_what_an_attempt_made_before_its_read_is_kept_for_the_next() -> None:
    """``commits.kept``: the attempts of one call make a value once (the data API's caller and
    plan); another call, and any call off the loop, makes its own."""
    source = _Numbers()
    source.release.set()
    made: list[str] = []

    def make(name: str) -> str:
        made.append(name)
        return name.upper()

    def call(name: str) -> str:
        kept = commits.kept("caller", make, name)
        return f"{kept} {source.read(4) + source.read(5)}"  # three attempts

    assert asyncio.run(threads.on_loop(True, call, "ann", apart=True)) == "ANN 90"
    assert made == ["ann"]
    assert asyncio.run(threads.on_loop(True, call, "bob", apart=True)) == "BOB 90"
    assert made == ["ann", "bob"]  # a call of its own: nothing kept from another
    assert commits.kept("caller", make, "cy") == "CY"  # off the loop: made each time
    assert made == ["ann", "bob", "cy"]


def test_a_value_whose_making_waited_is_made_again() -> None:
    source = _Numbers()
    source.release.set()
    made: list[int] = []

    def make() -> int:
        made.append(1)
        return source.read(3)  # waits in the first attempt: nothing is kept then

    def call() -> int:
        return commits.kept("total", make) + commits.kept("total", make)

    assert asyncio.run(threads.on_loop(True, call, apart=True)) == 60
    assert made == [1, 1]  # the attempt that waited, then the one that made it (kept once)


def _alike(kind: str, reads: tuple[int, ...]) -> tuple[list[int], _Numbers, list[int]]:
    """Calls of one kind (``like``), one after another, each reading its ``n``: their
    answers, the source, and each attempt's ``n``."""
    source = _Numbers()
    source.release.set()
    attempts: list[int] = []

    def call(n: int) -> int:
        attempts.append(n)
        return source.read(n)

    guesses = threads.Guesses()

    async def main() -> list[int]:
        return [await threads.on_loop(True, call, n, apart=True, like=(guesses, kind))
                for n in reads]

    return asyncio.run(main()), source, attempts


def test_a_call_like_an_earlier_one_has_its_read_made_before_its_first_attempt() -> None:
    answers, source, attempts = _alike("kind a", (3, 3))
    assert answers == [30, 30]
    assert attempts == [3, 3, 3]  # two attempts, then one: its read was made before it
    assert source.batches == [[3], [3]]  # each call's own read, made for it


def test_a_guess_the_call_never_asks_for_is_not_used_and_twice_is_not_made_again() -> None:
    """Calls alike (``like``) that ask for different reads: each gets the answer of its own
    read, and after two guesses in vain in a row, none is made for calls of that kind."""
    answers, source, _ = _alike("kind b", (1, 2, 3, 4))
    assert answers == [10, 20, 30, 40]
    # 1 guessed for the second call and 2 for the third, in vain: none for the fourth.
    assert source.batches == [[1], [1], [2], [2], [3], [4]]


def test_a_kind_whose_read_changed_once_is_guessed_for_again() -> None:
    answers, source, attempts = _alike("kind c", (1, 2, 2, 2))
    assert answers == [10, 20, 20, 20]
    assert source.batches == [[1], [1], [2], [2], [2]]
    assert attempts == [1, 1, 2, 2, 2, 2]  # 2 guessed for the third call and the fourth


def test_reads_asked_for_while_a_batch_is_on_its_way_go_in_the_next_one() -> None:
    source = _Numbers()

    async def main() -> list[int]:
        calls = [asyncio.ensure_future(threads.on_loop(True, source.read, n, apart=True))
                 for n in range(1, 21)]
        await asyncio.sleep(0.2)  # every call has asked; the first batch waits for release
        source.release.set()
        return list(await asyncio.gather(*calls))

    assert asyncio.run(main()) == [n * 10 for n in range(1, 21)]
    assert sorted(n for batch in source.batches for n in batch) == list(range(1, 21))
    # At most one batch per request thread on its way: what is asked meanwhile gathers (one
    # read a batch would be 20 batches; how the 20 split depends on when the threads run).
    assert max(len(batch) for batch in source.batches) >= 10


def test_a_read_that_failed_sends_the_call_to_a_thread() -> None:
    source = _Numbers(fail=True)
    source.release.set()
    where: list[bool] = []

    def call() -> str:
        where.append(commits.on_loop())
        if commits.on_loop():
            source.read(7)
        return threading.current_thread().name

    name = asyncio.run(threads.on_loop(True, call, apart=True))
    assert where == [True, False] and name.startswith("request_")


def test_without_apart_a_wanted_read_sends_the_call_to_a_thread() -> None:
    source = _Numbers()
    source.release.set()

    def call() -> str:
        if commits.on_loop():
            source.read(7)
        return threading.current_thread().name

    assert asyncio.run(threads.on_loop(True, call)).startswith("request_")
    assert source.batches == []


def test_a_call_that_keeps_asking_runs_on_a_thread_after_a_bound() -> None:
    source = _Numbers()
    source.release.set()

    def call() -> str:
        if commits.on_loop():
            for n in range(threads.MAX_READS_APART + 1):
                source.read(n)
        return threading.current_thread().name

    assert asyncio.run(threads.on_loop(True, call, apart=True)).startswith("request_")
    assert len(source.batches) == threads.MAX_READS_APART
