"""Reads that are one statement run outside any transaction (``single_statement_reader``):
they still never wait for a writer, they leave the pooled connection as they found it, and
reads of more than one statement keep their transaction (and on SQLite, their snapshot)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from localforce.bootstrap import Services
from localforce.data.schema import ObjectDef
from localforce.domain.models import Access, ObjectPermissions
from localforce.domain.principal import Principal
from localforce.oauth.ports import ACCESS, TokenRecord
from localforce.storage.sql.engine import make_engine, reader, single_statement_reader
from localforce.storage.sql.oauth_store import SqlTokenStore
from localforce.storage.sql.record_store import SqlRecordStore

NOW = 1_790_000_000
FULL = Access(True, True, True, False, ObjectPermissions(), ())


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'reads.db'}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (x INTEGER)"))
        c.execute(text("INSERT INTO t VALUES (1)"))
    yield engine
    engine.dispose()


def test_sqlite_single_statement_reads_issue_no_transaction(engine: Engine) -> None:
    issued: list[str] = []
    with single_statement_reader(engine).connect() as c:
        c.connection.dbapi_connection.set_trace_callback(issued.append)  # type: ignore[union-attr]
        assert c.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
        c.commit()  # nothing open: SQLAlchemy's COMMIT reaches no statement either
        c.connection.dbapi_connection.set_trace_callback(None)  # type: ignore[union-attr]
    assert issued == ["SELECT count(*) FROM t"]


def test_sqlite_single_statement_read_does_not_wait_for_the_write_lock(engine: Engine) -> None:
    with engine.begin() as writer:
        writer.execute(text("INSERT INTO t VALUES (2)"))  # holds the write lock, uncommitted
        with single_statement_reader(engine).connect() as r:
            r.exec_driver_sql("PRAGMA busy_timeout=0")  # waiting would fail at once
            try:
                assert r.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
            finally:
                r.exec_driver_sql("PRAGMA busy_timeout=30000")


def test_sqlite_reader_of_two_statements_reads_one_snapshot(engine: Engine) -> None:
    """A write committed between a reader's statements is not seen by the second. (Only on
    SQLite: PostgreSQL runs ``reader`` transactions at READ COMMITTED, a snapshot per
    statement, as it did before single-statement reads.)"""
    with reader(engine).connect() as r:
        assert r.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
        with engine.begin() as writer:
            writer.execute(text("INSERT INTO t VALUES (2)"))
        assert r.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    with single_statement_reader(engine).connect() as r:
        assert r.execute(text("SELECT count(*) FROM t")).scalar_one() == 2


@pytest.fixture
def admin(svc: Services) -> Principal:
    org = svc.directory.create_org("Acme")
    user, _ = svc.directory.create_user(org.id, "admin@acme.test", None,
                                        "System Administrator", last_name="Admin")
    return Principal(org.id, user.id, user.username, None, None, ("api",), FULL, "")


def _token(principal: Principal, digest: str) -> TokenRecord:
    return TokenRecord(digest, ACCESS, principal.org_id, principal.user_id, None, ("api",),
                       "f1", "password", NOW, NOW)


def _account(svc: Services, principal: Principal) -> ObjectDef:
    obj = svc.data.records.object(principal, "Account")
    assert obj is not None
    return obj


def _single_statement_reads(svc: Services, admin: Principal, account_id: str) -> dict[str, Any]:
    """Each store's one-statement reads, answered."""
    records: SqlRecordStore = svc.data.records.store  # type: ignore[assignment]
    account = _account(svc, admin)
    name = account.field("Name")
    assert name is not None
    found = SqlTokenStore(svc.engine, svc.writes).find("a" * 64)
    return {
        "token": found.digest if found else None,
        "org": (org := svc.directory.store.get_org(admin.org_id)) and org.name,
        "apps": len(svc.directory.store.list_apps(admin.org_id)),
        "record": (records.get(account, admin.org_id, account_id, [name]) or {}).get("Name"),
        "find_ids": records.find_ids(account, admin.org_id, name, "acme"),
        "query": [r["Name"] for r in svc.data.queries.query(
            admin, "SELECT Name FROM Account", "62.0")["records"]],
    }


def test_single_statement_reads_do_not_wait_for_an_uncommitted_write(
        svc: Services, admin: Principal) -> None:
    """On SQLite a writer holds the write lock; these reads (``find_ids`` too, which used to
    read through a writer's connection) answer from the committed rows without waiting."""
    account_id = svc.data.records.create(admin, "Account", {"Name": "Acme"}).id
    SqlTokenStore(svc.engine, svc.writes).add(_token(admin, "a" * 64))
    committed = _single_statement_reads(svc, admin, account_id)
    assert committed["find_ids"] == [account_id] and committed["token"] == "a" * 64
    writer = svc.engine.connect()
    try:
        writer.execute(text("UPDATE sobject_account SET \"Name\" = 'Changed'"))
        writer.execute(text("DELETE FROM tokens"))
        assert _single_statement_reads(svc, admin, account_id) == committed
    finally:
        writer.rollback()
        writer.close()


def test_connections_go_back_to_the_pool_clean(svc: Services, admin: Principal) -> None:
    """No transaction left open, and on PostgreSQL autocommit switched off again."""
    account_id = svc.data.records.create(admin, "Account", {"Name": "Acme"}).id
    SqlTokenStore(svc.engine, svc.writes).add(_token(admin, "a" * 64))
    returned: list[tuple[bool, bool]] = []

    def checked_in(dbapi_connection: Any, _record: Any) -> None:
        if svc.engine.dialect.name == "sqlite":
            returned.append((dbapi_connection.in_transaction, False))
        else:
            status = dbapi_connection.info.transaction_status.name
            returned.append((status != "IDLE", dbapi_connection.autocommit))

    event.listen(svc.engine, "checkin", checked_in)
    try:
        _single_statement_reads(svc, admin, account_id)
    finally:
        event.remove(svc.engine, "checkin", checked_in)
    assert returned and set(returned) == {(False, False)}
