"""Reads by a call on the event loop (localforce/commits.py, "calls made on the event loop"),
on both databases. On SQLite a read never waits and runs there. On PostgreSQL a read is a
network round trip: a checkout from the pool (storage/sql/engine.py ``LoopGuardedPool``) or a
raw read raises ``WouldWait`` before anything, and the call runs again on a thread; what the
directory's caches answer stays on the loop (web/hotpath.py ``CACHED_GRANTS``). The data API's
calls (``apart``) have a raw read run apart instead, together with other calls', and finish on
the loop."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest
from sqlalchemy import Integer, bindparam, cast, select

from localforce import commits
from localforce.bootstrap import Services
from localforce.domain.models import Access, ObjectPermissions
from localforce.domain.principal import Principal
from localforce.storage.sql import tables as t
from localforce.storage.sql.engine import reader
from localforce.storage.sql.raw_reads import RawReads
from localforce.web import threads


def _postgres(svc: Services) -> bool:
    return svc.engine.dialect.name == "postgresql"


def test_a_checkout_from_the_pool(svc: Services, ids: tuple[str, str, str]) -> None:
    def read() -> str:
        with reader(svc.engine).connect() as c:
            return str(c.execute(select(t.orgs.c.name).where(t.orgs.c.id == ids[0]))
                       .scalar_one())

    expected = (False, None) if _postgres(svc) else (True, "Acme")
    assert commits.attempt(read) == expected
    assert svc.engine.pool.checkedout() == 0  # refused before the checkout: nothing held
    assert asyncio.run(threads.on_loop(True, read)) == "Acme"
    assert read() == "Acme"  # off the loop: as ever


def test_a_raw_read(svc: Services, ids: tuple[str, str, str]) -> None:
    raw = RawReads.for_engine(svc.engine)
    assert raw is not None
    statement = select(t.orgs.c.name).where(t.orgs.c.id == bindparam("org"))

    def read() -> list[tuple[str, ...]] | None:
        return raw.rows(statement, {"org": ids[0]})

    expected = (False, None) if _postgres(svc) else (True, [("Acme",)])
    assert commits.attempt(read) == expected
    assert asyncio.run(threads.on_loop(True, read)) == [("Acme",)]


def test_a_cached_read_stays_on_the_loop_and_a_change_is_read_again(
        svc: Services, ids: tuple[str, str, str]) -> None:
    store = svc.directory.store
    org = store.get_org(ids[0])
    assert org is not None
    assert commits.attempt(store.get_org, ids[0]) == (True, org)  # the cache's: no read
    store.save_org(replace(org, name="Renamed"))  # drops what this process cached
    done, found = commits.attempt(store.get_org, ids[0])
    if _postgres(svc):
        assert (done, found) == (False, None)  # never the stale name: a read, on a thread
    else:
        assert done and found is not None and found.name == "Renamed"
    renamed = asyncio.run(threads.on_loop(True, store.get_org, ids[0]))
    assert renamed is not None and renamed.name == "Renamed"
    assert commits.attempt(store.get_org, ids[0]) == (True, renamed)


def test_a_raw_read_is_run_apart_and_the_call_finishes_on_the_loop(
        svc: Services, ids: tuple[str, str, str]) -> None:
    """The data API's reads (``on_loop(..., apart=True)``): on PostgreSQL the read runs on a
    request thread and the call, tried again with its answer, finishes on the loop."""
    raw = RawReads.for_engine(svc.engine)
    assert raw is not None
    statement = select(t.orgs.c.name).where(t.orgs.c.id == bindparam("org"))
    where: list[bool] = []

    def read() -> list[tuple[str, ...]] | None:
        rows = raw.rows(statement, {"org": ids[0]})
        where.append(commits.on_loop())
        return rows

    assert asyncio.run(threads.on_loop(True, read, apart=True)) == [("Acme",)]
    assert where == [True]


def test_the_reads_of_calls_on_the_loop_share_round_trips(
        svc: Services, ids: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Many calls at once: each gets the rows of its own read, and the reads asked for while
    a batch is on its way go together in the next (one pipeline on PostgreSQL)."""
    if not _postgres(svc):
        pytest.skip("a SQLite read runs on the loop itself")
    raw = RawReads.for_engine(svc.engine)
    assert raw is not None
    statement = select(t.orgs.c.name, cast(bindparam("n"), Integer)) \
        .where(t.orgs.c.id == bindparam("org"))
    sizes: list[int] = []
    run_many = RawReads.run_many

    def counted(self: RawReads, reads: list[commits.Read]) -> list[object] | None:
        if not sizes:
            time.sleep(0.2)  # the first batch takes its time: the others ask meanwhile
        sizes.append(len(reads))
        return run_many(self, reads)

    monkeypatch.setattr(RawReads, "run_many", counted)

    async def main() -> list[object]:
        return list(await asyncio.gather(*(
            threads.on_loop(True, raw.rows, statement, {"org": ids[0], "n": n}, apart=True)
            for n in range(30))))

    assert asyncio.run(main()) == [[("Acme", n)] for n in range(30)]
    assert sum(sizes) == 30
    assert max(sizes) >= 10  # one read a batch would be thirty


def _admin(svc: Services) -> Principal:
    org = svc.directory.create_org("Acme")
    user, _ = svc.directory.create_user(org.id, "admin@acme.test", None,
                                        "System Administrator", last_name="Admin")
    return Principal(org.id, user.id, user.username, None, None, ("api",),
                     Access(True, True, True, False, ObjectPermissions(), ()), "")


def test_a_query_tried_again_after_its_read_works_its_plan_out_once(
        svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """``commits.kept``: on PostgreSQL a ``/query`` is tried twice on the loop (its page is
    read apart in between); the second attempt takes the plan the first resolved."""
    admin = _admin(svc)
    svc.data.records.create(admin, "Account", {"Name": "Planned"})
    queries = svc.data.queries
    plans: list[int] = []
    pages: list[int] = []
    plan, page = queries.plan, queries.store.page
    monkeypatch.setattr(queries, "plan", lambda *a: plans.append(1) or plan(*a))
    monkeypatch.setattr(queries.store, "page", lambda *a, **k: pages.append(1) or page(*a, **k))

    found = asyncio.run(threads.on_loop(True, queries.query, admin, "SELECT Name FROM Account",
                                        "60.0", apart=True))
    assert [r["Name"] for r in found["records"]] == ["Planned"]
    assert len(pages) == (2 if _postgres(svc) else 1)  # tried again after the read apart
    assert len(plans) == 1


def test_a_query_like_an_earlier_one_reads_its_page_first_and_sees_what_changed(
        svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """``on_loop``'s ``like`` (the data API: the same path, query and credentials): on
    PostgreSQL the page the last such ``/query`` read is read again before the call is tried,
    so the call finishes in one attempt; the read is made for this call, and sees a change
    made since."""
    admin = _admin(svc)
    record = svc.data.records.create(admin, "Account", {"Name": "Before"})
    queries = svc.data.queries
    pages: list[int] = []
    page = queries.store.page
    monkeypatch.setattr(queries.store, "page", lambda *a, **k: pages.append(1) or page(*a, **k))

    guesses = threads.Guesses()

    def names() -> list[str]:
        found = asyncio.run(threads.on_loop(True, queries.query, admin,
                                            "SELECT Name FROM Account", "60.0", apart=True,
                                            like=(guesses, "the same request")))
        return [r["Name"] for r in found["records"]]

    assert names() == ["Before"]
    svc.data.records.update(admin, "Account", record.id, {"Name": "After"})
    pages.clear()
    assert names() == ["After"]
    assert len(pages) == 1  # one attempt, with its page read already


def test_a_guess_made_for_another_caller_never_answers_this_one(svc: Services) -> None:
    """Two orgs' admins whose calls count as alike (as a hash collision of their requests
    would make them): the second call's guessed read is the first caller's page, but the
    second gets the rows of its own org only."""
    first = _admin(svc)
    org = svc.directory.create_org("Other")
    user, _ = svc.directory.create_user(org.id, "admin@other.test", None,
                                        "System Administrator", last_name="Admin")
    second = Principal(org.id, user.id, user.username, None, None, ("api",), first.access, "")
    svc.data.records.create(first, "Account", {"Name": "Acme's"})
    svc.data.records.create(second, "Account", {"Name": "Other's"})
    guesses = threads.Guesses()

    def names(who: Principal) -> list[str]:
        found = asyncio.run(threads.on_loop(True, svc.data.queries.query, who,
                                            "SELECT Name FROM Account", "60.0", apart=True,
                                            like=(guesses, "one kind for both")))
        return [r["Name"] for r in found["records"]]

    assert names(first) == ["Acme's"]
    assert names(second) == ["Other's"]
    assert names(first) == ["Acme's"]
