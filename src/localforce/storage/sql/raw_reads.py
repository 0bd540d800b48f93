"""One-statement reads straight through the DBAPI: the hot reads' SQL compiled once.

A ``/query`` spent much of its CPU in SQLAlchemy around one SELECT of five rows (the
connection's checkout from the pool and return, the compiled-cache lookup, parameter and result
set-up; bench/README.md, issue #18), and an introspection the same around its one token lookup.
Here a statement the stores keep (a query plan's page, a record by Id, a token by digest) is
compiled once to its SQL, parameter order and value conversions, and each call runs it on a
connection of the calling thread's own, opened through the engine (so with its pragmas and the
event loop's CPU budget, storage/sql/engine.py) and kept outside the pool. The answer is what
SQLAlchemy's would be: the same SQL, the bind and result conversions of each column's type,
rows as tuples, and a driver error raised as SQLAlchemy's own (``DBAPIError.instance``).

On PostgreSQL the statement runs one level below psycopg's cursor, on the connection's libpq
handle: prepared once per thread and parameter types, its parameters dumped and its rows loaded
by the connection's own adapters (psycopg's ``Transformer``), so the values are the cursor's;
the cursor's Python around those same libpq calls cost more than the calls (bench/README.md).
A call on the event loop never makes such a read there: it raises ``WouldWait`` with the read
(commits.py), and ``run_many`` later runs it on a request thread together with the reads of
other calls, in libpq's pipeline mode (one round trip for all: PostgreSQL's reads run apart,
bench/README.md, twenty-sixth pass).

Only where it is the same thing: a SQLite file or PostgreSQL (psycopg), a read outside any
transaction (autocommit: the statement reads one snapshot, as ``single_statement_reader``), a
statement without expanding or post-compiled parameters. ``rows`` answers None otherwise and
the caller reads as before. A connection lost to the server makes every thread open another
at its next read, as the pool does without pre-ping; on PostgreSQL the read that found it gone
is made again at once on a new one (``_libpq_read``), so a server that is back fails none. All
close when the engine is disposed.
"""

from __future__ import annotations

import logging
import re
import select
import sqlite3
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable

from localforce import commits
from localforce.storage.sql.engine import detached_connection

if TYPE_CHECKING:
    from psycopg.abc import Transformer

log = logging.getLogger("localforce.storage")

Conversion = Callable[[Any], Any]
Processor = Conversion | None

#: Compiled statements kept per engine (each statement object the stores keep is one entry).
MAX_PLANS = 4096
#: How long ``close`` waits for a read in flight on another thread before leaving that
#: thread's connection to it.
CLOSE_WAIT_S = 5.0


#: ``%(name)s`` (psycopg's placeholders, as SQLAlchemy compiles them) and ``%%``.
_PYFORMAT = re.compile(r"%\(([^)]+)\)s|%%")


class _Plan:
    __slots__ = ("sql", "numbered", "names", "defaults", "binds", "columns", "results",
                 "conversions", "keys")

    def __init__(self, sql: str, names: tuple[str, ...], positional: bool,
                 defaults: Mapping[str, Any], binds: Mapping[str, Processor],
                 columns: tuple[Any, ...]) -> None:
        #: SQLite's SQL (``?`` placeholders, ``names`` in their order) and, for psycopg's
        #: ``%(name)s``, libpq's: ``$1`` placeholders, numbered in the order names appear.
        self.sql, self.numbered = sql, b""
        if not positional:
            self.numbered, names = _numbered(sql)
        self.names, self.defaults, self.binds, self.columns = names, defaults, binds, columns
        #: Each column's conversion: known after the first execution (the driver's types).
        self.results: tuple[Processor, ...] | None = None
        #: The columns that have one, as (position, conversion): on SQLite a boolean's
        #: (``int_to_boolean``), where a record's other columns come as stored. Only those are
        #: visited in each row, not every column: a record's retrieve reads 58 columns, two of
        #: them booleans.
        self.conversions: tuple[tuple[int, Conversion], ...] = ()
        self.keys = tuple(str(column.key) for column in columns)

    def values(self, params: Mapping[str, Any] | None) -> tuple[Any, ...]:
        """The parameters in placeholder order, each converted by its bind processor."""
        out = []
        for name in self.names:
            value = params[name] if params is not None and name in params \
                else self.defaults[name]
            process = self.binds.get(name)
            out.append(value if process is None or value is None else process(value))
        return tuple(out)


def _converted(row: tuple[Any, ...], conversions: tuple[tuple[int, Conversion], ...]
               ) -> tuple[Any, ...]:
    """``row`` with each of ``conversions`` applied to its column (a NULL stays None)."""
    out = list(row)
    for position, convert in conversions:
        value = out[position]
        if value is not None:
            out[position] = convert(value)
    return tuple(out)


class RawReads:
    """The per-engine reader; ``for_engine`` gives the one of an engine (None for an
    in-memory SQLite database or a driver other than psycopg)."""

    _by_engine: weakref.WeakKeyDictionary[Engine, RawReads] = weakref.WeakKeyDictionary()
    _create_lock = threading.Lock()

    @classmethod
    def for_engine(cls, engine: Engine) -> RawReads | None:
        database = engine.url.database
        if engine.dialect.name == "sqlite":
            if not database or database == ":memory:":
                return None
        elif engine.dialect.driver != "psycopg":
            return None
        with cls._create_lock:
            found = cls._by_engine.get(engine)
            if found is None:
                found = cls._by_engine[engine] = cls(engine)
        return found

    def __init__(self, engine: Engine) -> None:
        #: Weakly: the engine is the key of ``_by_engine``, which a strong reference from its
        #: value would keep alive for good.
        self._engine: Engine = weakref.proxy(engine)
        self._plans: dict[Executable, _Plan | None] = {}
        self._local = threading.local()
        self._opened: list[Any] = []
        self._lock = threading.Lock()
        self._generation = 0
        dbapi = engine.dialect.loaded_dbapi
        self._error: type[Exception] = dbapi.Error
        #: What says the connection may be broken (on SQLite a locked or damaged file: the
        #: connection itself is fine, but reopening costs nothing either).
        self._lost = (dbapi.OperationalError, dbapi.InterfaceError)
        #: PostgreSQL: a read is a network round trip, never made on the event loop.
        self._network = engine.dialect.name != "sqlite"
        event.listen(engine, "engine_disposed", lambda _engine: self.close())

    def rows(self, statement: Executable, params: Mapping[str, Any] | None = None
             ) -> list[tuple[Any, ...]] | None:
        """The statement's rows, or None when it cannot be read here (the caller reads it
        through SQLAlchemy)."""
        found = self._run(statement, params)
        return found[1] if found is not None else None

    def mappings(self, statement: Executable, params: Mapping[str, Any] | None = None
                 ) -> list[dict[str, Any]] | None:
        """``rows`` as ``{column key: value}``, as ``Result.mappings()``."""
        found = self._run(statement, params)
        if found is None:
            return None
        plan, rows = found
        return [dict(zip(plan.keys, row, strict=True)) for row in rows]

    def _run(self, statement: Executable, params: Mapping[str, Any] | None
             ) -> tuple[_Plan, list[tuple[Any, ...]]] | None:
        on_loop = self._network and commits.on_loop()
        plan = self._plan(statement)
        if plan is None:
            if on_loop:
                raise commits.WouldWait  # SQLAlchemy's read would wait there too
            return None
        values = plan.values(params)
        describe = plan.results is None  # the first run: the column types are read
        try:
            # Opening one raises the driver's own error (Engine.raw_connection wraps nothing).
            if on_loop:  # PostgreSQL on the event loop: the read is run apart, then answered
                rows, types = self._answer(plan, values)
            elif self._network:
                rows, types = self._libpq_read(plan, values, describe)
            else:
                cursor = self._cursor()
                cursor.execute(plan.sql, values)
                rows = cursor.fetchall()
                types = [d[1] for d in cursor.description] if describe else []
        except self._error as error:
            if isinstance(error, self._lost):  # the server may be gone: every thread reopens
                self._reopen_all()
            raise DBAPIError.instance(plan.sql, values, error, self._error) from error
        if plan.results is None:  # the column types the driver reports, as SQLAlchemy asks
            results = tuple(
                column.type._cached_result_processor(self._engine.dialect, t)  # noqa: SLF001
                for column, t in zip(plan.columns, types, strict=True))
            plan.conversions = tuple((i, p) for i, p in enumerate(results) if p is not None)
            plan.results = results  # last: a thread that sees it sees the conversions too
        if plan.conversions:
            rows = [_converted(row, plan.conversions) for row in rows]
        return plan, rows

    def _answer(self, plan: _Plan, values: tuple[Any, ...]
                ) -> tuple[list[tuple[Any, ...]], list[int]]:
        """On the event loop: the answer an earlier attempt of the call asked for, or
        ``WouldWait`` with this read (``commits.Read``; ``run_many`` runs it)."""
        key = (self, plan, values)
        try:
            answer = commits.answered(key)
        except TypeError:  # a value that cannot be a key: the call reads on a thread
            raise commits.WouldWait from None
        if answer is commits.NO_ANSWER:
            raise commits.WouldWait(commits.Read(self, key))
        return answer  # type: ignore[no-any-return]

    def _libpq_read(self, plan: _Plan, values: tuple[Any, ...], describe: bool
                    ) -> tuple[list[tuple[Any, ...]], list[int]]:
        """``_Libpq.run`` on this thread's connection. A connection found gone (the server
        restarted, or ended the session) is replaced and the read made once more on a new one:
        a server that is back fails no read, even on a connection opened while it went down.
        A connection that cannot be opened fails the read at once, as ever."""
        libpq = self._libpq()
        try:
            return libpq.run(plan, values, describe)
        except self._lost:
            if not libpq.broken:
                raise
        self._reopen_all()
        return self._libpq().run(plan, values, describe)

    def run_many(self, reads: list[commits.Read]) -> list[Any] | None:
        """``commits.ReadSource``: the rows and column types of each read ``_answer`` asked
        for, in one round trip on this thread's connection; None if any failed (each call
        then reads again on a thread, and reports the failure as it always did)."""
        statements = [cast("tuple[RawReads, _Plan, tuple[Any, ...]]", read.key)[1:]
                      for read in reads]
        try:
            return self._libpq().run_many(statements)  # type: ignore[return-value]
        except Exception as error:
            if isinstance(error, self._lost):
                self._reopen_all()
            self._local.generation = None  # this thread's connection, in whatever state: anew
            log.debug("reads run together failed", exc_info=True)
            return None

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
            self._generation += 1
        for connection in opened:
            _close(connection)

    def _cursor(self) -> Any:
        """This thread's cursor on its connection (SQLite): one for every read."""
        local = self._local
        if getattr(local, "generation", None) != self._generation:
            local.cursor = self._connection().cursor()
        return local.cursor

    def _libpq(self) -> _Libpq:
        """This thread's libpq runner on its connection (PostgreSQL)."""
        local = self._local
        if getattr(local, "generation", None) != self._generation:
            local.libpq = _Libpq(self._connection())
        return local.libpq  # type: ignore[no-any-return]

    def _connection(self) -> Any:
        local = self._local
        if getattr(local, "generation", None) != self._generation:
            old = getattr(local, "connection", None)
            if old is not None:  # this thread's, from before a failure: closed here
                local.connection = None
                self._forget(old)
            connection = detached_connection(self._engine)  # this thread's for good
            if not isinstance(connection, sqlite3.Connection):
                connection.rollback()  # whatever the dialect's set-up left open
                connection.autocommit = True  # psycopg: each statement its own snapshot
            with self._lock:
                self._opened.append(connection)
                local.connection, local.generation = connection, self._generation
        return local.connection

    def _reopen_all(self) -> None:
        """As the pool does on a disconnect: every thread's connection is replaced at its
        next read (so a restarted server fails one read per process, not one per thread)."""
        with self._lock:
            self._generation += 1

    def _forget(self, connection: Any) -> None:
        with self._lock:
            if connection in self._opened:
                self._opened.remove(connection)
        try:
            _close(connection)
        except Exception:  # noqa: BLE001 - already gone
            log.debug("closing a reader connection", exc_info=True)

    def _plan(self, statement: Executable) -> _Plan | None:
        try:
            return self._plans[statement]
        except KeyError:
            pass
        plan = _compile(self._engine, statement)
        if len(self._plans) >= MAX_PLANS:
            self._plans.clear()
        self._plans[statement] = plan
        return plan


def _close(connection: Any) -> None:
    """A reader connection closed by any thread: a psycopg connection under its lock, which a
    read holds while it is in libpq (closing frees libpq's handle, which the read would go on
    using); a read that outlasts ``CLOSE_WAIT_S`` leaves it open to its own thread, which
    closes it at its next read (a new generation). sqlite3 defers a close to the end of a
    statement in flight by itself."""
    lock = getattr(connection, "lock", None)
    if lock is None:
        connection.close()
    elif lock.acquire(timeout=CLOSE_WAIT_S):
        try:
            connection.close()
        finally:
            lock.release()
    else:
        log.warning("a reader connection still reading after %s s was left to its thread",
                    CLOSE_WAIT_S)


class _Libpq:
    """A thread's PostgreSQL reads on its connection's libpq handle (psycopg's ``pgconn``):
    each statement prepared once per parameter types, as psycopg's cursor does after its fifth
    run, and run with the connection's dumpers and loaders. The connection is in autocommit
    and only this thread's, so nothing of psycopg's own state is bypassed."""

    def __init__(self, connection: Any) -> None:
        from psycopg import adapt, pq
        from psycopg.errors import error_from_result
        self._connection = connection
        self._lock = connection.lock  # held while in libpq: see ``_close``
        self._pgconn = connection.pgconn
        self._tx: Transformer = adapt.Transformer.from_context(connection)
        self._prepared: dict[tuple[_Plan, tuple[int, ...]], bytes] = {}
        self._auto = adapt.PyFormat.AUTO
        self._tuples_ok, self._command_ok = pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK
        self._bad = pq.ConnStatus.BAD
        self._error_from_result = error_from_result

    def run(self, plan: _Plan, values: tuple[Any, ...], describe: bool
            ) -> tuple[list[tuple[Any, ...]], list[int]]:
        """The rows, and (``describe``) each column's type as the server reports it."""
        tx, pgconn = self._tx, self._pgconn
        params = tx.dump_sequence(values, [self._auto] * len(values))
        types = tx.types or ()
        with self._lock:
            name = self._prepared.get((plan, types))
            if name is None:
                name = self._prepared[plan, types] = self._prepare(plan.numbered, types)
            result = pgconn.exec_prepared(name, params, param_formats=tx.formats)
            self._check(result, self._tuples_ok)
        return self._loaded(result, describe)

    def run_many(self, reads: list[tuple[_Plan, tuple[Any, ...]]]
                 ) -> list[tuple[list[tuple[Any, ...]], list[int]]]:
        """``run`` of each (with its column types), in one round trip: libpq's pipeline mode
        sends every statement and a sync, then reads the results in order. The wait for them
        is a ``poll`` of the socket, without the GIL (libpq's blocking read would hold it)."""
        if len(reads) == 1:
            plan, values = reads[0]
            return [self.run(plan, values, True)]
        from psycopg import pq
        tx, pgconn = self._tx, self._pgconn
        sends = []
        for plan, values in reads:
            params = tx.dump_sequence(values, [self._auto] * len(values))
            formats = list(tx.formats) if tx.formats is not None else None  # the next dump's own
            sends.append((plan, tx.types or (), params, formats))
        results: list[Any] = []
        with self._lock:
            for plan, types, _params, _formats in sends:  # prepared outside the pipeline
                if (plan, types) not in self._prepared:
                    self._prepared[plan, types] = self._prepare(plan.numbered, types)
            pgconn.enter_pipeline_mode()
            try:
                for plan, types, params, formats in sends:
                    pgconn.send_query_prepared(self._prepared[plan, types], params,
                                               param_formats=formats)
                pgconn.pipeline_sync()  # sends everything (a blocking connection)
                synced, socket = pq.ExecStatus.PIPELINE_SYNC, pgconn.socket
                while True:
                    if pgconn.is_busy():  # the next result has not come in whole yet
                        _readable(socket)
                        pgconn.consume_input()
                        continue
                    result = pgconn.get_result()
                    if result is None:
                        continue  # the end of one statement's results
                    if result.status == synced:
                        break
                    results.append(result)
            finally:
                if pgconn.status != self._bad:
                    pgconn.exit_pipeline_mode()
            for result in results:
                self._check(result, self._tuples_ok)
        return [self._loaded(result, True) for result in results]

    @property
    def broken(self) -> bool:
        """The connection is gone (libpq's status: the server closed it)."""
        return bool(self._pgconn.status == self._bad)

    def _loaded(self, result: Any, describe: bool) -> tuple[list[tuple[Any, ...]], list[int]]:
        """A result's rows by the connection's loaders, and (``describe``) its column types."""
        tx = self._tx
        tx.set_pgresult(result)
        try:
            rows = tx.load_rows(0, result.ntuples, tuple)
        finally:
            tx.set_pgresult(None)  # libpq's copy of the rows is not kept to the next read
        return rows, [result.ftype(i) for i in range(result.nfields)] if describe else []

    def _prepare(self, sql: bytes, types: tuple[int, ...]) -> bytes:
        if len(self._prepared) >= MAX_PLANS:  # the engine's plans were dropped: so are these
            self._check(self._pgconn.exec_(b"DEALLOCATE ALL"), self._command_ok)
            self._prepared.clear()
        name = f"_lf_{len(self._prepared)}".encode()
        self._check(self._pgconn.prepare(name, sql, param_types=types), self._command_ok)
        return name

    def _check(self, result: Any, expected: Any) -> None:
        if result.status == expected:
            return
        if self._pgconn.status == self._bad:  # the connection is gone, whatever the message
            from psycopg import OperationalError
            raise OperationalError(self._pgconn.get_error_message())
        raise self._error_from_result(result, encoding=self._connection.info.encoding)


def _readable(fd: int) -> None:
    """Wait until ``fd`` can be read (the GIL released meanwhile)."""
    if hasattr(select, "poll"):  # any descriptor number
        waiting = select.poll()
        waiting.register(fd, select.POLLIN)
        waiting.poll()
    else:
        select.select([fd], [], [])


def _numbered(sql: str) -> tuple[bytes, tuple[str, ...]]:
    """psycopg's ``%(name)s`` SQL as libpq's ``$n``: each name numbered where it first
    appears, ``%%`` back to ``%``."""
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    return _PYFORMAT.sub(number, sql).encode(), tuple(order)


def _compile(engine: Engine, statement: Executable) -> _Plan | None:
    dialect = engine.dialect
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    positional = compiled.positional
    names = compiled.positiontup if positional else tuple(compiled.bind_names.values())
    if names is None or "POSTCOMPILE" in compiled.string or any(
            compiled.binds[name].expanding for name in names):
        return None
    binds = {name: process for name, process in compiled._bind_processors.items()  # noqa: SLF001
             if process is not None}
    columns = getattr(statement, "selected_columns", None)
    if columns is None:
        return None
    return _Plan(compiled.string, tuple(names), positional, compiled.params, binds,
                 tuple(columns))

