"""The maintenance lock (oauth/maintenance.py): one process of a deployment at a time.

PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a connection of its own,
held for as long as that connection lives; a process that dies or loses its connection loses
the lock with it, and the server hands it to the next process that asks. SQLite: ``flock`` on a
file beside the database, which the kernel releases when the process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from localforce.oauth.ports import MaintenanceLock

#: The advisory lock's key (a bigint; advisory locks are per database): "lfmaint" in ASCII.
ADVISORY_KEY = 0x6C666D61696E74


class PgAdvisoryLock:
    def __init__(self, engine: Engine, key: int = ADVISORY_KEY) -> None:
        self._engine = engine
        self._key = key
        self._connection: Connection | None = None
        self._mutex = threading.Lock()

    def acquire(self) -> bool:
        with self._mutex:
            if self._connection is not None:
                try:  # the session is the lock: while it answers, the lock is still ours
                    self._connection.execute(text("SELECT 1"))
                    return True
                except Exception:  # noqa: BLE001 - a broken connection: the lock is gone
                    self._drop()
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            connection.detach()  # closed for real when dropped, never back in the pool
            try:
                taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                           {"key": self._key}).scalar_one()
            except BaseException:
                connection.close()
                raise
            if taken:
                self._connection = connection
            else:
                connection.close()
            return bool(taken)

    def release(self) -> None:
        with self._mutex:
            if self._connection is not None:
                with contextlib.suppress(Exception):
                    self._connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                             {"key": self._key})
                self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()


class FileLock:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None
        self._mutex = threading.Lock()

    def acquire(self) -> bool:
        with self._mutex:
            if self._fd is not None:
                return True
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
            return True

    def release(self) -> None:
        with self._mutex:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
                self._fd = None


class AlwaysHeld:
    """An in-memory SQLite database has one process: it needs no lock."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


def maintenance_lock(engine: Engine) -> MaintenanceLock:
    if engine.dialect.name == "postgresql":
        return PgAdvisoryLock(engine)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        path = Path(database)
        return FileLock(path.with_name(path.name + ".maintenance-lock"))
    return AlwaysHeld()
