"""Group commit: rows from concurrent requests written in one transaction.

A grant writes a token row and a LoginHistory row. Each in a transaction of its own cost about
80 % of a grant's CPU in process (pool checkout, ``BEGIN IMMEDIATE``, the events, ``COMMIT``)
and, on SQLite, made every grant queue for the one write lock (bench/README.md, "group
commit"). Here ``append`` hands the row to a writer thread, which takes everything waiting in
its queue, writes it in one transaction (one DBAPI ``executemany`` per statement, in arrival
order), commits, and only then resolves each row's future. The caller waits for that future
(``commits.defer_or_wait``): right away, or — inside a request — just before the response, so
an answer never vouches for a row that is not committed.

On a SQLite file, the writers of the worker processes take turns on an OS lock
(``engine.WriterLock``) rather than in SQLite's sleeping busy handler.

If a batch fails, each of its rows is retried in a transaction of its own, so one bad row fails
only its own caller. The thread starts on first use (never in a parent that forks workers
afterwards) and stops after writing what it holds (``close``).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.sql.dml import UpdateBase

from localforce.commits import defer_or_wait, hold
from localforce.storage.sql.engine import writer_lock

log = logging.getLogger("localforce.storage")

Row = Mapping[str, Any]
_Item = tuple[UpdateBase, Row, Future[None]]
#: SQL and its positional parameter names (None: the DBAPI takes named parameters).
_Plain = tuple[str, tuple[str, ...] | None]


class GroupCommit:
    def __init__(self, engine: Engine, *, max_batch: int = 512) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._lock = writer_lock(engine)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._plain_sql: dict[tuple[UpdateBase, tuple[str, ...]], _Plain | None] = {}

    def append(self, statement: UpdateBase, row: Row) -> None:
        """Run ``statement`` (an INSERT, or an UPDATE by key) with ``row``; returns once it is
        committed, or notes the commit for the caller's ``commits.deferred()``."""
        if not hold(lambda: self.append(statement, row)):  # on the loop: once it succeeds
            done: Future[None] = Future()
            self._ensure_started()
            self._queue.put((statement, row, done))
            defer_or_wait(done)

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout=30)
        self._thread = None
        if self._lock is not None:
            self._lock.close()

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="group-commit",
                                                    daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            batch: list[_Item] = []
            item = self._queue.get()
            while item is not None:
                batch.append(item)
                if len(batch) >= self._max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
            if item is None:
                return

    def _write(self, batch: list[_Item]) -> None:
        try:
            with self._locked(), self._engine.begin() as connection:
                for statement, rows in _by_statement(batch).items():
                    plain = self._plain(statement, rows[0])
                    if plain is None:
                        connection.execute(statement, rows)
                        continue
                    sql, names = plain
                    connection.exec_driver_sql(sql, [tuple(r[n] for n in names) for r in rows]
                                               if names is not None else list(rows))
        except Exception as error:  # noqa: BLE001 - every caller is told, none is lost
            if len(batch) > 1:  # one bad row fails only its own caller
                for item in batch:
                    self._write([item])
            else:
                log.warning("group commit: a row could not be written: %r", error)
                batch[0][2].set_exception(error)
            return
        for _, _, done in batch:
            done.set_result(None)

    def _plain(self, statement: UpdateBase, row: Row) -> _Plain | None:
        """The statement's SQL and parameter order for the DBAPI's ``executemany``
        (``exec_driver_sql``), which skips most of SQLAlchemy's per-execution work (compiled
        cache lookup, parameter processing, result set-up): 578 -> ~465 us of CPU per
        batch of 3 tokens and 3 touches on SQLite. None when a column needs SQLAlchemy's
        conversion of its values."""
        key = (statement, tuple(row))
        if key not in self._plain_sql:
            compiled = statement.compile(dialect=self._engine.dialect, column_keys=list(row))
            needs_conversion = any(compiled._bind_processors.values())  # noqa: SLF001
            names = compiled.positiontup
            self._plain_sql[key] = None if needs_conversion else (
                compiled.string, tuple(names) if names is not None else None)
        return self._plain_sql[key]

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return self._lock.held() if self._lock is not None else contextlib.nullcontext()


def _by_statement(batch: list[_Item]) -> dict[UpdateBase, list[Row]]:
    grouped: dict[UpdateBase, list[Row]] = {}
    for statement, row, _ in batch:
        grouped.setdefault(statement, []).append(row)
    return grouped
