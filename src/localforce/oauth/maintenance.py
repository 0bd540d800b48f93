"""Scheduled maintenance inside ``serve`` (issue #15): every ``interval`` seconds the purge of
dead OAuth state (``Housekeeping.purge``, what ``localforce db purge`` runs) and the signing
keys' schedule (``KeyRing.rotate_if_due``: the next key published ahead, a retired key deleted
once its last id_token has expired).

One process of a whole deployment runs it: the one holding the maintenance lock (a PostgreSQL
advisory lock, or a file lock beside a SQLite database: storage/sql/maintenance_lock.py). The
holder keeps the lock until it stops or its database connection breaks; every other process
tries to take it at each of its own runs, so a replica that dies hands maintenance over within
one interval.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from localforce.oauth.housekeeping import Housekeeping
from localforce.oauth.keys import KeyRing
from localforce.oauth.ports import MaintenanceLock

log = logging.getLogger("localforce.maintenance")


@dataclass(frozen=True)
class Schedule:
    #: Seconds between runs.
    interval: float = 3600.0
    #: Dead rows are kept this long before the purge deletes them.
    retention_days: int = 7
    #: Seconds a signing key signs before its successor takes over; 0: rotation by hand only.
    rotate_every: int = 90 * 86400
    #: Seconds the successor is published before it starts signing.
    publish_ahead: int = 86400


@dataclass(frozen=True)
class Run:
    """What one run did."""

    at: float
    purged: dict[str, int]
    rotated: str | None  # the new key's kid
    keys_retired: int


@dataclass
class Observer:
    """Where runs are reported (the metrics, in bootstrap)."""

    ran: Callable[[Run], None] = lambda run: None
    lock: Callable[[bool], None] = lambda held: None
    failed: Callable[[], None] = lambda: None


@dataclass
class Maintenance:
    housekeeping: Housekeeping
    keys: KeyRing
    lock: MaintenanceLock
    schedule: Schedule
    clock: Callable[[], float]
    observer: Observer = field(default_factory=Observer)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> Run | None:
        """One run if this process holds (or takes) the lock; None when another one does."""
        held = self.lock.acquire()
        self.observer.lock(held)
        if not held:
            return None
        purged = self.housekeeping.purge(self.schedule.retention_days)
        rotated = None
        if self.schedule.rotate_every > 0:
            new = self.keys.rotate_if_due(self.schedule.rotate_every, self.schedule.publish_ahead)
            rotated = new.kid if new is not None else None
        run = Run(self.clock(), purged, rotated, self.keys.retire_expired())
        self.observer.ran(run)
        if rotated or any(purged.values()):
            log.info("maintenance: purged %s; new signing key %s", purged, rotated or "-")
        return run

    # -- the background thread ------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="maintenance", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.lock.release()
        self.observer.lock(False)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a database outage: let the lock go (another process may take
                log.exception("maintenance run failed")  # it), try again next run
                self.lock.release()
                self.observer.lock(False)
                self.observer.failed()
            self._stop.wait(self.schedule.interval)
