"""A held write lock stalls only the calls that write in place (issue #18).

Another process holds SQLite's write lock (or, on PostgreSQL, a lock on the Account rows)
while a real ``localforce serve`` takes record updates, which must wait for it, and 100
introspections and 20 queries, which must not: on SQLite those run on the event loop and
never ask for the lock (commits.py, "calls made on the event loop"); on both, the waiting
writers sit on the write threads (web/threads.py), never on the ones reads use. Before
this, the two request threads waited in SQLite's busy handler behind the updates and every
other call of the worker queued behind them until the lock was released.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from tests.clients.server import LiveServer, stop_server
from tests.conftest import _reset_postgres
from tests.policies.servers import start

API = "/services/data/v62.0"
#: Less than the updates wait for the lock (SQLite's busy timeout: 30 s, from before the
#: reads start), and far more than 120 calls need even on a loaded machine (about 2 s alone;
#: on main, where they queued behind the updates, they took the whole 30 s).
BOUND_S = 20.0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    settings = {}
    if request.param == "postgres":
        settings["database_url"] = request.getfixturevalue("pg_database")
        _reset_postgres(settings["database_url"])
    live = start(tmp_path / "server", tmp_path / "root" / "home", **settings)
    live.backend = request.param  # type: ignore[attr-defined]
    yield live
    stop_server(live)


def _token(live: LiveServer) -> str:
    with live.http() as client:
        answer = client.post("/services/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": live.consumer_key,
            "client_secret": live.consumer_secret})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


class HeldLock:
    """SQLite's write lock (``BEGIN IMMEDIATE``) or, on PostgreSQL, every Account row locked
    (``SELECT … FOR UPDATE``; or ``lock``, another statement), held by another connection until
    ``release``."""

    def __init__(self, live: LiveServer, database_url: str | None,
                 lock: str = "SELECT 1 FROM sobject_account FOR UPDATE") -> None:
        if database_url is None:
            self._sqlite = sqlite3.connect(live.home / "localforce.db", isolation_level=None)
            self._sqlite.execute("BEGIN IMMEDIATE")
        else:
            self._engine = create_engine(database_url.replace("postgresql://",
                                                              "postgresql+psycopg://", 1))
            self._pg = self._engine.connect()
            self._pg.execute(text(lock))
        self._database_url = database_url

    def release(self) -> None:
        if self._database_url is None:
            self._sqlite.execute("ROLLBACK")
            self._sqlite.close()
        else:
            self._pg.rollback()
            self._pg.close()
            self._engine.dispose()


def test_reads_answer_while_writers_wait_for_a_held_lock(
        server: LiveServer, request: pytest.FixtureRequest) -> None:
    live = server
    token = _token(live)
    bearer = {"Authorization": f"Bearer {token}"}
    with live.http() as client:
        created = client.post(f"{API}/sobjects/Account", headers=bearer,
                              json={"Name": "Held Lock Co"})
        assert created.status_code == 201, created.text
    account = f"{API}/sobjects/Account/{created.json()['id']}"
    database_url = (request.getfixturevalue("pg_database")
                    if live.backend == "postgres" else None)  # type: ignore[attr-defined]

    def update(n: int) -> int:
        with live.http() as c:
            return c.patch(account, headers=bearer, json={"Name": f"Held Lock {n}"}).status_code

    def introspect(_: int) -> tuple[int, bool]:
        with live.http() as c:
            answer = c.post("/services/oauth2/introspect", data={
                "token": token, "client_id": live.consumer_key,
                "client_secret": live.consumer_secret})
            return answer.status_code, answer.json().get("active") is True

    def query(_: int) -> int:
        with live.http() as c:
            return c.get(f"{API}/query", headers=bearer,
                         params={"q": "SELECT Id, Name FROM Account LIMIT 5"}).status_code

    lock = HeldLock(live, database_url)
    released = False
    try:
        with ThreadPoolExecutor(4) as writers, ThreadPoolExecutor(16) as readers:
            updates = [writers.submit(update, n) for n in range(4)]
            time.sleep(1.0)  # the updates reach the server and wait for the lock
            started = time.monotonic()
            introspections = list(readers.map(introspect, range(100), timeout=BOUND_S))
            queries = list(readers.map(query, range(20), timeout=BOUND_S))
            elapsed = time.monotonic() - started
            # The lock was held throughout: no update could finish.
            assert not any(u.done() for u in updates), [u.result() for u in updates if u.done()]
            assert introspections == [(200, True)] * 100
            assert queries == [200] * 20
            assert elapsed < BOUND_S
            lock.release()
            released = True
            assert [u.result(timeout=30) for u in updates] == [204] * 4
    finally:
        if not released:
            lock.release()


def test_grants_waiting_for_their_commit_do_not_stall_reads(
        server: LiveServer, request: pytest.FixtureRequest) -> None:
    """The grants' rows are written on the event loop (storage/sql/group_commit.py): on SQLite
    the loop finds the lock taken and the thread waits for it; on PostgreSQL the loop's own
    COPY waits for the token table, held by another transaction, while the loop serves the
    introspections and queries."""
    live = server
    token = _token(live)
    bearer = {"Authorization": f"Bearer {token}"}
    database_url = (request.getfixturevalue("pg_database")
                    if live.backend == "postgres" else None)  # type: ignore[attr-defined]

    def grant(_: int) -> int:
        with live.http() as c:
            return c.post("/services/oauth2/token", data={
                "grant_type": "client_credentials", "client_id": live.consumer_key,
                "client_secret": live.consumer_secret}).status_code

    def introspect(_: int) -> tuple[int, bool]:
        with live.http() as c:
            answer = c.post("/services/oauth2/introspect", data={
                "token": token, "client_id": live.consumer_key,
                "client_secret": live.consumer_secret})
            return answer.status_code, answer.json().get("active") is True

    def query(_: int) -> int:
        with live.http() as c:
            return c.get(f"{API}/query", headers=bearer,
                         params={"q": "SELECT Id, Name FROM Account LIMIT 5"}).status_code

    for _ in range(3):  # the caches warm: the grants below wait only for their commit
        assert grant(0) == 200 and introspect(0) == (200, True) and query(0) == 200
    lock = HeldLock(live, database_url, "LOCK TABLE tokens IN EXCLUSIVE MODE")
    released = False
    try:
        with ThreadPoolExecutor(4) as granting, ThreadPoolExecutor(16) as readers:
            grants = [granting.submit(grant, n) for n in range(4)]
            time.sleep(1.0)  # the grants reach the server and wait for their commit
            started = time.monotonic()
            introspections = list(readers.map(introspect, range(100), timeout=BOUND_S))
            queries = list(readers.map(query, range(20), timeout=BOUND_S))
            elapsed = time.monotonic() - started
            assert not any(g.done() for g in grants), [g.result() for g in grants if g.done()]
            assert introspections == [(200, True)] * 100
            assert queries == [200] * 20
            assert elapsed < BOUND_S
            lock.release()
            released = True
            assert [g.result(timeout=30) for g in grants] == [200] * 4
    finally:
        if not released:
            lock.release()
