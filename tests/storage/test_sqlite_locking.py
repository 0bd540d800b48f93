"""SQLite: readers never wait for a writer (WAL + deferred read transactions)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from localforce.storage.sql.engine import make_engine, reader


def test_reads_proceed_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (x INTEGER)"))
        c.execute(text("INSERT INTO t VALUES (1)"))
    engine.dispose()
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    # A reader with busy_timeout 0 would fail at once if it had to wait for the lock.
    with engine.begin() as writer:
        writer.execute(text("INSERT INTO t VALUES (2)"))  # holds the write lock, uncommitted
        with reader(engine).connect() as r:
            r.exec_driver_sql("PRAGMA busy_timeout=0")
            assert r.execute(text("SELECT count(*) FROM t")).scalar_one() == 1  # snapshot
            r.rollback()
            r.exec_driver_sql("PRAGMA busy_timeout=30000")
    with reader(engine).connect() as r:
        assert r.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
    engine.dispose()


def test_writers_still_take_the_lock_up_front(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.begin() as writer:
        writer.execute(text("SELECT 1"))
        # BEGIN IMMEDIATE: the lock is held before any write statement.
        other = engine.raw_connection()
        try:
            other.execute("PRAGMA busy_timeout=0")
            try:
                other.execute("BEGIN IMMEDIATE")
                raise AssertionError("a second writer got the lock")
            except Exception as exc:  # sqlite3.OperationalError: database is locked
                assert "locked" in str(exc)
        finally:
            other.close()
    engine.dispose()
