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
from collections.abc import Callable, Iterator
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


def _introspect(live: LiveServer, token: str) -> tuple[int, bool]:
    with live.http() as c:
        answer = c.post("/services/oauth2/introspect", data={
            "token": token, "client_id": live.consumer_key,
            "client_secret": live.consumer_secret})
        return answer.status_code, answer.json().get("active") is True


def _query(live: LiveServer, token: str) -> int:
    with live.http() as c:
        return c.get(f"{API}/query", headers={"Authorization": f"Bearer {token}"},
                     params={"q": "SELECT Id, Name FROM Account LIMIT 5"}).status_code


def _grant(live: LiveServer) -> int:
    with live.http() as c:
        return c.post("/services/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": live.consumer_key,
            "client_secret": live.consumer_secret}).status_code


def _database_url(live: LiveServer, request: pytest.FixtureRequest) -> str | None:
    return (request.getfixturevalue("pg_database")
            if live.backend == "postgres" else None)  # type: ignore[attr-defined]


def reads_answer_while_waiting(live: LiveServer, token: str, lock: HeldLock,
                               wait: Callable[[int], int], answered: int) -> None:
    """Four ``wait`` calls reach the server and wait for ``lock``; meanwhile 100
    introspections and 20 queries answer within ``BOUND_S``; once it is released the four
    answer ``answered``."""
    released = False
    try:
        with ThreadPoolExecutor(4) as waiting, ThreadPoolExecutor(16) as readers:
            calls = [waiting.submit(wait, n) for n in range(4)]
            time.sleep(1.0)  # the calls reach the server and wait for the lock
            started = time.monotonic()
            introspections = list(readers.map(lambda _: _introspect(live, token), range(100),
                                              timeout=BOUND_S))
            queries = list(readers.map(lambda _: _query(live, token), range(20),
                                       timeout=BOUND_S))
            elapsed = time.monotonic() - started
            # The lock was held throughout: no waiting call could finish.
            assert not any(c.done() for c in calls), [c.result() for c in calls if c.done()]
            assert introspections == [(200, True)] * 100
            assert queries == [200] * 20
            assert elapsed < BOUND_S
            lock.release()
            released = True
            assert [c.result(timeout=30) for c in calls] == [answered] * 4
    finally:
        if not released:
            lock.release()


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

    def update(n: int) -> int:
        with live.http() as c:
            return c.patch(account, headers=bearer, json={"Name": f"Held Lock {n}"}).status_code

    lock = HeldLock(live, _database_url(live, request))
    reads_answer_while_waiting(live, token, lock, update, 204)


def test_grants_waiting_for_their_commit_do_not_stall_reads(
        server: LiveServer, request: pytest.FixtureRequest) -> None:
    """The grants' rows are written on the event loop (storage/sql/group_commit.py): on SQLite
    the loop finds the lock taken and the thread waits for it; on PostgreSQL the loop's own
    COPY waits for the token table, held by another transaction, while the loop serves the
    introspections and queries."""
    live = server
    token = _token(live)
    for _ in range(3):  # the caches warm: the grants below wait only for their commit
        assert _grant(live) == 200 and _introspect(live, token) == (200, True)
        assert _query(live, token) == 200
    lock = HeldLock(live, _database_url(live, request), "LOCK TABLE tokens IN EXCLUSIVE MODE")
    reads_answer_while_waiting(live, token, lock, lambda _: _grant(live), 200)
