"""The rolling 24-hour API request allocation per org (Salesforce "Total API Request
Allocation"; Developer Edition: 15,000 a day, anchors.md §2.3).

Every data-API request counts. Usage is reported in ``Sforce-Limit-Info: api-usage=N/M`` on
every data-API response and as ``DailyApiRequests`` in ``/limits``; once it is spent, requests
get 403 ``REQUEST_LIMIT_EXCEEDED`` / ``TotalRequests Limit exceeded.`` (salesforce-wire.md
§6.7, §6.8) until the window slides past old requests. Refused requests are not counted.

Counting every request in the shared counters was a write transaction per API call (and on
PostgreSQL a wait on one hot row). So each process counts in memory and adds its count to the
shared counters at most every ``FLUSH_SECONDS`` (or every ``pending_bound`` requests), reading the
other processes' total back as it does — while the org has more than ``HEADROOM`` requests
left. Closer to the limit every request is counted in the shared counters at once, so the
refusal is exact across workers and replicas. Overshoot past the limit needs more than
``HEADROOM`` requests granted from in-memory counts between two reads, i.e. more than
``HEADROOM / MAX_PENDING`` processes at full speed at the moment the headroom runs out; it is
then at most ``MAX_PENDING`` per process. Far from it (a large allocation, or none) a process
may hold up to one in ``FAR_SHARE`` of what is left, at most ``MAX_PENDING_FAR``: reaching the
headroom that way needs more than ``FAR_SHARE`` processes at full speed, and the holding shrinks
back to ``MAX_PENDING`` on the way (at a hundred, a busy worker added to the shared counters
many times a second: bench/README.md). Reported usage (``Sforce-Limit-Info``) includes
other processes' requests as of the last read, at most a second old (Salesforce itself reports
it "accurate within 5 minutes").

A call on the event loop (commits.py) never waits for the shared counters far from the limit:
when its tally is due for a read, it counts in memory and the read is made on a flush thread;
so does a request on a request thread (inside ``commits.deferred()``, as the web layer runs
each one) whose tally is due by its ``pending_bound`` count, not by its age. Near the limit every
call is counted exactly, one on the loop moving to a thread for it; outside a request (the CLI,
tests) a due read is made at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

from localforce.commits import deferring, on_loop
from localforce.data.errors import RequestLimitExceeded
from localforce.limits.ports import Counters, Window

log = logging.getLogger("localforce.limits")

DAY = Window(seconds=86_400, bucket=300)
FLUSH_SECONDS = 1.0
MAX_PENDING = 100
MAX_PENDING_FAR = 1000
FAR_SHARE = 1000
HEADROOM = 1000
MAX_ORGS = 4096


def pending_bound(used: int, limit: int) -> int:
    """How many requests a process may count in memory before it reads the shared counters:
    ``MAX_PENDING``, or one in ``FAR_SHARE`` of what is left when that is more (up to
    ``MAX_PENDING_FAR``; that too when the limit is off)."""
    if limit <= 0:
        return MAX_PENDING_FAR
    return max(MAX_PENDING, min(MAX_PENDING_FAR, (limit - used) // FAR_SHARE))


class Usage(NamedTuple):
    """An org's requests counted in the window and its allocation (one made per data-API
    request: a tuple, quicker to make than a frozen dataclass)."""

    used: int
    max: int

    @property
    def remaining(self) -> int:
        return max(self.max - self.used, 0)

    def header(self) -> str:
        """``api-usage=N/M``, what simple-salesforce parses (``[^-]?api-usage=(\\d+)/(\\d+)``)."""
        return f"api-usage={self.used}/{self.max}"

    def limits_entry(self) -> dict[str, int]:
        """The ``DailyApiRequests`` value of ``GET /limits``."""
        return {"Max": self.max, "Remaining": self.remaining}


class AllocationSpent(RequestLimitExceeded):
    """``REQUEST_LIMIT_EXCEEDED``, with the usage the refusal still reports in
    ``Sforce-Limit-Info`` (as every data-API response does)."""

    def __init__(self, usage: Usage) -> None:
        super().__init__("TotalRequests Limit exceeded.")
        self.usage = usage


@dataclass
class _Tally:
    """One org's count in this process: ``shared`` as the counters last answered (this
    process's flushed requests included), plus ``pending`` requests not yet added to them."""

    shared: int
    read_at: float
    pending: int = 0
    #: Requests being added to the shared counters by the background flush.
    inflight: int = 0

    @property
    def used(self) -> int:
        return self.shared + self.inflight + self.pending


class ApiAllocation:
    def __init__(self, counters: Counters, clock: Callable[[], float], daily_max: int, *,
                 on_reject: Callable[[str], None] | None = None,
                 limit_of: Callable[[str], int] | None = None, window: Window = DAY,
                 prefix: str = "api:", label: str = "daily_api_requests",
                 refusal: Callable[[Usage], Exception] = AllocationSpent) -> None:
        """``daily_max``: every org's allocation, unless ``limit_of(org_id)`` (the org's own,
        set in Setup; read through the directory's cache, so a change is in force within its
        second) says otherwise. The same counting serves other budgets (the login rate per
        user, limits/rate.py): ``window``, the counters' key ``prefix`` + subject, the
        ``label`` ``on_reject`` is told and the exception a refusal raises."""
        self._window, self._prefix, self._label = window, prefix, label
        self._refusal = refusal
        self._counters = counters
        self._clock = clock
        self.daily_max = daily_max
        self._limit_of = limit_of
        self._on_reject = on_reject
        self._tallies: dict[str, _Tally] = {}
        self._lock = threading.Lock()
        self._flushing: set[str] = set()
        self._flusher: ThreadPoolExecutor | None = None

    def limit(self, org_id: str) -> int:
        return self._limit_of(org_id) if self._limit_of is not None else self.daily_max

    def consume(self, org_id: str) -> Usage:
        """Count one request; raises ``AllocationSpent`` when the allocation is spent.

        A limit of 0 or less turns it off (requests are still counted)."""
        key = self._prefix + org_id
        limit = self.limit(org_id)
        with self._lock:
            now = self._clock()
            tally = self._tallies.get(key)
            used = tally.used if tally is not None else 0
            if tally is not None and self._may_count_here(tally, used, now, limit):
                tally.pending += 1
                return Usage(used + 1, limit)
            if tally is not None and self._roomy(tally, limit) and (
                    on_loop() or (deferring() and now - tally.read_at < FLUSH_SECONDS)):
                # Due for a read, but a request's answer would wait for the shared counters
                # (SQLite's write lock, a round trip to PostgreSQL), and on the loop every
                # other request with it: counted here, read on the flush thread (on the loop,
                # trying them first cost a pool checkout and a refused BEGIN on every call
                # until that thread had run; on a request thread, every ``pending_bound``
                # calls under load, the read held one of its few threads for a write
                # transaction, bench/README.md). A request thread still reads at once when
                # its tally is a second old: the first call after a quiet second reports every
                # process's count (tests/replicas/test_haproxy.py).
                tally.pending += 1
                self._flush_soon(key)
                return Usage(tally.used, limit)
            # Counted exactly (no tally yet, or near the limit), after the pending count,
            # which this call adds: taken from the tally now, so no other call adds it too.
            n = tally.pending if tally is not None else 0
            if tally is not None:
                tally.pending, tally.inflight = 0, tally.inflight + n
        # Outside the lock: the shared counters may wait (SQLite's write lock, a row lock),
        # and every other call of the process, on the loop too, takes the lock to count. On
        # the loop ``take`` raises ``WouldWait`` before anything is written: the call moves
        # to a thread.
        return self._take_shared(key, n, now, limit)

    def usage(self, org_id: str) -> Usage:
        """The org's usage as ``consume`` reports it, without counting: this process's tally
        while its read is under ``FLUSH_SECONDS`` old, else the shared counters read again
        plus what this process has not yet added to them. Only reads: flushing the pending
        count here made every ``GET /limits`` a write transaction (on the loop, a move to a
        thread: bench/README.md)."""
        key = self._prefix + org_id
        limit = self.limit(org_id)
        with self._lock:
            now = self._clock()
            tally = self._tallies.get(key)
            if tally is not None and now - tally.read_at < FLUSH_SECONDS:
                return Usage(tally.used, limit)
        shared = self._counters.count(key, self._window, int(now))
        with self._lock:
            tally = self._tallies.get(key)
            if tally is None:
                return Usage(shared, limit)
            # Requests in flight may already be in ``shared`` (ahead by at most that many
            # until the flush ends, as ``_flush_in_background`` says).
            tally.shared, tally.read_at = max(tally.shared, shared), now
            return Usage(tally.used, limit)

    def flush(self) -> None:
        """Add every pending count to the shared counters (at shutdown)."""
        with self._lock:
            for key in list(self._tallies):
                self._flush(key, self._clock())

    def discard(self) -> None:
        """Forget the pending counts without adding them (a test server's database was
        restored to a point before them)."""
        with self._lock:
            self._tallies.clear()

    @staticmethod
    def _may_count_here(tally: _Tally, used: int, now: float, limit: int) -> bool:
        """``used``: the tally's (asked once by the caller)."""
        return (now - tally.read_at < FLUSH_SECONDS and tally.pending < pending_bound(used, limit)
                and (limit <= 0 or limit - used > HEADROOM))

    @staticmethod
    def _roomy(tally: _Tally, limit: int) -> bool:
        return limit <= 0 or limit - tally.used > HEADROOM

    def _flush_soon(self, key: str) -> None:
        """Add ``key``'s pending count to the shared counters on the flush thread: a call on
        the event loop never waits for them (they may wait for SQLite's write lock)."""
        if key in self._flushing:
            return
        self._flushing.add(key)
        if self._flusher is None:  # made in the process that uses it (never across a fork)
            self._flusher = ThreadPoolExecutor(1, thread_name_prefix="allocation-flush")
        self._flusher.submit(self._flush_in_background, key)

    def _flush_in_background(self, key: str) -> None:
        with self._lock:
            tally = self._tallies.get(key)
            n = tally.pending if tally is not None else 0
            if tally is not None:
                tally.pending, tally.inflight = 0, tally.inflight + n
        try:
            taken = (self._counters.take(key, self._window, int(self._clock()), None, n)
                     if n else None)
        except Exception:  # noqa: BLE001 - the count stays pending; the next flush adds it
            log.warning("API allocation: pending requests not added to the shared counters",
                        exc_info=True)
            taken = None
            if tally is not None:
                with self._lock:
                    tally.pending, tally.inflight = tally.pending + n, tally.inflight - n
                    self._flushing.discard(key)
                return
        with self._lock:
            self._flushing.discard(key)
            if tally is not None:
                # A flush on a thread meanwhile may have read the shared total with these
                # requests in it already (``used`` was then ahead by ``n`` until now); it
                # only grows within a read's second.
                tally.inflight -= n
                if taken is not None:
                    tally.shared = max(tally.shared, taken.count)
                tally.read_at = self._clock()

    def _take_shared(self, key: str, n: int, now: float, daily_max: int) -> Usage:
        """Add the ``n`` pending requests taken from the tally, then count this one, exactly,
        in the shared counters; called without the lock."""
        limit = daily_max if daily_max > 0 else None
        try:
            if n:
                self._counters.take(key, self._window, int(now), None, n)
        except BaseException:
            self._settled(key, n, None, now, added=False)  # still pending
            raise
        self._settled(key, n, None, now, added=True)
        taken = self._counters.take(key, self._window, int(now), limit)
        self._settled(key, 0, taken.count, now, added=True)
        if not taken.granted:
            if self._on_reject is not None:
                self._on_reject(self._label)
            raise self._refusal(Usage(taken.count, daily_max))
        return Usage(taken.count, daily_max)

    def _settled(self, key: str, n: int, shared: int | None, now: float, *,
                 added: bool) -> None:
        """The tally after a take: the ``n`` requests in flight added (or pending again),
        ``shared`` the counters' total as that take answered it."""
        with self._lock:
            tally = self._tallies.get(key)
            if tally is None:
                if shared is None:
                    return
                if len(self._tallies) >= MAX_ORGS:  # bounded: an idle org's tally goes
                    self._evict(now)
                tally = self._tallies[key] = _Tally(shared, now)
                return
            tally.inflight -= n
            if not added:
                tally.pending += n
            if shared is not None:
                # The total as of this take (it falls as the window slides); calls counted
                # meanwhile stay pending. Last in the order ``_evict`` drops tallies by.
                tally.shared, tally.read_at = shared, now
                self._tallies[key] = self._tallies.pop(key)

    def _evict(self, now: float) -> None:
        """Drop the oldest tally, its pending count added (under the lock: rare)."""
        self._flush(next(iter(self._tallies)), now, drop=True)

    def _flush(self, key: str, now: float, drop: bool = False) -> None:
        tally = self._tallies.get(key)
        if tally is not None and tally.pending:
            taken = self._counters.take(key, self._window, int(now), None, tally.pending)
            tally.shared, tally.pending, tally.read_at = taken.count, 0, now
        if drop:
            self._tallies.pop(key, None)

