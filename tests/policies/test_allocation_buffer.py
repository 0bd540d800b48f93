"""The API allocation counted in memory per process between reads of the shared counters
(``limits/allocation.py``): two ``ApiAllocation`` objects on one database stand for two
workers. Far from the limit each counts locally and adds its count at most every second;
near it every request is counted in the shared counters, so the refusal stays exact."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.conftest import FixedClock

from localforce import commits
from localforce.limits.allocation import (
    DAY,
    FAR_SHARE,
    FLUSH_SECONDS,
    HEADROOM,
    MAX_PENDING,
    MAX_PENDING_FAR,
    AllocationSpent,
    ApiAllocation,
    pending_bound,
)
from localforce.limits.rate import HOUR, LoginRateLimiter, RateLimited
from localforce.storage.sql.counter_store import SqlCounters
from localforce.storage.sql.engine import make_engine, upgrade

ORG = "00D000000000001AAA"


@pytest.fixture
def counters(tmp_path: Path) -> Iterator[SqlCounters]:
    engine = make_engine(f"sqlite:///{tmp_path / 'lf.db'}")
    upgrade(engine)
    yield SqlCounters(engine)
    engine.dispose()


def shared(counters: SqlCounters, clock: FixedClock) -> int:
    return counters.count(f"api:{ORG}", DAY, int(clock()))


def grant_in_turn(workers: list[ApiAllocation], limit: int) -> int:
    """The workers take turns at a request until four refusals: how many were granted (each
    refusal reporting the limit as used)."""
    granted = refused = 0
    while refused < 4:
        for worker in workers:
            try:
                worker.consume(ORG)
                granted += 1
            except AllocationSpent as spent:
                refused += 1
                assert spent.usage.used == limit
    return granted


def test_a_worker_reports_its_own_requests_exactly(counters: SqlCounters,
                                                   clock: FixedClock) -> None:
    worker = ApiAllocation(counters, clock, 15_000)
    assert [worker.consume(ORG).used for _ in range(5)] == [1, 2, 3, 4, 5]
    assert worker.usage(ORG).used == 5  # /limits counts what is pending ...
    assert shared(counters, clock) == 1  # ... without adding it (only the first was read)


def test_usage_reads_the_other_workers_count_once_its_tally_is_a_second_old(
        counters: SqlCounters, clock: FixedClock) -> None:
    first, second = ApiAllocation(counters, clock, 15_000), ApiAllocation(counters, clock, 15_000)
    for _ in range(3):
        second.consume(ORG)  # the first read and added, two pending
    for _ in range(4):
        first.consume(ORG)  # the same: 2 in the shared counters, 3 pending
    clock.advance(FLUSH_SECONDS)
    second.consume(ORG)  # a second on: adds its two pending and itself
    assert shared(counters, clock) == 5
    assert first.usage(ORG).used == 5 + 3  # read again, plus its own pending
    assert second.usage(ORG).used == 5  # its tally is fresh: not read
    assert ApiAllocation(counters, clock, 15_000).usage(ORG).used == 5  # a worker with no tally
    assert shared(counters, clock) == 5  # reads only: nothing added


def test_other_workers_see_the_count_within_one_second(counters: SqlCounters,
                                                       clock: FixedClock) -> None:
    first, second = ApiAllocation(counters, clock, 15_000), ApiAllocation(counters, clock, 15_000)
    for _ in range(10):
        first.consume(ORG)
    assert shared(counters, clock) < 10  # counted in memory ...
    clock.advance(FLUSH_SECONDS)
    first.consume(ORG)  # ... and added on the first request a second later
    assert shared(counters, clock) == 11
    assert second.consume(ORG).used == 12


def test_no_more_than_max_pending_requests_wait_in_memory(counters: SqlCounters,
                                                          clock: FixedClock) -> None:
    worker = ApiAllocation(counters, clock, 15_000)
    for n in range(1, 3 * MAX_PENDING + 1):
        assert worker.consume(ORG).used == n
        assert n >= shared(counters, clock) >= n - MAX_PENDING  # the clock never moves


def test_far_from_the_limit_a_worker_holds_one_in_far_share_of_what_is_left() -> None:
    assert pending_bound(0, 15_000) == MAX_PENDING  # a Developer Edition org: as near
    assert pending_bound(0, 10**9) == MAX_PENDING_FAR  # at most MAX_PENDING_FAR
    assert pending_bound(0, 0) == MAX_PENDING_FAR  # the limit off: only counted
    assert pending_bound(10**6 - 500 * FAR_SHARE, 10**6) == 500
    assert pending_bound(10**6 - 50 * FAR_SHARE, 10**6) == MAX_PENDING  # shrinking back


def test_a_worker_with_a_large_allocation_reads_the_shared_counters_less_often(
        counters: SqlCounters, clock: FixedClock) -> None:
    worker = ApiAllocation(counters, clock, 10**9)
    lags = []
    for n in range(1, 3 * MAX_PENDING_FAR + 1):
        assert worker.consume(ORG).used == n
        lags.append(n - shared(counters, clock))  # the clock never moves
    assert max(lags) == MAX_PENDING_FAR  # more than MAX_PENDING, never more than this


def test_from_far_to_the_limit_two_workers_grant_exactly_the_limit(
        counters: SqlCounters, clock: FixedClock) -> None:
    """Left: 200,000, where each may hold 200, then fewer, down to exact counting: granted
    exactly what was left, by the two together."""
    limit, left = 10**7, 200 * FAR_SHARE
    counters.take(f"api:{ORG}", DAY, int(clock()), None, n=limit - left)
    workers = [ApiAllocation(counters, clock, limit) for _ in range(2)]
    assert grant_in_turn(workers, limit) == left
    assert shared(counters, clock) == limit


def test_near_the_limit_two_workers_grant_exactly_the_limit(counters: SqlCounters,
                                                            clock: FixedClock) -> None:
    limit = HEADROOM + 50
    workers = [ApiAllocation(counters, clock, limit) for _ in range(2)]
    assert grant_in_turn(workers, limit) == limit
    assert shared(counters, clock) == limit


def test_flush_adds_what_is_pending(counters: SqlCounters, clock: FixedClock) -> None:
    worker = ApiAllocation(counters, clock, 15_000)
    for _ in range(7):
        worker.consume(ORG)
    worker.flush()
    assert shared(counters, clock) == 7


def test_on_the_loop_a_due_read_goes_to_the_flush_thread(counters: SqlCounters,
                                                         clock: FixedClock,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    worker = ApiAllocation(counters, clock, 15_000)
    worker.consume(ORG)  # the first read, on a thread: the tally exists now
    taken_here: list[str] = []
    take = counters.take

    def watched(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if commits.on_loop():
            taken_here.append("on the loop")
        return take(*args, **kwargs)

    monkeypatch.setattr(counters, "take", watched)
    clock.advance(FLUSH_SECONDS)  # due for a read
    for _ in range(3 * MAX_PENDING):
        done, usage = commits.attempt(worker.consume, ORG)
        assert done and usage is not None
    assert taken_here == []  # never tried (and refused) on the loop
    worker._flusher.shutdown(wait=True)  # noqa: SLF001 - let the flush thread finish
    worker.flush()
    assert shared(counters, clock) == 1 + 3 * MAX_PENDING


def test_in_a_request_a_read_due_by_count_goes_to_the_flush_thread(
        counters: SqlCounters, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """A request's thread (``commits.deferred()``, as the web layer runs every request) does
    not wait for the shared counters every ``MAX_PENDING`` calls far from the limit; once its
    tally is a second old, or outside a request, it reads at once."""
    worker = ApiAllocation(counters, clock, 15_000)
    worker.consume(ORG)  # the first read: the tally exists now
    caller = threading.get_ident()
    taken_by: list[str] = []
    take = counters.take

    def watched(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        taken_by.append("caller" if threading.get_ident() == caller else "flush thread")
        return take(*args, **kwargs)

    monkeypatch.setattr(counters, "take", watched)
    with commits.deferred():
        for _ in range(3 * MAX_PENDING):  # due for a read every MAX_PENDING calls
            worker.consume(ORG)
    if worker._flusher is not None:  # noqa: SLF001 - let the flush thread finish
        worker._flusher.shutdown(wait=True)  # noqa: SLF001
    assert taken_by and set(taken_by) == {"flush thread"}
    worker.flush()
    assert shared(counters, clock) == 1 + 3 * MAX_PENDING
    clock.advance(FLUSH_SECONDS)
    taken_by.clear()
    with commits.deferred():
        worker.consume(ORG)  # a second old: at once, by the caller
    assert taken_by == ["caller"]
    taken_by.clear()
    for _ in range(MAX_PENDING + 1):
        worker.consume(ORG)  # outside a request: at once too
    assert taken_by and set(taken_by) == {"caller"}


def test_a_count_waiting_for_the_shared_counters_does_not_hold_up_the_others(
        counters: SqlCounters, clock: FixedClock, tmp_path: Path) -> None:
    """A first request of an org counts in the shared counters, which wait while another
    process holds SQLite's write lock; meanwhile an org whose tally is fresh counts in memory
    at once, as every call on the event loop must (it takes the same in-process lock)."""
    worker = ApiAllocation(counters, clock, 15_000)
    worker.consume(ORG)  # this org's tally is fresh
    holder = sqlite3.connect(tmp_path / "lf.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(worker.consume, "00D000000000002AAA")  # waits for the lock
        time.sleep(0.2)
        assert not first.done()
        fresh = pool.submit(worker.consume, ORG)
        assert fresh.result(timeout=5).used == 2  # not behind the waiting one
        holder.execute("COMMIT")
        assert first.result(timeout=30).used == 1
    holder.close()


def test_logins_far_from_the_users_limit_are_counted_on_the_loop(counters: SqlCounters,
                                                                  clock: FixedClock) -> None:
    limiter = LoginRateLimiter(counters, clock, per_user_hour=3600, per_ip_minute=0)
    assert commits.attempt(limiter.user_attempt, "005A") == (False, None)  # first: exact
    limiter.user_attempt("005A")  # ... on a thread
    for _ in range(3 * MAX_PENDING):  # then no write transaction per login
        assert commits.attempt(limiter.user_attempt, "005A") == (True, None)
    limiter.flush()
    assert counters.count("login-user:005A", HOUR, int(clock())) == 1 + 3 * MAX_PENDING


def test_near_the_users_limit_every_login_is_counted_exactly(counters: SqlCounters,
                                                             clock: FixedClock) -> None:
    limiters = [LoginRateLimiter(counters, clock, per_user_hour=HEADROOM + 20, per_ip_minute=0)
                for _ in range(2)]
    granted = refused = 0
    while refused < 4:
        for limiter in limiters:
            try:
                limiter.user_attempt("005B")
                granted += 1
            except RateLimited:
                refused += 1
    assert granted == HEADROOM + 20
