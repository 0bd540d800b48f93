"""Group commit: rows from concurrent requests written in one transaction.

A grant writes a token row and a LoginHistory row. Each in a transaction of its own cost most
of a grant's CPU in process (pool checkout, ``BEGIN IMMEDIATE``, the events, ``COMMIT``) and,
on SQLite, made every grant queue for the one write lock (figures: bench/README.md, "group
commit"). Here ``append`` hands the row to a writer thread, which takes everything waiting in
its queue, writes it in one transaction (one DBAPI ``executemany`` per statement, in arrival
order), commits, and only then resolves each row's future. The caller waits for that future
(``commits.defer_or_wait``): right away, or — inside a request — just before the response, so
an answer never vouches for a row that is not committed.

On a SQLite file, the writers of the worker processes take turns on an OS lock
(``engine.WriterLock``) rather than in SQLite's sleeping busy handler.

If a batch fails, each of its rows is retried in a transaction of its own, so one bad row fails
only its own caller. The thread starts on first use (never in a parent that forks workers
afterwards) and stops after writing what it holds (``close``).

**On the event loop** (a SQLite file): a request answered on the worker's event loop
(``commits.attempt``) hands its rows over on the loop, inside the request's ``deferred()``.
Handing them to the thread cost more than writing them: the queue's wake-up, a future with its
condition, the hop back to the loop, and the writer's Python competing with the loop for the
GIL (bench/README.md, issue #18). So the rows of everything the loop ran in one pass are
written by the loop itself, right after that pass (``call_soon``), in one transaction on a
connection of its own that never waits: the workers' OS lock is tried without blocking, and
SQLite's busy timeout there is 0. WAL with ``synchronous=NORMAL`` does not sync on commit, so
the commit is CPU and a ``write()``; the checkpoints, which do sync, are left to the thread
(``wal_autocheckpoint`` is off on that connection, and every ``CHECKPOINT_EVERY`` commits the
thread is asked for one that does not wait, ``_checkpoint``). If the lock is taken or SQLite
is busy, the loop tries again a moment later, and later each time (with two workers, the other
one's writer often held the lock at a flush, and handing those batches to the thread cost the
worker a large share of a grant's CPU; bench/README.md); after ``LOOP_WAIT_BUDGET_SECONDS`` of
that (longer than a checkpoint holds the lock), or if a row fails, the batch goes to the thread
as above, which waits, retries row by row and answers each row's future; either way a response
still waits for its rows' commit.

**On the event loop, PostgreSQL**: the rows go to a task of the loop that writes each batch on
an asynchronous psycopg connection of its own — its INSERTs as one statement, the rows of each
as one JSON document (``_one_statement``), else ``COPY`` in a transaction; the loop serves
other requests while it waits for the network, and what arrives meanwhile is the next batch. The
thread's hand-offs cost a client-credentials grant a fifth of its CPU (bench/README.md). A
batch that fails — a bad row, a lost connection — goes to the thread as above; a lost
connection is replaced for the next batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import math
import operator
import queue
import re
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any

import orjson
from sqlalchemy import Engine
from sqlalchemy.sql.dml import UpdateBase

from localforce.commits import defer_or_wait, deferring, hold, note
from localforce.storage.sql.engine import (
    BUSY_TIMEOUT_MS,
    PG_CONNECT_TIMEOUT,
    detached_connection,
    writer_lock,
)

log = logging.getLogger("localforce.storage")

Row = Mapping[str, Any]
_Item = tuple[UpdateBase, Row, Future[None]]
_LoopItem = tuple[UpdateBase, Row, "asyncio.Future[None]"]
#: Asks the thread for a WAL checkpoint (the loop's connection makes none itself).
_CHECKPOINT = object()
#: Commits made on the loop (each worker's) between two of its checkpoints. Under load a commit
#: carries dozens of grants' rows and pages; the fewer commits between checkpoints, the fewer
#: frames the ``RESTART`` under the writers' lock copies and the shorter the loops wait for it
#: (bench/README.md, issue #18, twelfth pass: fewer than 160 shortened the grants' tail).
CHECKPOINT_EVERY = 80
#: When the workers' lock is taken, the loop tries again after ``LOOP_WAIT_SECONDS``, twice
#: that after each try that finds it taken, up to ``LOOP_WAIT_MAX_SECONDS``, until
#: ``LOOP_WAIT_BUDGET_SECONDS`` have passed; then the thread, which waits for the lock, takes
#: the rows. The other worker's commit holds the lock a fraction of a millisecond, its WAL
#: checkpoint (which syncs the files) several: after a flat 10 ms of tries, the loops handed
#: those batches to the threads, whose writes, slower and competing for the GIL, held the lock
#: longer in turn (bench/README.md, issue #18, twelfth pass).
LOOP_WAIT_SECONDS = 0.0002
LOOP_WAIT_MAX_SECONDS = 0.001
LOOP_WAIT_BUDGET_SECONDS = 0.1


class _NeedsConversion(Exception):
    """A statement's values need SQLAlchemy's conversion: the thread writes the batch."""


#: ``_write_on_loop``'s outcomes.
_WRITTEN, _BUSY, _FAILED = object(), object(), object()
#: SQL and its positional parameter names (None: the DBAPI takes named parameters).
_Plain = tuple[str, tuple[str, ...] | None]
#: An INSERT whose every value is one parameter (PostgreSQL spells some with a cast), which
#: COPY can write instead: the table, the columns, the values.
_ALL_PARAMETERS = re.compile(r"INSERT INTO (\S+) \(([^()]*)\) VALUES \((.*)\)")
_PARAMETER = re.compile(r"%\((\w+)\)s(?:::\w+)?")
#: ``COPY ... FROM STDIN`` and the parameter names in column order.
_Copy = tuple[str, tuple[str, ...]]
#: An INSERT of the rows of a JSON document and each column's (parameter name, JSON key).
_FromJson = tuple[str, tuple[tuple[str, str], ...]]
#: Values JSON carries as PostgreSQL reads them back into any column COPY's text could fill
#: (``bool`` is an ``int``); a float must also be finite (JSON has no NaN).
_JSON_VALUES = (str, int, float, type(None))


class GroupCommit:
    def __init__(self, engine: Engine, *, max_batch: int = 512) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._lock = writer_lock(engine)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._plain_sql: dict[tuple[UpdateBase, tuple[str, ...]], _Plain | None] = {}
        self._copy_sql: dict[tuple[UpdateBase, tuple[str, ...]], _Copy | None] = {}
        self._json_sql: dict[tuple[UpdateBase, tuple[str, ...]], _FromJson | None] = {}
        # -- on the event loop (a SQLite file only: its OS lock is what makes it safe)
        self._loop_batches: dict[asyncio.AbstractEventLoop, list[_LoopItem]] = {}
        self._loop_connection: sqlite3.Connection | None = None
        self._loop_connection_lock = threading.Lock()  # one loop at a time writes on it
        self._loop_commits = 0
        #: Per loop, since its last commit: (the next wait, the seconds waited).
        self._loop_waits: dict[asyncio.AbstractEventLoop, tuple[float, float]] = {}
        # -- on the event loop, PostgreSQL: an asynchronous connection per loop
        self._postgres = engine.dialect.name == "postgresql"
        self._postgres_writing: set[asyncio.AbstractEventLoop] = set()
        self._postgres_connections: dict[asyncio.AbstractEventLoop, Any] = {}

    def append(self, statement: UpdateBase, row: Row) -> None:
        """Run ``statement`` (an INSERT, or an UPDATE by key) with ``row``; returns once it is
        committed, or notes the commit for the caller's ``commits.deferred()``."""
        if hold(lambda: self.append(statement, row)):  # on the loop: once it succeeds
            return
        loop = self._event_loop()
        if loop is not None:
            note(self._append_on_loop(loop, statement, row))
            return
        done: Future[None] = Future()
        self._ensure_started()
        self._queue.put((statement, row, done))
        defer_or_wait(done)

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout=30)
        self._thread = None
        with self._loop_connection_lock:
            if self._loop_connection is not None:
                self._loop_connection.close()
                self._loop_connection = None
        for connection in self._postgres_connections.values():
            connection.pgconn.finish()  # its loop may be gone: libpq closes it at once
        self._postgres_connections.clear()
        if self._lock is not None:
            self._lock.close()

    # -- on the event loop ----------------------------------------------------------------

    def _event_loop(self) -> asyncio.AbstractEventLoop | None:
        """The running loop, when the caller is on it inside a request's ``deferred()`` and
        the database is a SQLite file or PostgreSQL; else None (the thread writes)."""
        if (self._lock is None and not self._postgres) or not deferring():
            return None
        try:
            return asyncio.get_running_loop()
        except RuntimeError:  # a thread: no loop runs here
            return None

    def _append_on_loop(self, loop: asyncio.AbstractEventLoop, statement: UpdateBase,
                        row: Row) -> asyncio.Future[None]:
        done: asyncio.Future[None] = loop.create_future()
        batch = self._loop_batches.get(loop)
        if batch is None:
            batch = self._loop_batches[loop] = []
            # After everything this pass of the loop runs: one transaction for all of it.
            if self._postgres:
                if loop not in self._postgres_writing:  # else the writing task takes it next
                    self._postgres_writing.add(loop)
                    loop.create_task(self._flush_to_postgres(loop),
                                     context=contextvars.Context())
            else:
                loop.call_soon(self._flush_on_loop, loop, context=contextvars.Context())
        batch.append((statement, row, done))
        return done

    def _flush_on_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._loop_batches.pop(loop)
        try:
            outcome = self._write_on_loop(batch)
        except Exception as error:  # noqa: BLE001 - e.g. no connection: the thread's turn
            log.warning("group commit: could not write on the event loop: %r", error)
            outcome = _FAILED
        if outcome is _WRITTEN:
            self._loop_waits.pop(loop, None)
            for _, _, done in batch:
                if not done.done():
                    done.set_result(None)
            return
        wait, waited = self._loop_waits.get(loop, (LOOP_WAIT_SECONDS, 0.0))
        if outcome is _BUSY and waited < LOOP_WAIT_BUDGET_SECONDS:
            # The other worker's writer is committing: try again shortly, with whatever
            # arrives meanwhile, rather than hand the rows to the thread (its hand-offs cost
            # more CPU than the write; bench/README.md).
            self._loop_waits[loop] = (min(2 * wait, LOOP_WAIT_MAX_SECONDS), waited + wait)
            arrived = self._loop_batches.get(loop)
            if arrived is not None:  # their flush is already scheduled: ours joins it
                arrived[:0] = batch
            else:
                self._loop_batches[loop] = batch
                loop.call_later(wait, self._flush_on_loop, loop, context=contextvars.Context())
            return
        self._loop_waits.pop(loop, None)
        self._to_thread(loop, batch)

    def _to_thread(self, loop: asyncio.AbstractEventLoop, batch: list[_LoopItem]) -> None:
        """The rows the loop could not write: the thread waits, retries, answers each row."""
        self._ensure_started()
        for statement, row, done in batch:
            handed: Future[None] = Future()
            handed.add_done_callback(
                lambda f, done=done: loop.call_soon_threadsafe(  # type: ignore[misc]
                    _copy_outcome, f, done))
            self._queue.put((statement, row, handed))

    async def _flush_to_postgres(self, loop: asyncio.AbstractEventLoop) -> None:
        """PostgreSQL, on the loop: each batch in one transaction on an asynchronous
        connection of the loop's own, the loop serving other requests while it waits for the
        network; the rows that arrive meanwhile are the next batch. A batch that fails (a bad
        row, the connection lost) goes to the thread, which writes it row by row."""
        try:
            while batch := self._loop_batches.pop(loop, None):
                try:
                    await self._write_to_postgres(loop, batch)
                except Exception as error:  # noqa: BLE001 - the thread writes it, row by row
                    log.info("group commit: the loop's PostgreSQL batch goes to the thread: %s",
                             type(error).__name__)  # its text may quote a row's values
                    self._to_thread(loop, batch)
                    continue
                for _, _, done in batch:
                    if not done.done():
                        done.set_result(None)
        finally:
            self._postgres_writing.discard(loop)

    async def _write_to_postgres(self, loop: asyncio.AbstractEventLoop,
                                 batch: list[_LoopItem]) -> None:
        grouped = _by_statement(batch)
        plain = {statement: self._plain(statement, rows[0]) for statement, rows in grouped.items()}
        if any(p is None for p in plain.values()):
            raise _NeedsConversion
        one = self._one_statement(grouped, plain)  # type: ignore[arg-type]
        connection = await self._postgres_connection(loop)
        try:
            if one is not None:
                await connection.execute(*one)
                return
            async with connection.transaction(), connection.cursor() as cursor:
                for statement, rows in grouped.items():
                    sql, names = plain[statement]  # type: ignore[misc]
                    copy = self._copy(statement, rows[0], sql)
                    if copy is None:
                        await cursor.executemany(sql, _parameters(names, rows))
                        continue
                    copy_sql, order = copy
                    async with cursor.copy(copy_sql) as stream:
                        for values in _parameters(order, rows):
                            await stream.write_row(values)
        except BaseException:
            from psycopg.pq import TransactionStatus  # PostgreSQL only

            if connection.info.transaction_status != TransactionStatus.IDLE:  # e.g. cancelled
                with contextlib.suppress(Exception):
                    await connection.close()  # the next batch opens another
            raise

    def _one_statement(self, grouped: dict[UpdateBase, list[Row]],
                       plain: dict[UpdateBase, _Plain]) -> tuple[str, list[str]] | None:
        """A batch of INSERTs as one statement and its JSON documents, one per INSERT: one
        transaction on the loop's autocommit connection and one round trip, where a COPY per
        table with ``BEGIN`` and ``COMMIT`` took six, at several times the CPU
        (bench/README.md).
        The INSERTs but the last go in a ``WITH``, which PostgreSQL runs as part of the last.
        None when a statement is not such an INSERT (an UPDATE) or a value is not one JSON
        carries as it is: the batch is then written with ``COPY`` and ``executemany``."""
        inserts, documents = [], []
        for statement, rows in grouped.items():
            insert = self._from_json(statement, rows[0], plain[statement][0])
            if insert is None:
                return None
            sql, keys = insert
            inserts.append(sql)
            try:
                documents.append(_json_rows(keys, rows))
            except _NeedsConversion:
                return None
        *first, last = inserts
        with_ = ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(first))
        return (f"WITH {with_} {last}" if first else last), documents

    async def _postgres_connection(self, loop: asyncio.AbstractEventLoop) -> Any:
        """The loop's connection (autocommit); a new one after the last was lost (a failed
        batch leaves a healthy one idle, as it was)."""
        held = self._postgres_connections.get(loop)
        if held is None or held.closed or held.broken:
            if held is not None:
                with contextlib.suppress(Exception):
                    await held.close()
            import psycopg  # PostgreSQL only

            url = self._engine.url.set(drivername="postgresql")
            held = await psycopg.AsyncConnection.connect(
                url.render_as_string(hide_password=False), connect_timeout=PG_CONNECT_TIMEOUT,
                autocommit=True)
            self._postgres_connections[loop] = held
        return held

    def _write_on_loop(self, batch: list[_LoopItem]) -> object:
        """Write ``batch`` in one transaction without waiting for anything: ``_WRITTEN``;
        ``_BUSY`` (nothing written) when that would wait, ``_FAILED`` when a row fails."""
        assert self._lock is not None
        if not self._loop_connection_lock.acquire(blocking=False):
            return _BUSY
        try:
            if not self._lock.try_take():  # the other worker's writer is committing
                return _BUSY
            try:
                return self._write_plain(self._connection_for_loop(), batch)
            finally:
                self._lock.release()
        finally:
            self._loop_connection_lock.release()

    def _write_plain(self, connection: sqlite3.Connection, batch: list[_LoopItem]) -> object:
        grouped = _by_statement(batch)
        plain = {statement: self._plain(statement, rows[0]) for statement, rows in grouped.items()}
        if any(p is None for p in plain.values()):
            return _FAILED
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # busy: an in-place writer holds SQLite's lock
            return _BUSY
        try:
            for statement, rows in grouped.items():
                sql, names = plain[statement]  # type: ignore[misc]
                connection.executemany(sql, _parameters(names, rows))
            connection.execute("COMMIT")
        except Exception:  # noqa: BLE001 - the thread writes it again, row by row
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            return _FAILED
        self._loop_commits += 1
        if self._loop_commits % CHECKPOINT_EVERY == 0:
            self._ensure_started()
            self._queue.put(_CHECKPOINT)  # type: ignore[arg-type]
        return _WRITTEN

    def _connection_for_loop(self) -> sqlite3.Connection:
        if self._loop_connection is None:
            connection = detached_connection(self._engine)
            assert isinstance(connection, sqlite3.Connection)
            # Each read to its end: a PRAGMA's row left unread keeps its statement open, and
            # with it a read of the WAL that no checkpoint can restart past.
            connection.execute("PRAGMA busy_timeout=0").fetchall()
            connection.execute("PRAGMA wal_autocheckpoint=0").fetchall()
            self._loop_connection = connection
        return self._loop_connection

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="group-commit",
                                                    daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            batch: list[_Item] = []
            checkpoint = False
            item = self._queue.get()
            while item is not None:
                if item is _CHECKPOINT:
                    checkpoint = True
                else:
                    batch.append(item)
                if len(batch) >= self._max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
            if checkpoint:  # after the rows: the checkpoint copies them too
                self._checkpoint()
            if item is None:
                return

    def _write(self, batch: list[_Item]) -> None:
        try:
            with self._locked(), self._engine.begin() as connection:
                for statement, rows in _by_statement(batch).items():
                    plain = self._plain(statement, rows[0])
                    if plain is None:
                        connection.execute(statement, rows)
                        continue
                    copy = self._copy(statement, rows[0], plain[0])
                    if copy is not None:  # PostgreSQL: the rows in one COPY
                        copy_sql, order = copy
                        dbapi: Any = connection.connection.dbapi_connection
                        with dbapi.cursor() as cursor, cursor.copy(copy_sql) as stream:
                            for values in _parameters(order, rows):
                                stream.write_row(values)
                        continue
                    sql, names = plain
                    connection.exec_driver_sql(sql, _parameters(names, rows))
        except Exception as error:  # noqa: BLE001 - every caller is told, none is lost
            if len(batch) > 1:  # one bad row fails only its own caller
                for item in batch:
                    self._write([item])
            else:
                log.warning("group commit: a row could not be written: %r", error)
                batch[0][2].set_exception(error)
            return
        for _, _, done in batch:
            done.set_result(None)

    def _checkpoint(self) -> None:
        """What the loop's connection leaves undone: copy the WAL back into the database.
        First ``PASSIVE``, twice, while the writers go on: most of the copying (the second
        pass, what the loops wrote during the first). Then ``RESTART`` under the workers'
        writer lock, so that no loop commits meanwhile: the frames written since, and the next
        writer starts the WAL again from its beginning (after ``PASSIVE`` ones alone the loops'
        back-to-back commits kept it growing); without waiting: with readers still on the WAL
        it does what ``PASSIVE`` would. Done whole under the lock, it held the loops' commits
        several times longer (bench/README.md, issue #18, twelfth pass)."""
        try:
            pooled = self._engine.raw_connection()  # outside any transaction, as it must be
            connection: Any = pooled.driver_connection
            try:
                connection.execute("PRAGMA busy_timeout=0").fetchall()
                for _ in range(2):
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                with self._locked():
                    connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
            finally:
                connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                pooled.close()
        except Exception as error:  # noqa: BLE001 - SQLite checkpoints again later
            log.warning("group commit: WAL checkpoint failed: %r", error)

    def _plain(self, statement: UpdateBase, row: Row) -> _Plain | None:
        """The statement's SQL and parameter order for the DBAPI's ``executemany``
        (``exec_driver_sql``), which skips most of SQLAlchemy's per-execution work (compiled
        cache lookup, parameter processing, result set-up; measured in bench/README.md). None
        when a column needs SQLAlchemy's conversion of its values."""
        key = (statement, tuple(row))
        if key not in self._plain_sql:
            compiled = statement.compile(dialect=self._engine.dialect, column_keys=list(row))
            needs_conversion = any(compiled._bind_processors.values())  # noqa: SLF001
            names = compiled.positiontup
            self._plain_sql[key] = None if needs_conversion else (
                compiled.string, tuple(names) if names is not None else None)
        return self._plain_sql[key]

    def _copy(self, statement: UpdateBase, row: Row, sql: str) -> _Copy | None:
        """On PostgreSQL, an INSERT of parameters only (``sql``, its plain SQL) as ``COPY ...
        FROM STDIN`` and the parameter names in column order. psycopg's ``executemany`` runs
        one prepared INSERT per row, at about 2.5 times COPY's CPU per row; one INSERT of many
        rows cost more still (bench/README.md). None for anything else (a RETURNING, an
        ON CONFLICT, an expression), which ``executemany`` writes."""
        key = (statement, tuple(row))
        if key not in self._copy_sql:
            parts = self._insert_of_parameters(sql)
            self._copy_sql[key] = None if parts is None else (
                f"COPY {parts[0]} ({parts[1]}) FROM STDIN", tuple(name for _, name in parts[2]))
        return self._copy_sql[key]

    def _from_json(self, statement: UpdateBase, row: Row, sql: str) -> _FromJson | None:
        """On PostgreSQL, an INSERT of parameters only (``sql``, its plain SQL) as an INSERT of
        the rows of one JSON document (``json_populate_recordset``: each value converted to
        its column's type by PostgreSQL, as COPY's text is), and each column's (parameter
        name, JSON key); None for anything else."""
        key = (statement, tuple(row))
        if key not in self._json_sql:
            parts = self._insert_of_parameters(sql)
            self._json_sql[key] = None if parts is None else (
                f"INSERT INTO {parts[0]} ({parts[1]}) SELECT {parts[1]} FROM "
                f"json_populate_recordset(NULL::{parts[0]}, %s::json)",
                tuple((name, _unquoted(column)) for column, name in parts[2]))
        return self._json_sql[key]

    def _insert_of_parameters(self, sql: str
                              ) -> tuple[str, str, list[tuple[str, str]]] | None:
        """On PostgreSQL, an INSERT whose every value is one parameter: its table, its column
        list as written, and each (column, parameter name); else None."""
        match = _ALL_PARAMETERS.fullmatch(sql)
        if self._engine.dialect.name != "postgresql" or match is None:
            return None
        table, columns, values = match.groups()
        names = [c.strip() for c in columns.split(",")]
        items = [_PARAMETER.fullmatch(v.strip()) for v in values.split(",")]
        if len(items) != len(names) or not all(items):
            return None
        return table, columns, [(n, m.group(1)) for n, m in zip(names, items, strict=True) if m]

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return self._lock.held() if self._lock is not None else contextlib.nullcontext()


def _by_statement(batch: Sequence[tuple[UpdateBase, Row, Any]]
                  ) -> dict[UpdateBase, list[Row]]:
    grouped: dict[UpdateBase, list[Row]] = {}
    for statement, row, _ in batch:
        grouped.setdefault(statement, []).append(row)
    return grouped


def _parameters(names: tuple[str, ...] | None, rows: list[Row]) -> list[Any]:
    """``executemany``'s parameters: each row's values in ``names``' order (positional SQL),
    or the rows themselves (named)."""
    if names is None:
        return list(rows)
    values = _values(names)
    return [values(r) for r in rows]


@functools.lru_cache(maxsize=256)
def _values(names: tuple[str, ...]) -> Any:
    """A row's values in ``names``' order, as a tuple: an ``itemgetter`` made once per
    statement (a generator per row was a few per cent of a grant's CPU in process)."""
    if len(names) <= 1:  # itemgetter answers one name's value bare, and takes at least one
        return lambda row: tuple(row[n] for n in names)
    return operator.itemgetter(*names)


def _unquoted(column: str) -> str:
    """A column's name as the SQL spells it (``"Name"`` or ``name``), as a JSON key."""
    return column[1:-1].replace('""', '"') if column.startswith('"') else column


def _json_rows(keys: tuple[tuple[str, str], ...], rows: list[Row]) -> str:
    """The rows as one JSON array of objects keyed by column; ``_NeedsConversion`` for a value
    JSON would not carry as it is (the batch is then written another way)."""
    documents = []
    for row in rows:
        document = {}
        for name, column in keys:
            value = row[name]
            if not isinstance(value, _JSON_VALUES) or (
                    isinstance(value, float) and not math.isfinite(value)):
                raise _NeedsConversion
            document[column] = value
        documents.append(document)
    try:
        return orjson.dumps(documents).decode()
    except (TypeError, orjson.JSONEncodeError):  # an int past 64 bits
        raise _NeedsConversion from None


def _copy_outcome(handed: Future[None], done: asyncio.Future[None]) -> None:
    """On the loop: a row the thread wrote for a batch the loop could not."""
    if done.done():
        return
    error = handed.exception()
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
