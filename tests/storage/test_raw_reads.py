"""One-statement reads straight through the DBAPI, on SQLite and on PostgreSQL's libpq handle
(storage/sql/raw_reads.py): the same rows as SQLAlchemy's, with each column type's conversions;
a driver error raised as SQLAlchemy's; statements it cannot run left to the caller; connections
closed on dispose."""

from __future__ import annotations

import datetime as dt
import decimal
import gc
import threading
import time
import weakref
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
    cast,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, OperationalError

from localforce import commits
from localforce.bootstrap import build
from localforce.settings import Settings
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
    # one parameter twice (one $n on PostgreSQL), a literal %, an integer past int2, a None
    (select(things.c.id).where((things.c.name == bindparam("n")) | (things.c.name > bindparam("n"))),
     {"n": "one"}),
    (select(things.c.id, literal_column("'50%'").label("pct")), None),
    (select(things.c.id).where(things.c.id < bindparam("i")), {"i": 40_000}),
    (select(things.c.id).where(things.c.at.is_distinct_from(bindparam("t"))), {"t": None}),
])
def test_the_same_rows_as_sqlalchemy(engine: Engine, statement, params) -> None:  # type: ignore[no-untyped-def]
    reads = RawReads.for_engine(engine)
    assert reads is not None
    assert reads.rows(statement, params) == through_sqlalchemy(engine, statement, params)
    assert reads.rows(statement, params) == through_sqlalchemy(engine, statement, params)


def test_each_value_of_the_type_sqlalchemy_gives_a_null_left_none(engine: Engine) -> None:
    """Only the columns the driver's types call for are converted (a boolean, a date-time on
    SQLite; ``True == 1``, so the types are compared too), the rest as read, a NULL never."""
    with engine.begin() as c:
        c.execute(insert(things), [{"id": 3, "name": "three", "flag": None, "at": None}])
    reads = RawReads.for_engine(engine)
    assert reads is not None
    statement = select(things.c.flag, things.c.id, things.c.at, things.c.name,
                       things.c.amount).order_by(things.c.id)
    want = through_sqlalchemy(engine, statement)
    assert [r[0] for r in want] == [True, False, None]
    for _ in range(2):  # the first run (the driver's types read) and the next
        rows = reads.rows(statement)
        assert rows == want
        assert [[type(v) for v in r] for r in rows] == [[type(v) for v in r] for r in want]


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


def test_one_connection_per_thread_reads_on_after_a_statement_failed(engine: Engine) -> None:
    """The thread's connection is kept from read to read; a statement the database refuses
    (not a lost connection) leaves it reading."""
    reads = RawReads.for_engine(engine)
    assert reads is not None
    statement = select(things.c.name).where(things.c.id == bindparam("i"))
    assert reads.rows(statement, {"i": 1}) == [("one",)]
    connection = reads._local.connection  # noqa: SLF001
    with pytest.raises(DBAPIError):  # a value the driver cannot send
        reads.rows(statement, {"i": {"not": "an id"}})
    assert reads.rows(statement, {"i": 2}) == [("two",)]
    assert reads.rows(select(things.c.id).order_by(things.c.id)) == [(1,), (2,)]
    assert reads._local.connection is connection  # noqa: SLF001


def test_postgresql_prepares_a_statement_once_per_thread_and_parameter_types(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each statement is prepared on the thread's connection the first time and run as that
    prepared statement after (an int2-sized and an int4-sized value are two, as in psycopg);
    past ``MAX_PLANS`` they are all deallocated and the reads go on."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's statements are its driver's to cache")
    reads = RawReads.for_engine(engine)
    assert reads is not None
    by_id = select(things.c.name).where(things.c.id == bindparam("i"))

    def prepared_by_id() -> int:  # on this thread's connection
        statements = reads.rows(select(literal_column("statement"))
                                .select_from(text("pg_prepared_statements"))) or []
        return sum(row[0].startswith("SELECT things.name") for row in statements)

    for _ in range(3):
        assert reads.rows(by_id, {"i": 1}) == [("one",)]
    assert prepared_by_id() == 1
    assert reads.rows(by_id, {"i": 40_000}) == []
    assert prepared_by_id() == 2
    monkeypatch.setattr(raw_reads, "MAX_PLANS", 2)
    assert reads.rows(select(things.c.id).order_by(things.c.id)) == [(1,), (2,)]
    assert prepared_by_id() == 0
    assert reads.rows(by_id, {"i": 2}) == [("two",)]


_STATEMENTS = [
    (select(things).order_by(things.c.id), None),
    (select(things).where(things.c.name == bindparam("n")), {"n": "one"}),
    (select(things.c.at, things.c.flag).where(things.c.at > bindparam("since")),
     {"since": dt.datetime(2026, 1, 1)}),
    (select(things.c.amount.label("x")).where(things.c.flag.is_(False)), None),
    (select(things.c.id).where(things.c.id < bindparam("i")), {"i": 40_000}),
    (select(things).where(things.c.name == bindparam("n")), {"n": "two"}),
]


def _wanted(reads: RawReads, statement, params) -> commits.Read:  # type: ignore[no-untyped-def]
    """The read a call on the event loop waits for (PostgreSQL: it is run apart)."""
    replay = commits.Replay()
    assert commits.attempt(reads.rows, statement, params, replay=replay) == (False, None)
    assert replay.wanted is not None
    return replay.wanted


def _answered(reads: RawReads, read: commits.Read, answer, statement, params):  # type: ignore[no-untyped-def]
    """The call tried again on the loop with the read's answer: what it reads."""
    replay = commits.Replay()
    replay.answers[read.key] = answer
    done, rows = commits.attempt(reads.rows, statement, params, replay=replay)
    assert done
    return rows


def test_postgresql_runs_reads_apart_in_one_round_trip_with_the_same_rows_as_sqlalchemy(
        engine: Engine) -> None:
    """Reads asked for by calls on the event loop run together in libpq's pipeline mode (on
    a thread, ``run_many``); each call, tried again with its answer, reads what SQLAlchemy
    reads: types converted as on a thread, the first run of a statement included."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a SQLite read runs on the loop itself")
    reads = RawReads.for_engine(engine)
    assert reads is not None
    wanted = [_wanted(reads, statement, params) for statement, params in _STATEMENTS]
    answers = reads.run_many(wanted)
    assert answers is not None and len(answers) == len(_STATEMENTS)
    for (statement, params), read, answer in zip(_STATEMENTS, wanted, answers, strict=True):
        assert _answered(reads, read, answer, statement, params) == \
            through_sqlalchemy(engine, statement, params)
    # and again, each statement prepared now: the same
    answers = reads.run_many(wanted)
    assert answers is not None
    for (statement, params), read, answer in zip(_STATEMENTS, wanted, answers, strict=True):
        assert _answered(reads, read, answer, statement, params) == \
            through_sqlalchemy(engine, statement, params)


def test_postgresql_reads_apart_that_fail_answer_none_and_the_thread_reads_on(
        engine: Engine) -> None:
    """A statement the server refuses in the middle of a pipeline: no answers (each call
    then reads on a thread and reports the error as ever), and the thread's next reads work,
    one by one and together."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a SQLite read runs on the loop itself")
    reads = RawReads.for_engine(engine)
    assert reads is not None
    by_name = select(things.c.id).where(things.c.name == bindparam("n"))
    refused = select(things.c.id).where(things.c.id == cast(bindparam("s"), Integer))
    good = _wanted(reads, by_name, {"n": "one"})
    assert reads.run_many([good, _wanted(reads, refused, {"s": "not a number"}), good]) is None
    assert reads.rows(by_name, {"n": "two"}) == [(2,)]
    answers = reads.run_many([good, _wanted(reads, by_name, {"n": "two"})])
    assert answers is not None
    assert _answered(reads, good, answers[0], by_name, {"n": "one"}) == [(1,)]


def test_not_for_an_in_memory_database() -> None:
    assert RawReads.for_engine(make_engine("sqlite://")) is None


def test_a_connection_the_server_ended_is_replaced_and_the_read_made_again(
        engine: Engine) -> None:
    """As a restart does (also to a connection opened while the server was going down): the
    read that finds the connection gone answers all the same, on a new one."""
    reads = RawReads.for_engine(engine)
    assert reads is not None
    statement = select(things.c.id).order_by(things.c.id)
    assert reads.rows(statement) == [(1,), (2,)]
    if engine.dialect.name == "postgresql":  # the server ends the reader's session
        pid = reads._local.connection.info.backend_pid  # noqa: SLF001
        with engine.connect() as c:
            c.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
        assert reads.rows(statement) == [(1,), (2,)]
        assert reads._local.connection.info.backend_pid != pid  # noqa: SLF001
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


def test_the_reader_does_not_keep_its_engine_alive(database_url: str, home: Path) -> None:
    """The readers are kept per engine, weakly: an engine nothing else holds goes, with its
    pool and its stores' tables (a strong reference from the reader kept every engine a test
    had made, and the suite's heap grew by each)."""
    home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(database_url)
    meta.create_all(engine)
    reads = RawReads.for_engine(engine)
    assert reads is not None
    assert reads.rows(select(things.c.id)) == []
    gone = weakref.ref(engine)
    engine.dispose()
    del engine, reads
    gc.collect()
    assert gone() is None


def engines() -> list[Engine]:
    return [o for o in gc.get_objects()
            if isinstance(o, Engine) and not isinstance(o, weakref.ProxyTypes)]


def test_closed_services_leave_no_engine_behind(settings: Settings) -> None:
    """Services that read records and tokens through their raw readers, once closed, are
    collected with their engine: nothing global holds on to them."""
    before = {id(engine) for engine in engines()}
    services = build(settings)
    org = services.directory.create_org("Gone")
    user, _ = services.directory.create_user(org.id, "admin@gone.test", "Passw0rd-long!",
                                             "System Administrator", last_name="Admin")
    caller = services.oauth.sessions.resolve(services.oauth.issuer.issue_session(user).access_token)
    services.data.records.create(caller, "Account", {"Name": "Gone"})
    assert services.data.queries.query(caller, "SELECT Id FROM Account", "62.0")["totalSize"] == 1
    built = weakref.WeakSet(engine for engine in engines() if id(engine) not in before)
    assert built
    services.close()
    del services, caller
    gc.collect()
    assert not built


def test_closing_waits_for_a_read_in_flight_on_another_thread(engine: Engine) -> None:
    """``close`` (the engine disposed) while another thread's read is in the driver: the read
    ends with its rows and the connection is closed after it, not under it (libpq's handle,
    freed mid-call, would be read after its release)."""
    reads = RawReads.for_engine(engine)
    assert reads is not None
    slow = select(things.c.id).where(things.c.id == 1) if engine.dialect.name == "sqlite" else \
        select(things.c.id, func.pg_sleep(0.3).label("slept")).where(things.c.id == 1)
    started, found = threading.Event(), []

    def read() -> None:
        started.set()
        found.append(reads.rows(slow))

    other = threading.Thread(target=read)
    other.start()
    started.wait()
    time.sleep(0.1)  # the read is in the driver
    reads.close()
    other.join()
    assert found and found[0] is not None and found[0][0][0] == 1
    assert reads.rows(select(things.c.id).order_by(things.c.id)) == [(1,), (2,)]  # reopened
