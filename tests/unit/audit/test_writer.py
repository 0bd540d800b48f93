"""The API usage log writer: enqueue-only on the request path, batched, lossy when full."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator, Sequence

from localforce.audit.export import iso_ms, write
from localforce.audit.ports import ApiCall
from localforce.audit.writer import BackgroundWriter


def _call(n: int, status: int = 200) -> ApiCall:
    return ApiCall(1_790_000_000_000 + n, "00D000000000001AAA", "005000000000001AAA",
                   None, "GET", f"/services/data/v66.0/sobjects/Account/{n}", status, 1500)


class ListLog:
    def __init__(self, gate: threading.Event | None = None) -> None:
        self.batches: list[list[ApiCall]] = []
        self.gate = gate

    def append(self, calls: Sequence[ApiCall]) -> None:
        if self.gate is not None:
            self.gate.wait(5)
        self.batches.append(list(calls))

    def calls(self, since_ms: int, org_id: str | None = None) -> Iterator[ApiCall]:
        return iter([c for b in self.batches for c in b if c.at_ms >= since_ms])


def test_everything_submitted_is_written_in_order() -> None:
    sink = ListLog()
    writer = BackgroundWriter(sink, batch=7)
    for n in range(50):
        writer.submit(_call(n))
    writer.flush()
    assert [c.at_ms for b in sink.batches for c in b] == [_call(n).at_ms for n in range(50)]
    assert all(len(b) <= 7 for b in sink.batches)
    writer.close()


def test_a_stalled_database_never_blocks_submit_and_overflow_is_counted() -> None:
    gate = threading.Event()
    sink = ListLog(gate)
    writer = BackgroundWriter(sink, capacity=5, batch=1)
    for n in range(20):
        writer.submit(_call(n))  # returns at once although the sink is stuck
    assert writer.dropped >= 20 - 5 - 1
    gate.set()
    writer.flush()
    written = sum(len(b) for b in sink.batches)
    assert written + writer.dropped == 20
    writer.close()


def test_a_failing_sink_is_counted_and_the_writer_keeps_going() -> None:
    class Broken(ListLog):
        def append(self, calls: Sequence[ApiCall]) -> None:
            if calls[0].at_ms == _call(0).at_ms:
                raise RuntimeError("database down")
            super().append(calls)

    sink = Broken()
    writer = BackgroundWriter(sink, batch=1)
    writer.submit(_call(0))
    writer.flush()
    writer.submit(_call(1))
    writer.flush()
    assert writer.failed == 1
    assert [c.at_ms for b in sink.batches for c in b] == [_call(1).at_ms]
    writer.close()


def test_nothing_starts_until_used() -> None:
    writer = BackgroundWriter(ListLog())
    writer.flush()
    writer.close()
    assert not [t for t in threading.enumerate() if t.name == "api-usage-log"]


def test_export_csv_and_json_lines() -> None:
    calls = [_call(1), _call(2, 404)]
    out = io.StringIO()
    assert write(calls, out, "csv") == 2
    lines = out.getvalue().splitlines()
    assert lines[0] == "time,at_ms,org_id,user_id,app_id,method,path,status,duration_us"
    assert lines[2] == ("2026-09-21T14:13:20.002+0000,1790000000002,00D000000000001AAA,"
                        "005000000000001AAA,,GET,/services/data/v66.0/sobjects/Account/2,404,1500")
    out = io.StringIO()
    write(calls, out, "json")
    first = json.loads(out.getvalue().splitlines()[0])
    assert first == {"time": "2026-09-21T14:13:20.001+0000", "at_ms": 1790000000001,
                     "org_id": "00D000000000001AAA", "user_id": "005000000000001AAA",
                     "app_id": None, "method": "GET",
                     "path": "/services/data/v66.0/sobjects/Account/1", "status": 200,
                     "duration_us": 1500}
    assert iso_ms(0) == "1970-01-01T00:00:00.000+0000"


def test_entries_arriving_one_by_one_share_a_batch() -> None:
    """The writer lingers after a batch's first entry, so requests arriving one at a time do
    not each cost a transaction."""
    sink = ListLog()
    writer = BackgroundWriter(sink, linger=1.0)
    for n in range(10):
        writer.submit(_call(n))
        threading.Event().wait(0.01)  # arrivals 10 ms apart: the writer is free in between
    writer.flush()
    assert [len(b) for b in sink.batches] == [10]
    writer.close()


def test_calls_submitted_together_are_written_in_order_and_those_past_capacity_counted() -> None:
    gate = threading.Event()
    sink = ListLog(gate)
    writer = BackgroundWriter(sink, capacity=5, batch=3, linger=0)
    assert writer.submit_many([_call(n) for n in range(4)]) == 4
    assert writer.submit_many([_call(n) for n in range(4, 8)]) == 1  # room for one more
    assert writer.dropped == 3
    gate.set()
    writer.flush()
    assert [c.at_ms for b in sink.batches for c in b] == [_call(n).at_ms for n in range(5)]
    assert all(len(b) <= 3 for b in sink.batches)
    assert writer.submit_many([_call(8), _call(9)]) == 2  # written calls leave room again
    writer.flush()
    assert [c.at_ms for c in sink.batches[-1]] == [_call(8).at_ms, _call(9).at_ms]
    writer.close()


def test_nothing_submitted_starts_nothing() -> None:
    def writers() -> int:
        return sum(t.name == "api-usage-log" for t in threading.enumerate())

    before = writers()
    writer = BackgroundWriter(ListLog())
    assert writer.submit_many([]) == 0
    assert writers() == before
    writer.close()
