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

from sqlalchemy import Engine, bindparam, delete, func, select, update

from localforce.limits.ports import Taken, Window
from localforce.storage.sql import tables as t

_c = t.counters.c
#: Built once: constructing each statement per call cost more than running it.
_PRUNE = delete(t.counters).where(_c.key == bindparam("key"), _c.bucket < bindparam("oldest"))
_TOTAL = select(func.coalesce(func.sum(_c.count), 0)).where(
    _c.key == bindparam("key"), _c.bucket >= bindparam("oldest"))
_UNDO = update(t.counters).where(_c.key == bindparam("the_key"),
                                 _c.bucket == bindparam("the_bucket")) \
    .values(count=_c.count - bindparam("n"))


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
            c.execute(_PRUNE, {"key": key, "oldest": oldest})
            total = self._total(c, key, oldest)
            if limit is not None and total > limit:
                c.execute(_UNDO, {"the_key": key, "the_bucket": bucket, "n": n})
                return Taken(False, total - n)
        return Taken(True, total)

    def count(self, key: str, window: Window, now: int) -> int:
        with self._engine.connect() as c:
            return self._total(c, key, window.oldest(now))

    @staticmethod
    def _total(c: Any, key: str, oldest: int) -> int:
        return int(c.execute(_TOTAL, {"key": key, "oldest": oldest}).scalar_one())
