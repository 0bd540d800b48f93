"""A Bulk transaction on SQLite runs with a larger page cache on its connection, and the
connection goes back to the pool with the size it had, whether the transaction committed or
failed (the pool's connections must not each keep 32 MiB)."""

from __future__ import annotations

from typing import Any

import pytest

from localforce.bootstrap import Services
from localforce.data.bulk.ports import Job
from localforce.storage.sql.bulk_store import BATCH_PAGE_CACHE_KIB


def cache_size(raw: Any) -> int:
    return int(raw.execute("PRAGMA cache_size").fetchone()[0])


def job() -> Job:
    return Job("750000000000001AAA", "00D000000000001AAA", "005000000000001AAA", "ingest",
               "insert", "Account", "62.0", "InProgress", 0, 0)


def test_the_batch_has_the_larger_cache_and_the_connection_gets_its_own_back(
        services: Services) -> None:
    store = services.bulk.runner.store
    with store.batch(job(), "runner") as (records, _):
        raw = records.connection.connection.driver_connection  # type: ignore[attr-defined]
        assert cache_size(raw) == -BATCH_PAGE_CACHE_KIB
    assert cache_size(raw) == -2000  # SQLite's default, as the engine opened it


def test_a_failed_batch_also_gives_the_connection_its_own_cache_back(
        services: Services) -> None:
    store = services.bulk.runner.store
    with pytest.raises(RuntimeError, match="a row failed"):
        with store.batch(job(), "runner") as (records, _):
            raw = records.connection.connection.driver_connection  # type: ignore[attr-defined]
            assert cache_size(raw) == -BATCH_PAGE_CACHE_KIB
            raise RuntimeError("a row failed")
    assert cache_size(raw) == -2000
