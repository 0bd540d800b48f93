"""Group commit (storage/sql/group_commit.py, localforce/commits.py) on SQLite and PostgreSQL:
appends are committed together, a caller is answered only after its row's commit, and one bad
row fails only its own caller."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from tests.storage.test_oauth_store import record

from localforce import commits
from localforce.bootstrap import Services
from localforce.storage.sql import tables as t
from localforce.storage.sql.engine import reader
from localforce.storage.sql.group_commit import GroupCommit
from localforce.storage.sql.oauth_store import SqlTokenStore


def token_count(engine: Engine) -> int:
    with reader(engine).connect() as c:  # a reader does not wait for the writer's lock
        return int(c.execute(select(func.count()).select_from(t.tokens)).scalar_one())


def inserts_tokens(statement: str) -> bool:
    """The SQL of a ``before_cursor_execute`` event writes tokens (the writer sends its SQL
    with ``exec_driver_sql``, which no ``before_execute`` event sees)."""
    return statement.startswith("INSERT INTO tokens ")


class GatedInserts:
    """Holds the writer at the start of its first transaction until ``release``; counts the
    writer's commits. (At the transaction, not at its INSERT: on PostgreSQL the writer sends
    its rows by COPY on the driver's cursor, which no SQLAlchemy event sees.)"""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.reached, self.gate = threading.Event(), threading.Event()
        self.commits = 0
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._commit)

    def _begin(self, _conn: Any) -> None:
        if threading.current_thread().name == "group-commit":
            self.reached.set()
            assert self.gate.wait(10), "never released"

    def _commit(self, conn: Any) -> None:
        if threading.current_thread().name == "group-commit":
            self.commits += 1

    def release(self) -> None:
        self.gate.set()

    def remove(self) -> None:
        event.remove(self.engine, "begin", self._begin)
        event.remove(self.engine, "commit", self._commit)


def test_add_returns_after_its_row_is_committed(svc: Services,
                                                ids: tuple[str, str, str]) -> None:
    store = SqlTokenStore(svc.engine, svc.writes)
    store.add(record(ids, "d-1"))
    # Outside a request nothing defers: the row is there for any other connection.
    assert token_count(svc.engine) == 1
    assert store.find("d-1") is not None


def test_concurrent_appends_share_one_transaction(svc: Services,
                                                  ids: tuple[str, str, str]) -> None:
    store = SqlTokenStore(svc.engine, svc.writes)
    gated = GatedInserts(svc.engine)
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            first = pool.submit(store.add, record(ids, "first"))
            assert gated.reached.wait(10)
            # While the writer is inside the first transaction, 15 more arrive.
            rest = [pool.submit(store.add, record(ids, f"d-{i}")) for i in range(15)]
            while svc.writes._queue.qsize() < 15:  # noqa: SLF001 - all 15 queued
                threading.Event().wait(0.01)
            assert not first.done() and not any(f.done() for f in rest)
            gated.release()
            for future in [first, *rest]:
                future.result(10)
        assert token_count(svc.engine) == 16
        assert gated.commits == 2  # the first row alone, then the 15 together
    finally:
        gated.remove()


def test_deferred_append_is_not_answered_before_its_commit(
        svc: Services, ids: tuple[str, str, str]) -> None:
    store = SqlTokenStore(svc.engine, svc.writes)
    gated = GatedInserts(svc.engine)
    try:
        with commits.deferred() as pending:
            store.add(record(ids, "deferred"))  # returns without waiting
        assert gated.reached.wait(10)
        assert len(pending) == 1 and not pending[0].done()
        assert token_count(svc.engine) == 0  # not committed: nobody may be told yet
        gated.release()
        asyncio.run(commits.settle(pending))
        assert token_count(svc.engine) == 1
    finally:
        gated.remove()


def test_a_bad_row_fails_only_its_own_caller(svc: Services, ids: tuple[str, str, str]) -> None:
    store = SqlTokenStore(svc.engine, svc.writes)
    store.add(record(ids, "taken"))
    gated = GatedInserts(svc.engine)
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            first = pool.submit(store.add, record(ids, "one"))
            assert gated.reached.wait(10)
            duplicate = pool.submit(store.add, record(ids, "taken"))  # primary key taken
            good = pool.submit(store.add, record(ids, "two"))
            while svc.writes._queue.qsize() < 2:  # noqa: SLF001
                threading.Event().wait(0.01)
            gated.release()
            first.result(10)
            good.result(10)
            with pytest.raises(Exception, match="(?i)unique|duplicate"):
                duplicate.result(10)
        with svc.engine.connect() as c:
            digests = set(c.execute(select(t.tokens.c.digest)).scalars())
        assert digests == {"taken", "one", "two"}
    finally:
        gated.remove()


def test_close_writes_what_is_queued(svc: Services, ids: tuple[str, str, str]) -> None:
    writes = GroupCommit(svc.engine)
    store = SqlTokenStore(svc.engine, writes)
    with commits.deferred() as pending:
        for i in range(20):
            store.add(record(ids, f"q-{i}"))
    writes.close()
    assert all(f.done() and f.exception() is None for f in pending)
    assert token_count(svc.engine) == 20
