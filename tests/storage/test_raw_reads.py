"""One-statement reads straight through the DBAPI on SQLite (storage/sql/raw_reads.py): the
same rows as SQLAlchemy's, with each column type's conversions; a driver error raised as
SQLAlchemy's; statements it cannot run left to the caller; connections closed on dispose."""

from __future__ import annotations

import datetime as dt
import decimal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    insert,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, OperationalError

from localforce.storage.sql import raw_reads
from localforce.storage.sql.engine import make_engine
from localforce.storage.sql.raw_reads import RawReads

meta = MetaData()
things = Table("things", meta, Column("id", Integer, primary_key=True), Column("name", String),
               Column("flag", Boolean), Column("at", DateTime), Column("amount", Numeric(10, 2)),
               Column("doc", JSON))


@pytest.fixture
def engine(database_url: str, home: Path) -> Iterator[Engine]:
    home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(database_url)
    meta.create_all(engine)
    with engine.begin() as c:
        c.execute(insert(things), [
            {"id": 1, "name": "one", "flag": True, "at": dt.datetime(2026, 12, 4, 10, 0, 1),
             "amount": decimal.Decimal("1.50"), "doc": {"a": [1, 2]}},
            {"id": 2, "name": "two", "flag": False, "at": None, "amount": None, "doc": None}])
    yield engine
    engine.dispose()


def through_sqlalchemy(engine: Engine, statement, params=None):  # type: ignore[no-untyped-def]
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(statement, params).all()]


@pytest.mark.parametrize(("statement", "params"), [
    (select(things).order_by(things.c.id), None),
    (select(things).where(things.c.name == bindparam("n")), {"n": "one"}),
    (select(things.c.at, things.c.flag).where(things.c.at > bindparam("since")),
     {"since": dt.datetime(2026, 1, 1)}),
    (select(things.c.amount.label("x")).where(things.c.flag.is_(False)), None),
    (select(things.c.id).limit(1).offset(1), None),
])
def test_the_same_rows_as_sqlalchemy(engine: Engine, statement, params) -> None:  # type: ignore[no-untyped-def]
    reads = RawReads.for_engine(engine)
    assert reads is not None
    assert reads.rows(statement, params) == through_sqlalchemy(engine, statement, params)
    assert reads.rows(statement, params) == through_sqlalchemy(engine, statement, params)


def test_mappings_by_column_key(engine: Engine) -> None:
    reads = RawReads.for_engine(engine)
    assert reads is not None
    found = reads.mappings(select(things.c.id, things.c.name.label("label"))
                           .where(things.c.id == bindparam("i")), {"i": 2})
    assert found == [{"id": 2, "label": "two"}]


def test_an_expanding_parameter_is_left_to_the_caller(engine: Engine) -> None:
    reads = RawReads.for_engine(engine)
    assert reads is not None
    statement = select(things.c.id).where(things.c.id.in_(bindparam("ids", expanding=True)))
    assert reads.rows(statement, {"ids": [1, 2]}) is None


def test_a_driver_error_is_sqlalchemys(engine: Engine) -> None:
    reads = RawReads.for_engine(engine)
    assert reads is not None
    with pytest.raises(DBAPIError, match="no such column|does not exist"):
        reads.rows(select(text("nope")).select_from(things))


def test_one_cursor_per_thread_reads_on_after_a_statement_failed(engine: Engine) -> None:
    """The thread's cursor is kept from read to read; a statement the database refuses (not
    a lost connection) leaves it reading."""
    reads = RawReads.for_engine(engine)
    assert reads is not None
    statement = select(things.c.name).where(things.c.id == bindparam("i"))
    assert reads.rows(statement, {"i": 1}) == [("one",)]
    cursor = reads._local.cursor  # noqa: SLF001
    with pytest.raises(DBAPIError):  # a value the driver cannot send
        reads.rows(statement, {"i": {"not": "an id"}})
    assert reads.rows(statement, {"i": 2}) == [("two",)]
    assert reads.rows(select(things.c.id).order_by(things.c.id)) == [(1,), (2,)]
    assert reads._local.cursor is cursor  # noqa: SLF001


def test_after_a_large_result_the_thread_reads_on_a_new_cursor(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cursor that read more than ``LARGE_RESULT`` rows is closed (psycopg's would hold
    them until its next read) and the thread's next read has a new one."""
    monkeypatch.setattr(raw_reads, "LARGE_RESULT", 1)
    reads = RawReads.for_engine(engine)
    assert reads is not None
    one = select(things.c.name).where(things.c.id == bindparam("i"))
    assert reads.rows(one, {"i": 1}) == [("one",)]
    small = reads._local.cursor  # noqa: SLF001
    assert reads.rows(select(things.c.id).order_by(things.c.id)) == [(1,), (2,)]
    assert reads._local.cursor is not small  # noqa: SLF001
    with pytest.raises(engine.dialect.loaded_dbapi.Error):  # closed
        small.execute("SELECT 1")
    assert reads.rows(one, {"i": 2}) == [("two",)]


def test_not_for_an_in_memory_database() -> None:
    assert RawReads.for_engine(make_engine("sqlite://")) is None


def test_a_failed_connection_is_dropped_and_the_next_read_reconnects(engine: Engine) -> None:
    reads = RawReads.for_engine(engine)
    assert reads is not None
    statement = select(things.c.id).order_by(things.c.id)
    assert reads.rows(statement) == [(1,), (2,)]
    if engine.dialect.name == "postgresql":  # the server ends the reader's session
        pid = reads._local.connection.info.backend_pid  # noqa: SLF001
        with engine.connect() as c:
            c.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
        with pytest.raises(OperationalError):
            reads.rows(statement)
    assert reads.rows(statement) == [(1,), (2,)]


def test_one_connection_per_thread_closed_when_the_engine_is_disposed(engine: Engine) -> None:
    reads = RawReads.for_engine(engine)
    assert reads is not None
    statement = select(things.c.id).order_by(things.c.id)
    reads.rows(statement)
    other = threading.Thread(target=reads.rows, args=(statement,))
    other.start()
    other.join()
    opened = list(reads._opened)  # noqa: SLF001
    assert len(opened) == 2
    engine.dispose()
    for connection in opened:
        with pytest.raises(Exception, match="closed"):
            connection.execute("SELECT 1")
    assert reads.rows(statement) == [(1,), (2,)]  # a new one after the dispose



@pytest.mark.postgres
def test_a_server_that_cannot_be_reached_is_sqlalchemys_operational_error() -> None:
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/test")
    reads = RawReads.for_engine(engine)
    assert reads is not None
    with pytest.raises(OperationalError):  # what web/errors.py answers with a 503
        reads.rows(select(things.c.id))
    engine.dispose()
