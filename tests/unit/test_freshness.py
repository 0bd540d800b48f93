"""One freshness setting (``Settings.cache_seconds``, ``caching.freshness``) bounds every read
cache of the process (issue #22): the directory's TtlCache, the principal cache and the
custom-object declarations all take it when they are built."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import make_settings

from localforce import caching
from localforce.bootstrap import build
from localforce.caching import TtlCache
from localforce.storage.sql.record_store import DeclarationCache


@pytest.fixture
def restore() -> Iterator[None]:
    before = caching.freshness()
    yield
    caching.set_freshness(before)


class Tick:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_default_is_designs_second() -> None:
    assert make_settings(Path("unused")).cache_seconds == 1.0


def test_a_ttl_cache_keeps_an_entry_for_the_freshness(restore: None) -> None:
    caching.set_freshness(2.5)
    tick = Tick()
    cache: TtlCache[int] = TtlCache(clock=tick, shared=False)
    loads = iter(range(10))
    assert cache.get("k", lambda: next(loads)) == 0
    tick.now += 2.4
    assert cache.get("k", lambda: next(loads)) == 0
    tick.now += 0.2
    assert cache.get("k", lambda: next(loads)) == 1


def test_declarations_are_kept_for_the_freshness(restore: None) -> None:
    caching.set_freshness(3.0)
    tick = Tick()
    cache = DeclarationCache(clock=tick)
    loads: list[int] = []

    def load() -> list[tuple[dict[str, object], str | None]]:
        loads.append(1)
        return [({"name": "Thing__c"}, None)]

    cache.get("00D000000000001AAA", load)
    tick.now += 2.9
    cache.get("00D000000000001AAA", load)
    assert len(loads) == 1
    tick.now += 0.2
    cache.get("00D000000000001AAA", load)
    assert len(loads) == 2


def test_build_hands_the_setting_to_every_read_cache(home: Path, restore: None) -> None:
    services = build(make_settings(home, cache_seconds=4.0))
    try:
        assert caching.freshness() == 4.0
        assert services.directory.store._cache._seconds == 4.0  # type: ignore[attr-defined]
        assert services.oauth.sessions._cache_seconds == 4.0
        assert services.data.records.store._declarations._ttl == 4.0  # type: ignore[attr-defined]
    finally:
        services.close()


def test_a_negative_freshness_is_refused(restore: None) -> None:
    with pytest.raises(ValueError):
        caching.set_freshness(-1)
