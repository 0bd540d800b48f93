"""Contract suite for ``limits.ports.Counters``: SQLite, PostgreSQL, Redis and in memory."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from tests.conftest import REDIS_URL, _reset_postgres, missing_service

from localforce.limits.ports import Counters, Taken, Window
from localforce.storage.memory.counters import MemoryCounters
from localforce.storage.redis.counters import RedisCounters
from localforce.storage.sql.counter_store import SqlCounters
from localforce.storage.sql.engine import make_engine, upgrade

T0 = 1_790_000_200  # 100 s into a five-minute bucket
DAY = Window(seconds=86_400, bucket=300)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "redis",
                        "memory"])
def counters(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Counters]:
    if request.param == "memory":
        yield MemoryCounters()
        return
    if request.param == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        try:
            client.ping()
        except redis.RedisError as exc:
            missing_service(f"Redis at {REDIS_URL} is not reachable: {exc.__class__.__name__}")
        prefix = f"lf-test:{secrets.token_hex(4)}:"
        yield RedisCounters(client, prefix=prefix)
        for key in client.scan_iter(prefix + "*"):
            client.delete(key)
        client.close()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'lf.db'}"
    else:
        url = request.getfixturevalue("pg_database")
        _reset_postgres(url)
    engine = make_engine(url)
    upgrade(engine)
    yield SqlCounters(engine)
    engine.dispose()


def test_counts_up_to_the_limit_and_refuses_after(counters: Counters) -> None:
    results = [counters.take("api:org", DAY, T0, 3) for _ in range(5)]
    assert [(r.granted, r.count) for r in results] == [
        (True, 1), (True, 2), (True, 3), (False, 3), (False, 3)]
    assert counters.count("api:org", DAY, T0) == 3


def test_keys_are_independent(counters: Counters) -> None:
    counters.take("a", DAY, T0, None)
    counters.take("a", DAY, T0, None)
    counters.take("b", DAY, T0, None)
    assert (counters.count("a", DAY, T0), counters.count("b", DAY, T0)) == (2, 1)
    assert counters.count("never", DAY, T0) == 0


def test_no_limit_always_counts(counters: Counters) -> None:
    for _ in range(4):
        taken = counters.take("k", DAY, T0, None)
    assert taken.granted and taken.count == 4


def test_window_rolls_bucket_by_bucket(counters: Counters) -> None:
    counters.take("k", DAY, T0, 2)  # the bucket starting at T0 - 100
    counters.take("k", DAY, T0 + 3600, 2)
    assert not counters.take("k", DAY, T0 + 7200, 2).granted
    # 24 hours after the first bucket started, that bucket has left the window.
    later = T0 - 100 + 86_400
    assert counters.count("k", DAY, later - 1) == 2
    assert counters.count("k", DAY, later) == 1
    assert counters.take("k", DAY, later, 2).granted
    assert not counters.take("k", DAY, later, 2).granted


def test_concurrent_takers_never_exceed_the_limit(counters: Counters) -> None:
    granted: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            ok = counters.take("race", DAY, T0, 25).granted
            with lock:
                granted.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 25
    assert counters.count("race", DAY, T0) == 25


def test_window_must_be_whole_buckets() -> None:
    with pytest.raises(ValueError):
        Window(seconds=100, bucket=30)


def test_takes_several_at_once_and_refuses_all_of_them_past_the_limit(
        counters: Counters) -> None:
    assert counters.take("api:org", DAY, T0, 10, n=4) == Taken(True, 4)
    assert counters.take("api:org", DAY, T0, None, n=5) == Taken(True, 9)
    assert counters.take("api:org", DAY, T0, 10, n=2) == Taken(False, 9)  # none of the two
    assert counters.take("api:org", DAY, T0, 10) == Taken(True, 10)
    assert counters.count("api:org", DAY, T0) == 10


def test_redis_away_falls_back_to_the_database_and_is_retried_each_second(tmp_path: Path) -> None:
    """Issue #15: a dead Redis leaves limits working on the database's counters (with a
    warning metric), and Redis is tried again after the pause."""
    from localforce.storage.redis.counters import FallbackCounters

    engine = make_engine(f"sqlite:///{tmp_path / 'lf.db'}")
    upgrade(engine)
    dead = RedisCounters.from_url("redis://127.0.0.1:1/0")  # nothing listens on port 1
    failures: list[int] = []
    now = [0.0]
    counters = FallbackCounters(dead, SqlCounters(engine), on_failure=lambda: failures.append(1),
                                clock=lambda: now[0])
    assert counters.take("k", DAY, T0, limit=2) == Taken(True, 1)
    assert counters.take("k", DAY, T0, limit=2) == Taken(True, 2)  # not retried within a second
    assert counters.take("k", DAY, T0, limit=2) == Taken(False, 2)
    assert counters.count("k", DAY, T0) == 2
    assert failures == [1]
    now[0] += 1.0
    assert counters.count("k", DAY, T0) == 2 and failures == [1, 1]  # retried, still away
    engine.dispose()
