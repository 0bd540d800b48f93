"""A non-blocking writer for the API usage log: the request path only enqueues.

A daemon thread drains the queue in batches (one transaction per batch), so a data-API request
pays for its share of a ``put_nowait`` and never waits on the database (bench/api_log_writer.py
measures both). After the first entry of a batch it lingers ``linger`` seconds for more:
without that, each request woke it for a transaction of one row, which cost more CPU than the
request's own query when requests came one at a time. When the queue is full — the database is
down or far behind — calls are dropped and counted rather than slowing every request;
``dropped`` feeds the metrics.

Calls may also be held before they are submitted: the web layer books an event loop's
requests in batches (web/logging.py ``Books``), and submits each batch's calls together (one
queue item: ``submit_many``). Such a holder is a ``Feeder`` of the writer,
so ``flush`` and ``discard`` mean what they say for the calls it holds as well.
"""

from __future__ import annotations

import logging
import queue
import threading
import weakref
from typing import Protocol

from localforce.audit.ports import ApiCall, ApiCallLog

log = logging.getLogger("localforce.audit")


class Feeder(Protocol):
    """Holds calls for a moment before it submits them."""

    def flush(self) -> None:
        """Submit every call held now."""

    def drop(self) -> None:
        """Forget every call held now."""


class BackgroundWriter:
    def __init__(self, sink: ApiCallLog, *, capacity: int = 10_000, batch: int = 500,
                 linger: float = 0.05) -> None:
        self._sink = sink
        self._linger = linger
        #: Lists of calls submitted together; ``None`` asks the thread to stop.
        self._queue: queue.Queue[list[ApiCall] | None] = queue.Queue()
        self._capacity = capacity
        self._queued = 0  # calls in the queue, bounded by ``capacity``
        self._count_lock = threading.Lock()
        self._batch = batch
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.dropped = 0
        self.failed = 0
        #: Set to cut the linger short (``discard``).
        self._hurry = threading.Event()
        self._feeders: weakref.WeakSet[Feeder] = weakref.WeakSet()

    def fed_by(self, feeder: Feeder) -> None:
        """``feeder`` holds calls for this writer: ``flush`` and ``discard`` reach them too."""
        self._feeders.add(feeder)

    def submit(self, call: ApiCall) -> bool:
        """Enqueue one call; never blocks. False if the queue was full and the call dropped."""
        return self.submit_many([call]) == 1

    def submit_many(self, calls: list[ApiCall]) -> int:
        """Enqueue ``calls`` together, in order; never blocks. Returns how many were queued:
        those past the queue's capacity are dropped (counted in ``dropped``)."""
        if not calls:
            return 0  # nothing to write: no thread started for it
        self._ensure_started()
        with self._count_lock:
            room = max(0, self._capacity - self._queued)
            taken = calls if len(calls) <= room else calls[:room]
            self._queued += len(taken)
            self.dropped += len(calls) - len(taken)
        if taken:
            self._queue.put_nowait(taken)
        return len(taken)

    def flush(self) -> None:
        """Wait until everything submitted so far, or held by a feeder, is written (tests, CLI,
        shutdown)."""
        for feeder in list(self._feeders):
            feeder.flush()
        if self._thread is not None:
            self._queue.join()

    def discard(self) -> None:
        """Drop what waits in the queue and wait for the batch being written, if any (a test
        server restoring its database: calls made before must not land after)."""
        for feeder in list(self._feeders):
            feeder.drop()
        if self._thread is None:
            return
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            self._taken(item)
            self._queue.task_done()
        self._hurry.set()
        self._queue.join()
        self._hurry.clear()

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=10)
        self._thread = None

    def _ensure_started(self) -> None:
        # Started on first use, not at construction: uvicorn forks workers after building
        # nothing, but a thread must never be created in a parent that forks afterwards.
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="api-usage-log",
                                                    daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is not None and self._linger and self._queued < self._batch:
                self._hurry.wait(self._linger)  # unless a full batch is already waiting
            items, calls = [first], list(first or ())
            while first is not None and len(calls) < self._batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                items.append(item)
                if item is None:
                    break
                calls.extend(item)
            for start in range(0, len(calls), self._batch):  # at most ``batch`` a transaction
                self._write(calls[start:start + self._batch])
            self._taken(calls)
            for _ in items:
                self._queue.task_done()
            if items[-1] is None:
                return

    def _taken(self, calls: list[ApiCall] | None) -> None:
        """``calls`` left the queue (written, failed or discarded)."""
        if calls:
            with self._count_lock:
                self._queued -= len(calls)

    def _write(self, calls: list[ApiCall]) -> None:
        if not calls:
            return
        try:
            self._sink.append(calls)
        except Exception:  # noqa: BLE001 - a logging failure must not kill the writer
            self.failed += len(calls)
            log.exception("could not write %d API usage log entries", len(calls))
