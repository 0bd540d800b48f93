"""Does a Python thread preparing the next Bulk transaction overlap SQLite writing this one?

The question behind "pipeline the ingest" (bench/README.md, Bulk): ``sqlite3`` releases the GIL
around each ``sqlite3_step``, so while the writer thread is inside ``executemany`` a producer
thread could run. But ``executemany`` takes the GIL back between rows (to bind the next
row's parameters), and a thread that wants the GIL from a CPU-bound holder waits up to
``sys.getswitchinterval()`` (5 ms). This measures it on a table shaped like the bench's Account
(the primary key and 9 indexes, as with ``bulk_cpu.py``'s ``Ext__c``): the writer's
``executemany`` + commit of ``--rows`` rows, alone and with a
CPU-bound thread running meanwhile (as the producer of the next chunk would be), wall time.

    .venv/bin/python bench/micro/gil_overlap.py [--rows 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

COLUMNS = ["Id", "org_id", "IsDeleted", "Name", "OwnerId", "CreatedById", "LastModifiedById",
           "ParentId", "MasterRecordId", "DandbCompanyId", "Ext__c",
           "NumberOfEmployees", "Industry", "BillingCity", "CreatedDate"]


def setup(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"CREATE TABLE t ({', '.join(c + ' TEXT' for c in COLUMNS)})")
    conn.execute("CREATE UNIQUE INDEX ix_id ON t (Id)")
    conn.execute("CREATE INDEX ix_page ON t (org_id, IsDeleted, Id)")
    conn.execute("CREATE INDEX ix_name ON t (org_id, lower(Name), IsDeleted, Id)")
    conn.execute("CREATE INDEX ix_ext ON t (org_id, lower(Ext__c), IsDeleted, Id)")
    for c in ("OwnerId", "CreatedById", "LastModifiedById", "ParentId", "MasterRecordId",
              "DandbCompanyId"):
        conn.execute(f"CREATE INDEX ix_{c} ON t (org_id, {c}, IsDeleted, Id)")
    return conn


def rows(n: int, start: int) -> list[tuple[object, ...]]:
    user = "005000000000001AAA"
    return [(f"001{start + i:015d}", "00D000000000001", 0, f"Account {uuid.uuid4().hex[:8]}",
             user, user, user, None, None, None, f"E{start + i}", str(i % 5000),
             "Energy", "Paris", "2026-12-04T00:00:00.000Z") for i in range(n)]


def write(conn: sqlite3.Connection, data: list[tuple[object, ...]]) -> float:
    sql = f"INSERT INTO t VALUES ({', '.join('?' * len(COLUMNS))})"
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(sql, data)
    conn.execute("COMMIT")
    return time.perf_counter() - started


def write_json(conn: sqlite3.Connection, data: list[tuple[object, ...]]) -> float:
    """The same rows as one JSON text and one ``INSERT … SELECT … FROM json_each(?)``: a
    single ``sqlite3_step``, so the GIL is released once for the whole insert."""
    picks = ", ".join(f"value ->> {n}" for n in range(len(COLUMNS)))
    sql = f"INSERT INTO t SELECT {picks} FROM json_each(?)"
    started = time.perf_counter()
    text = json.dumps(data)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(sql, (text,))
    conn.execute("COMMIT")
    return time.perf_counter() - started


def busy(stop: threading.Event) -> None:
    """A CPU-bound producer: dicts and tuples, as preparing a transaction's rows is."""
    while not stop.is_set():
        for i in range(1000):
            d = {"Name": str(i), "Industry": "Energy", "n": i}
            tuple(d.get(k) for k in ("Name", "Industry", "n"))


def prepare(n: int, start: int) -> list[tuple[object, ...]]:
    """A transaction's parameter tuples from dicts, about as much Python per row as the
    runner's preparation (CSV row to body, checks, defaults, the tuple)."""
    out = []
    for row in rows(n, start):
        body = dict(zip(COLUMNS, row, strict=True))
        for _ in range(17):  # ~15 us/row in all, as the runner's Python per row
            body = {k: v for k, v in body.items()}
        out.append(tuple(body[c] for c in COLUMNS))
    return out


def serial(conn: sqlite3.Connection, chunks: int, n: int, start: int) -> None:
    for k in range(chunks):
        write(conn, prepare(n, start + k * n))


def _pipeline(chunks: int, make: Callable[[int], Any], consume: Callable[[Any], object]
              ) -> None:
    """One producer thread making chunk k+1 while ``consume`` takes chunk k; a queue of one."""
    ready: queue.Queue[Any] = queue.Queue(maxsize=1)

    def produce() -> None:
        for k in range(chunks):
            ready.put(make(k))
        ready.put(None)

    producer = threading.Thread(target=produce)
    producer.start()
    while (chunk := ready.get()) is not None:
        consume(chunk)
    producer.join()


def pipelined(conn: sqlite3.Connection, chunks: int, n: int, start: int) -> None:
    """The producer prepares the parameter tuples, the writer here runs ``executemany``."""
    _pipeline(chunks, lambda k: prepare(n, start + k * n), lambda data: write(conn, data))


def _produce_into(out: Any, chunks: int, n: int, start: int) -> None:
    for k in range(chunks):
        out.put(prepare(n, start + k * n))
    out.put(None)


def in_process(conn: sqlite3.Connection, chunks: int, n: int, start: int) -> None:
    """The producer in a separate process (no GIL shared), chunks pickled through a queue of
    one; its CPU time is not in this process's ``process_time``."""
    ready: Any = multiprocessing.get_context("fork").Queue(maxsize=1)
    producer = multiprocessing.get_context("fork").Process(
        target=_produce_into, args=(ready, chunks, n, start))
    producer.start()
    while (data := ready.get()) is not None:
        write(conn, data)
    producer.join()


def write_text(conn: sqlite3.Connection, text: str) -> None:
    picks = ", ".join(f"value ->> {n}" for n in range(len(COLUMNS)))
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(f"INSERT INTO t SELECT {picks} FROM json_each(?)", (text,))
    conn.execute("COMMIT")


def pipelined_json(conn: sqlite3.Connection, chunks: int, n: int, start: int) -> None:
    """As ``pipelined``, the producer also turning the chunk into one JSON text, the writer
    inserting it with one statement (the GIL released for all of it)."""
    _pipeline(chunks, lambda k: json.dumps(prepare(n, start + k * n)),
              lambda text: write_text(conn, text))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pipeline", type=int, default=0, metavar="CHUNKS",
                        help="instead: CHUNKS transactions prepared and written one after "
                        "the other vs pipelined, alternately; wall and CPU time")
    parser.add_argument("--indexes", type=int, default=0, metavar="CHUNKS",
                        help="instead: CHUNKS transactions into the table with all its "
                        "indexes vs without the DandbCompanyId one "
                        "(two tables, alternately); CPU time of the write")
    parser.add_argument("--switch", type=float, default=None, metavar="SECONDS",
                        help="sys.setswitchinterval first (the default is 0.005)")
    args = parser.parse_args()
    if args.switch is not None:
        sys.setswitchinterval(args.switch)
    with tempfile.TemporaryDirectory() as home:
        conn = setup(os.path.join(home, "t.db"))
        start = 0
        write(conn, rows(args.rows, start))  # warm: the table and its indexes exist
        start += args.rows
        if args.indexes:
            fewer = setup(os.path.join(home, "fewer.db"))
            fewer.execute("DROP INDEX ix_DandbCompanyId")
            write(fewer, rows(args.rows, 0))
            for r in range(args.rounds):
                for label, target in (("10 indexes", conn), ("9 indexes", fewer)):
                    cpu = 0.0
                    for k in range(args.indexes):
                        data = rows(args.rows, start + k * args.rows)
                        before = time.process_time()
                        write(target, data)
                        cpu += time.process_time() - before
                    start += args.indexes * args.rows
                    total = args.indexes * args.rows
                    print(f"round {r + 1}: {label:10s} {total:,} rows: write CPU "
                          f"{cpu / total * 1e6:.1f} us/row")
            return
        if args.pipeline:
            variants = [("serial", serial), ("pipelined", pipelined),
                        ("pipe+json", pipelined_json), ("process", in_process)]
            for r in range(args.rounds):
                # The table grows with every run: each round starts with the next variant.
                for label, run in variants[r % 4:] + variants[:r % 4]:
                    wall, cpu = time.perf_counter(), time.process_time()
                    run(conn, args.pipeline, args.rows, start)
                    start += args.pipeline * args.rows
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                    total = args.pipeline * args.rows
                    print(f"round {r + 1}: {label:10s} {total:,} rows: wall {wall:.2f} s "
                          f"({total / wall:,.0f} rows/s), CPU {cpu / total * 1e6:.1f} us/row")
            return
        for r in range(args.rounds):
            for label in ("alone", "with a busy thread", "json alone", "json, busy thread"):
                data = rows(args.rows, start)
                start += args.rows
                stop = threading.Event()
                other = threading.Thread(target=busy, args=(stop,))
                if "busy" in label:
                    other.start()
                seconds = (write_json if "json" in label else write)(conn, data)
                stop.set()
                if "busy" in label:
                    other.join()
                print(f"round {r + 1}: {label:20s} {args.rows:,} rows in {seconds:.3f} s "
                      f"({seconds / args.rows * 1e6:.1f} us/row)")


if __name__ == "__main__":
    main()
