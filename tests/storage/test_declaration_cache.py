"""The per-process copy of an org's custom-object declarations (read on every query).

A schema change made in this process is seen at once; one made by another worker or replica
(another store on the same database) within the cache's bound, 1 s (DESIGN.md). The clock is
injected, so nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.conftest import FixedClock

from localforce.data.api import DataApi
from localforce.data.custom import build_objects
from localforce.storage.sql.engine import make_engine, upgrade
from localforce.storage.sql.record_store import DeclarationCache, SqlRecordStore

ORG = "00D000000000001AAA"
THING = {"name": "Thing__c", "fields": [{"name": "Size__c", "type": "Number"}]}
WIDER = {"name": "Thing__c", "fields": [{"name": "Note__c", "type": "Text"}]}


@pytest.fixture
def engine(home: Path) -> Iterator[Engine]:
    home.mkdir(parents=True, exist_ok=True)
    built = make_engine(f"sqlite:///{home / 'lf.db'}")
    upgrade(built)
    yield built
    built.dispose()


def replica(engine: Engine, clock: FixedClock) -> DataApi:
    return DataApi(SqlRecordStore(engine, declarations=DeclarationCache(clock=clock)), clock)


def fields(api: DataApi) -> set[str]:
    thing = build_objects(api.store.declarations(ORG)).get("Thing__c")
    return {f.name for f in thing.fields} if thing else set()


def test_own_changes_are_seen_at_once(engine: Engine, clock: FixedClock) -> None:
    api = replica(engine, clock)
    assert fields(api) == set()  # cached: no custom objects
    api.declare(ORG, THING)
    assert "Size__c" in fields(api)
    api.declare(ORG, WIDER)
    assert {"Size__c", "Note__c"} <= fields(api)


def test_another_replicas_change_is_seen_within_one_second(engine: Engine,
                                                           clock: FixedClock) -> None:
    here, there = replica(engine, clock), replica(engine, clock)
    assert fields(here) == set()
    there.declare(ORG, THING)
    clock.advance(0.5)
    assert fields(here) == set()  # the copy is at most 1 s old ...
    clock.advance(0.5)
    assert "Size__c" in fields(here)  # ... and then read again


def test_declaring_merges_with_the_stored_declarations_not_a_stale_copy(
        engine: Engine, clock: FixedClock) -> None:
    here, there = replica(engine, clock), replica(engine, clock)
    here.declare(ORG, THING)
    assert "Size__c" in fields(there)  # there's copy now holds Thing__c with Size__c
    here.declare(ORG, WIDER)
    there.declare(ORG, {"name": "Thing__c", "fields": [{"name": "Due__c", "type": "Date"}]})
    clock.advance(1)
    assert {"Size__c", "Note__c", "Due__c"} <= fields(here)


def test_callers_cannot_change_the_cached_copy(engine: Engine, clock: FixedClock) -> None:
    api = replica(engine, clock)
    api.declare(ORG, THING)
    api.store.declarations(ORG)[0][0]["name"] = "Changed__c"
    assert api.store.declarations(ORG)[0][0]["name"] == "Thing__c"


def test_the_cache_holds_a_bounded_number_of_orgs(clock: FixedClock) -> None:
    cache = DeclarationCache(max_orgs=2, clock=clock)
    loads: list[str] = []

    def load(org: str) -> list[tuple[dict[str, object], str | None]]:
        loads.append(org)
        return []

    for org in ("a", "b", "c", "a"):
        cache.get(org, lambda org=org: load(org))  # type: ignore[misc]
    assert loads == ["a", "b", "c", "a"]  # "a" was dropped to make room for "c"
    cache.get("c", lambda: load("c"))
    assert loads[-1] == "a"  # "c" still held


def test_an_object_another_replica_just_created_is_found_at_once(engine: Engine,
                                                                  clock: FixedClock) -> None:
    """``localforce objects create`` in another process, then an API call here: the unknown
    custom object makes the schema read the declarations again instead of answering
    NOT_FOUND for up to a second."""
    here, there = replica(engine, clock), replica(engine, clock)
    assert here.schema_for(ORG).get("Thing__c") is None  # caches "no custom objects"
    there.declare(ORG, THING)
    found = here.schema_for(ORG).get("thing__c")
    assert found is not None and "Size__c" in {f.name for f in found.fields}
    assert here.schema_for(ORG).get("Nothing__c") is None  # still unknown: still None


def test_standard_object_lookups_never_reload(engine: Engine, clock: FixedClock) -> None:
    here = replica(engine, clock)
    reads = []
    store = here.store
    original = store.declarations

    def counting(org_id: str, fresh: bool = False):  # type: ignore[no-untyped-def]
        reads.append(fresh)
        return original(org_id, fresh)

    store.declarations = counting  # type: ignore[method-assign]
    schema = here.schema_for(ORG)
    assert schema.get("Account") is not None and schema.get("Bogus") is None
    assert reads == [False]
