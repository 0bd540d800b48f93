"""Group commit on the event loop (storage/sql/group_commit.py, "On the event loop"), SQLite:
the rows of a request answered on the loop are written by the loop in one transaction that never
waits; when it would (the other worker's writer, SQLite's lock held), the loop tries again a
moment later, for up to ``LOOP_WAIT_BUDGET_SECONDS``; after that, or when a row fails, the thread
writes them; either way nobody is answered before their row is committed, and the WAL the
loop's connection writes is checkpointed."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import make_settings
from tests.storage.test_group_commit import token_count
from tests.storage.test_oauth_store import record

from localforce import commits
from localforce.bootstrap import Services, build
from localforce.storage.sql import group_commit
from localforce.storage.sql.engine import WriterLock, writer_lock
from localforce.storage.sql.oauth_store import SqlTokenStore


@pytest.fixture
def svc(home: Path) -> Iterator[Services]:
    # SQLite only: the only store whose rows are written on the loop (tests/storage/conftest.py's
    # ``ids`` takes this ``svc``).
    services = build(make_settings(home))
    yield services
    services.close()


def database(svc: Services) -> str:
    path = svc.engine.url.database
    assert path
    return path


async def request(store: SqlTokenStore, ids: tuple[str, str, str], digests: list[str],
                  seen: dict[str, int]) -> None:
    """What the lean dispatcher does: rows appended on the loop inside ``deferred()``, the
    answer only after ``settle``; ``seen`` records how many tokens were committed before."""
    with commits.deferred() as pending:
        for digest in digests:
            store.add(record(ids, digest))
        seen["pending"] = len(pending)
        await commits.settle(pending)


def held_on_a_thread(lock: WriterLock, until: threading.Event, at_most: float
                     ) -> threading.Thread:
    """A thread that has taken ``lock`` (``release`` on the thread that took it) and holds it
    until ``until`` is set or ``at_most`` seconds have passed."""
    taken = threading.Event()

    def hold() -> None:
        with lock.held():
            taken.set()
            until.wait(at_most)

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(5)
    return holder


def test_rows_appended_on_the_loop_are_committed_by_the_loop_in_one_transaction(
        svc: Services, ids: tuple[str, str, str]) -> None:
    store = SqlTokenStore(svc.engine, svc.writes)
    seen: dict[str, int] = {}

    async def three_requests() -> None:
        await asyncio.gather(*(request(store, ids, [f"r{i}"], seen) for i in range(3)))

    asyncio.run(three_requests())
    assert token_count(svc.engine) == 3
    assert svc.writes._loop_commits == 1  # noqa: SLF001 - one transaction for the three
    assert svc.writes._thread is None  # noqa: SLF001 - the thread was never needed


def test_not_answered_before_the_loop_commits(svc: Services,
                                              ids: tuple[str, str, str]) -> None:
    store = SqlTokenStore(svc.engine, svc.writes)

    async def main() -> None:
        with commits.deferred() as pending:
            store.add(record(ids, "later"))
            assert len(pending) == 1 and not pending[0].done()
            assert token_count(svc.engine) == 0  # written after this pass of the loop
            await commits.settle(pending)
        assert token_count(svc.engine) == 1

    asyncio.run(main())


def test_the_other_workers_writer_holding_the_lock_sends_the_rows_to_the_thread(
        svc: Services, ids: tuple[str, str, str]) -> None:
    other = writer_lock(svc.engine)  # another process's writer, committing for 0.3 s
    assert isinstance(other, WriterLock)
    committing = held_on_a_thread(other, threading.Event(), 0.3)
    store = SqlTokenStore(svc.engine, svc.writes)
    asyncio.run(request(store, ids, ["held-1", "held-2"], {}))  # answered once released
    committing.join()
    assert token_count(svc.engine) == 2
    assert svc.writes._loop_commits == 0  # noqa: SLF001 - the thread waited for the lock


def test_the_other_workers_brief_commit_is_waited_for_on_the_loop(
        svc: Services, ids: tuple[str, str, str]) -> None:
    other = writer_lock(svc.engine)  # another process's writer, committing for 3 ms
    assert isinstance(other, WriterLock)
    store = SqlTokenStore(svc.engine, svc.writes)

    async def main() -> None:
        assert other.try_take()
        asyncio.get_running_loop().call_later(0.003, other.release)
        first = asyncio.ensure_future(request(store, ids, ["wait-1"], {}))
        await asyncio.sleep(0.001)  # a second request's row arrives while the first waits
        await asyncio.gather(first, request(store, ids, ["wait-2"], {}))

    asyncio.run(main())
    assert token_count(svc.engine) == 2
    assert svc.writes._loop_commits == 1  # noqa: SLF001 - both rows, once the lock was free
    assert svc.writes._thread is None  # noqa: SLF001


def test_a_checkpoint_long_hold_is_waited_for_on_the_loop_not_by_the_thread(
        svc: Services, ids: tuple[str, str, str]) -> None:
    # The other worker's WAL checkpoint holds the lock for milliseconds (bench/README.md; 80
    # here, more than measured): longer than the loop once tried (50 tries 0.2 ms apart)
    # before handing the rows to its thread.
    other = writer_lock(svc.engine)
    assert isinstance(other, WriterLock)
    store = SqlTokenStore(svc.engine, svc.writes)

    async def main() -> None:
        assert other.try_take()
        asyncio.get_running_loop().call_later(0.08, other.release)
        await request(store, ids, ["checkpointed"], {})

    asyncio.run(main())
    assert token_count(svc.engine) == 1
    assert svc.writes._loop_commits == 1  # noqa: SLF001
    assert svc.writes._thread is None  # noqa: SLF001


def test_the_writer_lock_excludes_the_threads_of_one_process(home: Path) -> None:
    # The loop and the writer thread of one worker share one WriterLock: flock on a shared
    # descriptor let each "take" it while the other held it.
    home.mkdir(parents=True, exist_ok=True)
    lock = WriterLock(home / "db.writer-lock")
    done = threading.Event()
    holder = held_on_a_thread(lock, done, 5)
    try:
        assert not lock.try_take()  # this thread: refused while the other holds it
    finally:
        done.set()
        holder.join()
    assert lock.try_take()  # free once the holder released it
    lock.release()
    lock.close()


def test_sqlites_lock_held_sends_the_rows_to_the_thread_without_stalling_the_loop(
        svc: Services, ids: tuple[str, str, str]) -> None:
    holder = sqlite3.connect(database(svc), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # an in-place writer of this worker, say
    store = SqlTokenStore(svc.engine, svc.writes)
    ticks: list[int] = []

    async def main() -> None:
        waiting = asyncio.ensure_future(request(store, ids, ["busy"], {}))
        for i in range(20):  # the loop keeps running while the thread waits for SQLite
            await asyncio.sleep(0.01)
            ticks.append(i)
        assert not waiting.done() and token_count(svc.engine) == 0
        holder.execute("COMMIT")
        await waiting

    asyncio.run(main())
    holder.close()
    assert ticks == list(range(20))
    assert token_count(svc.engine) == 1
    assert svc.writes._loop_commits == 0  # noqa: SLF001


def test_a_bad_row_fails_only_its_own_request(svc: Services, ids: tuple[str, str, str]) -> None:
    store = SqlTokenStore(svc.engine, svc.writes)
    store.add(record(ids, "taken"))

    async def main() -> list[BaseException | None]:
        results = await asyncio.gather(
            request(store, ids, ["good-1"], {}), request(store, ids, ["taken"], {}),
            request(store, ids, ["good-2"], {}), return_exceptions=True)
        return [r if isinstance(r, BaseException) else None for r in results]

    good_1, duplicate, good_2 = asyncio.run(main())
    assert good_1 is None and good_2 is None
    assert duplicate is not None and "unique" in str(duplicate).lower()
    assert token_count(svc.engine) == 3


def test_outside_a_request_or_off_the_loop_the_thread_writes(
        svc: Services, ids: tuple[str, str, str]) -> None:
    store = SqlTokenStore(svc.engine, svc.writes)

    async def not_deferred() -> None:
        await asyncio.to_thread(store.add, record(ids, "from-a-thread"))

    asyncio.run(not_deferred())
    store.add(record(ids, "no-loop"))
    assert token_count(svc.engine) == 2
    # Nothing was written on the loop: by SQLite's connection, or PostgreSQL's (its tests
    # import this one, tests/storage/test_group_commit_postgres_loop.py).
    assert svc.writes._loop_commits == 0  # noqa: SLF001
    assert svc.writes._postgres_connections == {}  # noqa: SLF001


def test_the_loops_wal_is_checkpointed(svc: Services, ids: tuple[str, str, str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(group_commit, "CHECKPOINT_EVERY", 10)
    store = SqlTokenStore(svc.engine, svc.writes)
    wal = Path(database(svc) + "-wal")
    with sqlite3.connect(database(svc), isolation_level=None) as setup:  # empty after set-up
        setup.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    assert wal.stat().st_size == 0

    async def many() -> None:
        for i in range(600):  # one commit each: ~5 pages of WAL apiece
            await request(store, ids, [f"w{i}"], {})
            await asyncio.sleep(0.001)  # as a server's loop waits for the network

    asyncio.run(many())
    assert token_count(svc.engine) == 600
    assert svc.writes._loop_commits > 0  # noqa: SLF001
    # Without checkpoints the WAL holds every commit's pages (~600 x 5 x 4 KiB, 12 MiB); with
    # one every 10 commits it is written again from its start.
    assert wal.stat().st_size < 2 * 1024 * 1024

