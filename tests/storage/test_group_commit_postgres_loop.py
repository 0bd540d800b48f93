"""Group commit on the event loop, PostgreSQL (storage/sql/group_commit.py
``_flush_to_postgres``): the rows of requests answered on the loop are written by the loop, on
an asynchronous connection of its own, in one transaction per batch; nobody is answered before
their row is committed; a bad row or a lost connection sends the batch to the thread, which
writes it row by row, and the next batch is the loop's again (on a new connection only if the
old one was lost)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.conftest import make_settings
from tests.storage.test_group_commit import token_count
from tests.storage.test_group_commit_loop import (  # the same tests, on PostgreSQL
    request,
    test_a_bad_row_fails_only_its_own_request,  # noqa: F401
    test_outside_a_request_or_off_the_loop_the_thread_writes,  # noqa: F401
)
from tests.storage.test_oauth_store import NOW, record

from localforce import commits
from localforce.bootstrap import Services, build
from localforce.storage.sql.group_commit import _json_rows, _NeedsConversion
from localforce.storage.sql.oauth_store import SqlTokenStore

pytestmark = pytest.mark.postgres


@pytest.fixture
def svc(pg_database: str, home: Path) -> Iterator[Services]:
    from tests.conftest import _reset_postgres

    _reset_postgres(pg_database)
    services = build(make_settings(home, pg_database))
    yield services
    services.close()


def test_rows_appended_on_the_loop_are_committed_by_the_loop(
        svc: Services, ids: tuple[str, str, str]) -> None:
    store = SqlTokenStore(svc.engine, svc.writes)
    seen: dict[str, int] = {}

    async def main() -> None:
        with commits.deferred() as pending:
            store.add(record(ids, "later"))
            assert len(pending) == 1 and not pending[0].done()
            await commits.settle(pending)
            assert token_count(svc.engine) == 1  # committed before the answer
        await asyncio.gather(*(request(store, ids, [f"r{i}"], seen) for i in range(3)))

    asyncio.run(main())
    assert token_count(svc.engine) == 4
    assert svc.writes._thread is None  # noqa: SLF001 - the thread was never needed


def test_a_lost_connection_sends_the_batch_to_the_thread_and_the_next_opens_a_new_one(
        svc: Services, ids: tuple[str, str, str]) -> None:
    store = SqlTokenStore(svc.engine, svc.writes)

    async def main() -> None:
        await request(store, ids, ["before"], {})
        (held,) = svc.writes._postgres_connections.values()  # noqa: SLF001
        with svc.engine.begin() as c:  # the server drops the loop's connection (a restart)
            c.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": held.info.backend_pid})
        await request(store, ids, ["lost"], {})  # written by the thread, answered after it
        assert svc.writes._thread is not None  # noqa: SLF001
        await request(store, ids, ["after"], {})
        (again,) = svc.writes._postgres_connections.values()  # noqa: SLF001
        assert again is not held and not again.closed

    asyncio.run(main())
    assert token_count(svc.engine) == 3


def test_a_bad_row_leaves_the_loops_connection_in_use(
        svc: Services, ids: tuple[str, str, str]) -> None:
    store = SqlTokenStore(svc.engine, svc.writes)
    store.add(record(ids, "taken"))

    async def main() -> None:
        await request(store, ids, ["first"], {})
        (held,) = svc.writes._postgres_connections.values()  # noqa: SLF001
        with pytest.raises(Exception, match="(?i)unique"):
            await request(store, ids, ["taken"], {})
        await request(store, ids, ["next"], {})
        assert list(svc.writes._postgres_connections.values()) == [held]  # noqa: SLF001

    asyncio.run(main())
    assert token_count(svc.engine) == 3


def test_close_closes_the_loops_connection(svc: Services, ids: tuple[str, str, str]) -> None:
    asyncio.run(request(SqlTokenStore(svc.engine, svc.writes), ids, ["one"], {}))
    (held,) = svc.writes._postgres_connections.values()  # noqa: SLF001
    svc.writes.close()
    assert held.closed


def test_values_reach_the_table_as_given(svc: Services, ids: tuple[str, str, str]) -> None:
    """The loop sends a batch's rows as one JSON document: quotes, backslashes, JSON's and
    SQL's own characters and non-ASCII text arrive as they were, and run as nothing."""
    store = SqlTokenStore(svc.engine, svc.writes)
    tricky = 'it\'s "q" \\ \\" \\u0041 %s %(x)s $1 ;\'); DROP TABLE oauth_tokens; -- é日本\n\t'
    given = [record(ids, "plain"),
             record(ids, "tricky", family=tricky[:32], idle_timeout=2**31 - 1,
                    parent_digest=tricky[:64], jkt=tricky[-43:], act=tricky)]

    async def main() -> None:
        with commits.deferred() as pending:
            for token in given:
                store.add(token)
            await commits.settle(pending)

    asyncio.run(main())
    assert [store.find(token.digest) for token in given] == given
    assert svc.writes._thread is None  # noqa: SLF001 - the loop wrote them, not the thread


@pytest.mark.parametrize("value", [float("nan"), float("inf"), b"\x00bytes", 2**64, ["a"]])
def test_a_value_json_would_not_carry_as_it_is_goes_to_the_thread(value: object) -> None:
    with pytest.raises(_NeedsConversion):
        _json_rows((("v", "v"),), [{"v": "fine"}, {"v": value}])


def test_a_batch_with_an_update_is_written_by_the_loop_in_one_transaction(
        svc: Services, ids: tuple[str, str, str]) -> None:
    """An UPDATE has no one-statement form: the batch is written with COPY and executemany,
    still by the loop, in a transaction of its own."""
    store = SqlTokenStore(svc.engine, svc.writes)

    async def main() -> None:
        await request(store, ids, ["old"], {})
        with commits.deferred() as pending:
            store.add(record(ids, "new"))
            store.touch("old", NOW + 50)
            await commits.settle(pending)

    asyncio.run(main())
    assert store.find("new") == record(ids, "new")
    assert store.find("old").last_used_at == NOW + 50  # type: ignore[union-attr]
    assert svc.writes._thread is None  # noqa: SLF001
