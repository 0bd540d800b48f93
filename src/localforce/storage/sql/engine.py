"""Database URL -> SQLAlchemy Engine, with SQLite pragmas and migrations on start-up."""

from __future__ import annotations

import ast
import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.pool import PoolProxiedConnection, QueuePool, StaticPool

from localforce.commits import may_wait, overran

log = logging.getLogger("localforce.storage")

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


#: Seconds a new PostgreSQL connection may take (libpq's ``connect_timeout``).
PG_CONNECT_TIMEOUT = 5


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # No pre-ping: it costs a round trip on every checkout (its CPU per introspection and
    # /query: bench/README.md). A connection
    # the server dropped (a restart) fails the one statement that finds out; SQLAlchemy then
    # invalidates the whole pool, so the next checkouts are fresh connections
    # (tests/storage/test_pg_reconnect.py).
    # connect_timeout: a PostgreSQL that accepts the connection and never answers (hung, or
    # a black-holed port) fails the request with a 503 in seconds instead of holding it.
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=False,
                         poolclass=LoopGuardedPool, hide_parameters=True,
                         connect_args={"connect_timeout": PG_CONNECT_TIMEOUT})


class LoopGuardedPool(QueuePool):
    """PostgreSQL's pool. A checkout by a call on the event loop (commits.py, "calls made on
    the event loop") raises ``WouldWait`` before anything: there every statement is a network
    round trip, and the checkout itself may wait for a free connection or open a new one. So
    a hot call whose reads the caches answer (a client-credentials grant) runs on the
    loop, and one that must read runs again on a request thread."""

    def connect(self) -> PoolProxiedConnection:
        may_wait()
        return super().connect()


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def private_database_file(path: Path) -> None:
    """The database holds the org's records and sealed secrets: a new one is created 0600 in
    a 0700 folder (SQLite gives its -wal and -shm files the database file's mode). An older
    one readable by others is left as it is, with a warning."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    loose = path.stat().st_mode & 0o077
    if loose:
        log.warning("%s is readable by other users (mode %o); chmod 600 it", path,
                    path.stat().st_mode & 0o777)


#: SQLite virtual-machine steps between two looks at the event-loop budget (tens of
#: microseconds of SQLite work; the look itself is a ContextVar read).
PROGRESS_STEPS = 10_000


def _loop_overran() -> int:
    return 1 if overran() else 0


def _sqlite_engine(url: str) -> Engine:
    # hide_parameters: a database error's text never carries the bound values (record data,
    # token digests) into logs; both engines.
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30},
                              "hide_parameters": True}
    memory = url in ("sqlite://", "sqlite:///:memory:")
    if memory:
        kwargs["poolclass"] = StaticPool
    else:
        path = Path(url.split("sqlite:///", 1)[1])
        private_database_file(path)
        kwargs["pool_size"] = 8
        kwargs["max_overflow"] = 16
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, open transactions, so BEGIN IMMEDIATE works.
        dbapi_connection.isolation_level = None
        # SOQL's case-insensitive text beyond ASCII (storage/sql/soql_to_sql.py).
        dbapi_connection.create_function("lf_lower", 1, _lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()
        # A call on the event loop that runs past its budget is interrupted here and moved to
        # a thread (commits.py); elsewhere the handler only reads a ContextVar.
        dbapi_connection.set_progress_handler(_loop_overran, PROGRESS_STEPS)

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(SINGLE_STATEMENT):
            # No transaction: pysqlite runs the statement in autocommit mode, where it reads
            # one WAL snapshot of its own, and SQLAlchemy's COMMIT/ROLLBACK afterwards do
            # nothing (pysqlite skips them when no transaction is open).
            return
        if options.get(READ_ONLY):
            # A deferred transaction reads a consistent WAL snapshot and takes no lock, so
            # readers never queue behind writers (or each other).
            connection.exec_driver_sql("BEGIN")
        else:
            # A writer may wait for the lock (busy_timeout): never on the event loop
            # (commits.py, "calls made on the event loop"), where this raises first.
            may_wait()
            # Writers take the lock up front: no deadlock-prone read->write upgrades.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


#: How long a SQLite writer waits for the lock before "database is locked".
BUSY_TIMEOUT_MS = 30_000

#: Execution option marking connections that only read.
READ_ONLY = "localforce_read_only"


def reader(engine: Engine) -> Engine:
    """The same engine and pool, for connections that only read. On SQLite their transactions
    are deferred (no write lock); elsewhere the option changes nothing."""
    return engine.execution_options(**{READ_ONLY: True})


#: Execution option marking connections that run exactly one SELECT.
SINGLE_STATEMENT = "localforce_single_statement"


def single_statement_reader(engine: Engine) -> Engine:
    """The same engine and pool, for connections that run exactly one SELECT: it runs outside
    any transaction, and a statement alone reads one consistent snapshot, on SQLite (WAL) as on
    PostgreSQL. Two statements on such a connection would each read their own snapshot: reads
    that must agree use ``reader``.

    That spares two of a one-row read's three statements (BEGIN, ROLLBACK). On PostgreSQL it is
    psycopg's autocommit (cheaper through the pool, bench/README.md), which SQLAlchemy undoes
    when the connection goes back to the pool. Not so on SQLite: its dialect would reset
    pysqlite's ``isolation_level`` to ``""`` on the way back, re-enabling pysqlite's own
    transactions; there the ``begin`` listener above just issues nothing.
    """
    options: dict[str, Any] = {READ_ONLY: True, SINGLE_STATEMENT: True}
    if engine.dialect.name != "sqlite":
        options["isolation_level"] = "AUTOCOMMIT"
    return engine.execution_options(**options)


class WriterLock:
    """An OS lock beside a SQLite file, taken around each transaction of a long-lived writer
    (storage/sql/group_commit.py: a worker's event loop and its writer thread).

    SQLite lets one writer in at a time and makes the others poll in its busy handler, which
    sleeps in steps that grow to 100 ms. Two workers' group-commit writers, each committing
    back to back, starved each other that way (the client-credentials p99 with two workers was
    several times that with one, bench/README.md). Waiting on ``flock`` instead, a
    writer is woken the moment the other one is done.

    ``flock`` excludes open file descriptions, not threads: two threads sharing one descriptor
    would each "take" the lock while the other held it (and one's release would free the
    other's), so each thread opens its own, on first use, in the process that uses it (never
    inherited across a fork).
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = threading.local()
        self._opened: list[int] = []
        self._opened_lock = threading.Lock()
        self._generation = 0  # a descriptor of an older one was closed by ``close``

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        fd = self._open()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def try_take(self) -> bool:
        """Take the lock if it is free (then ``release`` it, on the same thread); False at once
        if it is not."""
        try:
            fcntl.flock(self._open(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        fcntl.flock(self._open(), fcntl.LOCK_UN)

    def _open(self) -> int:
        local = self._local
        if getattr(local, "generation", None) != self._generation:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            with self._opened_lock:
                self._opened.append(fd)
            local.fd, local.generation = fd, self._generation
        return int(local.fd)

    def close(self) -> None:
        with self._opened_lock:
            opened, self._opened = self._opened, []
            self._generation += 1
        for fd in opened:
            os.close(fd)


def detached_connection(engine: Engine) -> Any:
    """A DBAPI connection opened through ``engine`` (its connect events: SQLite's pragmas and
    the event loop's CPU budget) and taken out of the pool for good: the caller keeps it and
    closes it."""
    pooled = engine.raw_connection()
    connection = pooled.driver_connection
    pooled.detach()
    return connection


def writer_lock(engine: Engine) -> WriterLock | None:
    """The ``WriterLock`` for a SQLite file database; None elsewhere (PostgreSQL has no single
    write lock to share, and an in-memory database no other process)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return WriterLock(Path(database).with_name(Path(database).name + ".writer-lock"))


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Run Alembic migrations up to ``revision`` on this engine.

    Each feature area adds its own revisions branching from ``0001``; ``heads`` applies all.
    """
    if revision == "heads" and is_current(engine):
        return  # every start-up: not even Alembic's import (bench/README.md), nothing to do
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def is_current(engine: Engine) -> bool:
    """Whether the database's applied revisions are exactly the scripts' heads."""
    heads = script_heads()
    with reader(engine).connect() as connection:
        if heads is None or not inspect(connection).has_table("alembic_version"):
            return False
        rows = connection.execute(text("SELECT version_num FROM alembic_version"))
        return {row[0] for row in rows} == heads


def script_heads() -> frozenset[str] | None:
    """The head revisions of the migration scripts, from the ``revision`` and ``down_revision``
    literals of each version file (without importing Alembic); ``None`` if a file has no
    literal ones (then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("[!_]*.py"):
        assigned = _literals(path)
        if "revision" not in assigned:
            return None
        revisions.add(assigned["revision"])
        down = assigned.get("down_revision")
        parents.update(down if isinstance(down, tuple | list) else [down] if down else [])
    return frozenset(revisions - parents)


def _literals(path: Path) -> dict[str, Any]:
    """The module-level ``revision = "..."`` and ``down_revision = ...`` (annotated or not)."""
    found: dict[str, Any] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:  # not a literal: leave it to Alembic
                return {}
    return found


def pending_revisions(engine: Engine) -> list[str]:
    """Revisions the scripts define that this database has not applied (``[]`` when current)."""
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    applied = {r.revision for r in script.iterate_revisions(heads, "base")} if heads else set()
    return sorted(r.revision for r in script.walk_revisions() if r.revision not in applied)


def current_revision(engine: Engine) -> str | None:
    """The applied revisions, comma-separated (one per feature branch)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) or None
