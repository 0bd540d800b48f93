"""``limits.ports.Counters`` on SQL: one row per (key, bucket), incremented atomically.

``take`` counts first and checks after, in one transaction: an upsert locks the bucket row
(SQLite: the writer lock, taken by ``BEGIN IMMEDIATE``; PostgreSQL: the row lock of
``ON CONFLICT DO UPDATE``), so concurrent takers in any process see each other's counts and
never grant more than the limit. A refused take is undone in the same transaction. Buckets
older than the window are deleted as the key is used.
"""

from __future__ import annotations

import importlib
from typing import Any

from sqlalchemy import Engine, delete, func, select, update

from localforce.limits.ports import Taken, Window
from localforce.storage.sql import tables as t

_c = t.counters.c


def _upsert(dialect: str) -> Any:
    # Only the engine's own dialect: importing PostgreSQL's slows a SQLite start-up
    # (bench/README.md).
    module: Any = importlib.import_module(
        f"sqlalchemy.dialects.{'postgresql' if dialect == 'postgresql' else 'sqlite'}")
    stmt = module.insert(t.counters)
    return stmt.on_conflict_do_update(index_elements=[_c.key, _c.bucket],
                                      set_={"count": t.counters.c.count + stmt.excluded.count})


class SqlCounters:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._upsert = _upsert(engine.dialect.name)

    def take(self, key: str, window: Window, now: int, limit: int | None, n: int = 1) -> Taken:
        bucket, oldest = window.bucket_of(now), window.oldest(now)
        with self._engine.begin() as c:
            c.execute(self._upsert, {"key": key, "bucket": bucket, "count": n})
            c.execute(delete(t.counters).where(_c.key == key, _c.bucket < oldest))
            total = self._total(c, key, oldest)
            if limit is not None and total > limit:
                c.execute(update(t.counters).where(_c.key == key, _c.bucket == bucket)
                          .values(count=_c.count - n))
                return Taken(False, total - n)
        return Taken(True, total)

    def count(self, key: str, window: Window, now: int) -> int:
        with self._engine.connect() as c:
            return self._total(c, key, window.oldest(now))

    @staticmethod
    def _total(c: Any, key: str, oldest: int) -> int:
        return int(c.execute(select(func.coalesce(func.sum(_c.count), 0))
                             .where(_c.key == key, _c.bucket >= oldest)).scalar_one())
