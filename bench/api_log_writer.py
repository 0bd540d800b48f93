"""What the API usage log costs a data-API request: the background writer's ``submit`` (what
the request path pays) against a synchronous insert per request (what it would pay without
the writer), on SQLite in WAL mode under a temporary folder.

    .venv/bin/python bench/api_log_writer.py [N]

Prints microseconds per request for each, and the writer's drain time. Not a test: numbers
vary with the machine; compare the two columns of one run.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from localforce.audit.ports import ApiCall
from localforce.audit.writer import BackgroundWriter
from localforce.storage.sql.audit_store import SqlApiCallLog
from localforce.storage.sql.engine import make_engine, upgrade


def call(n: int) -> ApiCall:
    return ApiCall(1_790_000_000_000 + n, "00D000000000001AAA", "005000000000001AAA",
                   "0H4000000000001AAA", "GET", "/services/data/v66.0/query", 200, 1234)


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(engine)
        log = SqlApiCallLog(engine)
        started = time.perf_counter()
        for i in range(n):
            log.append([call(i)])
        sync_us = (time.perf_counter() - started) / n * 1e6
        writer = BackgroundWriter(log, capacity=n + 1)
        started = time.perf_counter()
        for i in range(n):
            writer.submit(call(i))
        submit_us = (time.perf_counter() - started) / n * 1e6
        drain = time.perf_counter()
        writer.flush()
        drain_s = time.perf_counter() - drain
        writer.close()
        engine.dispose()
    print(f"requests: {n}")
    print(f"synchronous insert per request: {sync_us:8.1f} us")
    print(f"background writer submit:       {submit_us:8.1f} us "
          f"({sync_us / submit_us:.0f}x less on the request path)")
    print(f"writer drained the rest in {drain_s:.3f} s (batches of 500)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
