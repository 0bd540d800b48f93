"""A request's books (access line, latency, API usage entry) written in batches a moment after
it was answered: nothing held is lost, and the usage log's flush and discard reach it."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator

import pytest

from localforce.audit.metrics import Metrics
from localforce.audit.writer import BackgroundWriter
from localforce.web import logging as weblog
from localforce.web.apiusage import ApiUsage
from localforce.web.logging import BOOK_AFTER, Books, configure_logging

from .test_writer import ListLog


class _Audit:
    def __init__(self) -> None:
        self.sink = ListLog()
        self.writer, self.metrics = BackgroundWriter(self.sink, linger=0), Metrics()


@pytest.fixture
def out() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(stream=stream)
    yield stream
    configure_logging()


def _scope(n: int) -> dict[str, object]:
    return {"method": "GET", "path": f"/services/data/v62.0/sobjects/Account/{n}",
            "state": {}}


def _paths(out: io.StringIO) -> list[str]:
    return [json.loads(line)["path"] for line in out.getvalue().splitlines()]


@pytest.fixture
def made() -> Iterator[list[_Audit]]:
    audits: list[_Audit] = []
    yield audits
    for audit in audits:  # no writer thread outlives its test
        audit.writer.close()


def _books(made: list[_Audit]) -> tuple[Books, _Audit]:
    audit = _Audit()
    made.append(audit)
    return Books(audit.metrics, ApiUsage(audit, clock=lambda: 1.0)), audit  # type: ignore[arg-type]


def _book(books: Books, n: int) -> None:
    books.add(_scope(n), 1_000 + n, 200, 0.001)


def test_on_a_loop_the_requests_are_booked_together_a_moment_later(
        out: io.StringIO, made: list[_Audit]) -> None:
    books, audit = _books(made)

    async def answered() -> list[str]:
        for n in range(3):
            _book(books, n)
        await asyncio.sleep(0)  # the loop's next pass: a line written per pass would be out
        held = _paths(out)
        await asyncio.sleep(BOOK_AFTER * 3)
        return held

    assert asyncio.run(answered()) == []  # nothing written in the passes that answered them
    assert _paths(out) == [str(_scope(n)["path"]) for n in range(3)]  # then all, in order
    audit.writer.flush()
    assert [c.at_ms for c in audit.sink.calls(0)] == [1_000, 1_001, 1_002]
    assert [len(batch) for batch in audit.sink.batches] == [3]  # handed over together


def test_off_a_loop_a_request_is_booked_at_once(out: io.StringIO, made: list[_Audit]) -> None:
    books, _ = _books(made)
    _book(books, 7)
    assert _paths(out) == [_scope(7)["path"]]


def test_the_writers_flush_writes_what_is_held(out: io.StringIO, made: list[_Audit]) -> None:
    books, audit = _books(made)

    async def answered() -> None:
        _book(books, 1)
        audit.writer.flush()  # as a test or a stopping worker does, before the timer

    asyncio.run(answered())
    assert [c.at_ms for c in audit.sink.calls(0)] == [1_001]
    weblog.write_pending()
    assert _paths(out) == [_scope(1)["path"]]


def test_the_writers_discard_drops_held_usage_entries_but_not_their_lines(
        out: io.StringIO, made: list[_Audit]) -> None:
    books, audit = _books(made)

    async def answered() -> None:
        _book(books, 2)
        audit.writer.discard()  # a test org reset: calls made before must not land after
        await asyncio.sleep(BOOK_AFTER * 3)

    asyncio.run(answered())
    audit.writer.flush()
    assert list(audit.sink.calls(0)) == []
    assert _paths(out) == [_scope(2)["path"]]


def test_what_a_loop_that_ended_held_is_booked_by_the_next_loops_flush(
        out: io.StringIO, made: list[_Audit]) -> None:
    books, audit = _books(made)

    async def answered(n: int) -> None:
        _book(books, n)

    asyncio.run(answered(1))  # the loop ends before its flush was due: it never runs
    assert _paths(out) == []

    async def next_one() -> None:
        _book(books, 2)
        await asyncio.sleep(BOOK_AFTER * 3)

    asyncio.run(next_one())
    assert _paths(out) == [_scope(1)["path"], _scope(2)["path"]]
    audit.writer.flush()
    assert [c.at_ms for c in audit.sink.calls(0)] == [1_001, 1_002]


def test_a_full_batch_is_booked_without_waiting(out: io.StringIO, made: list[_Audit]) -> None:
    books, _ = _books(made)

    async def answered() -> int:
        for n in range(weblog.BOOK_BATCH):
            _book(books, n)
        weblog.write_pending()
        return len(_paths(out))

    assert asyncio.run(answered()) == weblog.BOOK_BATCH


def test_every_answered_request_counts_in_the_latency_histogram(
        out: io.StringIO, made: list[_Audit]) -> None:
    books, audit = _books(made)

    async def answered() -> None:
        for n in range(4):
            _book(books, n)
        await asyncio.sleep(BOOK_AFTER * 3)

    asyncio.run(answered())
    sample = next(s for m in audit.metrics.latency.collect() for s in m.samples
                  if s.name.endswith("_count") and s.labels.get("surface") == "data")
    assert sample.value == 4
