"""Calls on the event loop (localforce/commits.py, web/threads.py ``on_loop``), on SQLite: a
call that would wait or run long is moved to a thread before anything it did is written, and
the rows it handed to the group-commit writer are written exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.conftest import make_settings
from tests.storage.test_group_commit import token_count
from tests.storage.test_oauth_store import record

from localforce import commits
from localforce.bootstrap import Services, build
from localforce.storage.sql.engine import reader
from localforce.storage.sql.oauth_store import SqlTokenStore
from localforce.web import threads

#: A statement that runs for far longer than the budget (about a second on these machines).
SLOW = text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) "
            "SELECT count(*) FROM n")


@pytest.fixture
def svc(home: Path):  # type: ignore[no-untyped-def]
    # SQLite only: the only store whose reads run on the loop (tests/storage/conftest.py's
    # ``ids`` takes this ``svc``).
    services = build(make_settings(home))
    yield services
    services.close()


def test_sqlite_reads_run_on_the_loop(svc: Services) -> None:
    assert svc.reads_never_wait


def test_a_call_that_only_reads_and_appends_completes_on_the_loop(
        svc: Services, ids: tuple[str, str, str]) -> None:
    store = SqlTokenStore(svc.engine, svc.writes)

    def grant() -> str:
        store.add(record(ids, "on-loop"))
        assert token_count(svc.engine) == 0  # held until the call has finished
        return "issued"

    assert commits.attempt(grant) == (True, "issued")
    assert token_count(svc.engine) == 1


def test_a_call_that_would_wait_is_run_again_on_a_thread_and_writes_once(
        svc: Services, ids: tuple[str, str, str]) -> None:
    store = SqlTokenStore(svc.engine, svc.writes)
    runs: list[str] = []

    def grant_then_update() -> str:
        runs.append("run")
        store.add(record(ids, "once"))
        store.revoke("once-other", 1)  # an in-place UPDATE: BEGIN IMMEDIATE may wait
        return "done"

    assert commits.attempt(grant_then_update) == (False, None)
    assert token_count(svc.engine) == 0  # the held row was dropped with the attempt
    assert asyncio.run(threads.on_loop(True, grant_then_update)) == "done"
    assert runs == ["run", "run", "run"]  # the attempt, the second attempt, the thread
    assert token_count(svc.engine) == 1


def test_a_refused_call_on_the_loop_still_writes_what_it_recorded(
        svc: Services, ids: tuple[str, str, str]) -> None:
    store = SqlTokenStore(svc.engine, svc.writes)

    def refused() -> None:
        store.add(record(ids, "history"))  # e.g. the LoginHistory row of a refused login
        raise PermissionError("refused")

    with pytest.raises(PermissionError):
        commits.attempt(refused)
    assert token_count(svc.engine) == 1


def test_a_long_statement_is_interrupted_on_the_loop_and_finishes_on_a_thread(
        svc: Services) -> None:
    def count() -> int:
        with reader(svc.engine).connect() as c:  # a read: never asks for the write lock
            return int(c.execute(SLOW).scalar_one())

    assert commits.attempt(count) == (False, None)
    assert asyncio.run(threads.on_loop(True, count)) == 3_000_000
    assert count() == 3_000_000  # off the loop nothing is interrupted
