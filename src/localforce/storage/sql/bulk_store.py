"""BulkStore on SQL: ``bulk_jobs`` and ``bulk_job_parts`` (data/bulk/ports.py).

Each part is read by its own statement, so a 150 MB upload or a million result rows pass
through in pieces. ``batch`` runs the runner's record writes and the job's progress in one
transaction on the record store's connection.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.exc import DBAPIError

from localforce.data.bulk.ports import UPLOAD, BatchLog, Job, LeaseLost
from localforce.data.ports import RecordStore
from localforce.storage.sql import tables as t
from localforce.storage.sql.engine import single_statement_reader
from localforce.storage.sql.record_store import SqlRecordStore
from localforce.storage.sql.record_tables import table_name

log = logging.getLogger("localforce.storage")

J = t.bulk_jobs.c
P = t.bulk_job_parts.c

_FIELDS = ("id", "org_id", "user_id", "kind", "operation", "object", "api_version", "state",
           "created_at", "modified_at", "external_id_field", "column_delimiter", "line_ending",
           "query", "columns", "bytes_uploaded", "rows_done", "records_processed",
           "records_failed", "processing_ms", "error_message", "runner", "lease_until",
           "parent_id", "content_type")


#: PostgreSQL: a finished load of at least this many rows and this share of the table's rows
#: at its last analysis analyzes the table (autovacuum's own defaults for when to analyze).
ANALYZE_ROWS, ANALYZE_SHARE = 50, 0.1
#: The operations of jobs (and Bulk API 1.0 batches) that read: they change no table.
QUERIES = frozenset({"query", "queryAll"})

#: ``usage``'s statement, built once: ``GET /limits`` reads it on every call.
_USAGE = select(
    func.count().filter(J.kind == "query"),
    func.coalesce(func.sum(case(
        (J.kind == "batch", 1),
        (J.kind == "ingest", (J.rows_done + 9999) / 10000), else_=0)), 0),
).where(J.org_id == bindparam("org_id"), J.created_at >= bindparam("since"))


def _job(row: Any) -> Job:
    values = dict(row._mapping)
    values["columns"] = list(values["columns"] or [])
    return Job(**values)


class _SqlBatchLog:
    def __init__(self, connection: Connection, job: Job, runner: str) -> None:
        self._c, self._job, self._runner = connection, job, runner

    def add_part(self, kind: str, data: bytes, rows: int) -> None:
        # seq: the first row's number, unique per kind and increasing with the job
        self._c.execute(insert(t.bulk_job_parts).values(
            job_id=self._job.id, kind=kind, seq=self._job.rows_done, rows=rows, data=data))

    def advance(self, rows: int, processed: int, failed: int, processing_ms: int,
                lease_until: int, columns: Sequence[str] | None = None) -> None:
        values: dict[str, Any] = {
            "rows_done": J.rows_done + rows, "records_processed": J.records_processed + processed,
            "records_failed": J.records_failed + failed,
            "processing_ms": J.processing_ms + processing_ms, "lease_until": lease_until}
        if columns is not None:
            values["columns"] = list(columns)
        done = self._c.execute(update(t.bulk_jobs).where(
            J.id == self._job.id, J.runner == self._runner, J.state == "InProgress",
            J.rows_done == self._job.rows_done).values(**values))
        if done.rowcount != 1:
            raise LeaseLost(self._job.id)


#: SQLite's page cache for a Bulk transaction's connection. Its 10,000 rows dirty more pages
#: than the default 2 MiB holds, and SQLite then wrote pages to the WAL in the middle of the
#: transaction that it wrote again at the commit (bench/README.md: -3 % CPU a row).
BATCH_PAGE_CACHE_KIB = 32 * 1024


@contextmanager
def _page_cache(connection: Connection, kib: int) -> Iterator[None]:
    """``kib`` of page cache on ``connection`` for the block, then its own size again (a
    pooled connection keeps its settings: left behind, the larger cache could fill on every
    connection of the pool)."""
    before = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    except BaseException:
        with suppress(Exception):  # the block's own error is the one to see
            connection.exec_driver_sql(f"PRAGMA cache_size = {before}")
        raise
    connection.exec_driver_sql(f"PRAGMA cache_size = {before}")


class SqlBulkStore:
    def __init__(self, engine: Engine, records: SqlRecordStore) -> None:
        self._engine, self._records = engine, records
        self._reader = single_statement_reader(engine)  # one SELECT, no write lock

    def create(self, job: Job, upload: bytes | None = None) -> None:
        with self._engine.begin() as c:
            c.execute(insert(t.bulk_jobs).values(**{f: getattr(job, f) for f in _FIELDS}))
            if upload is not None:
                c.execute(insert(t.bulk_job_parts).values(job_id=job.id, kind=UPLOAD, seq=0,
                                                          rows=0, data=upload))

    def get(self, job_id: str) -> Job | None:
        with self._reader.connect() as c:
            row = c.execute(select(t.bulk_jobs).where(J.id == job_id)).first()
        return _job(row) if row is not None else None

    def list(self, org_id: str, kind: str, limit: int, after: tuple[int, str] | None = None,
             filters: dict[str, str] | None = None) -> list[Job]:
        query = select(t.bulk_jobs).where(J.org_id == org_id, J.kind == kind)
        for name, value in (filters or {}).items():
            query = query.where(getattr(J, name) == value)
        if after is not None:
            query = query.where(tuple_(J.created_at, J.id) > tuple_(*after))
        with self._reader.connect() as c:
            rows = c.execute(query.order_by(J.created_at, J.id).limit(limit)).all()
        return [_job(r) for r in rows]

    def transition(self, job_id: str, from_states: Sequence[str], state: str, now: int,
                   error_message: str | None = None) -> bool:
        with self._engine.begin() as c:
            done = c.execute(update(t.bulk_jobs).where(
                J.id == job_id, J.state.in_(list(from_states))).values(
                state=state, modified_at=now, error_message=error_message))
        return done.rowcount == 1

    def add_part(self, job_id: str, kind: str, seq: int, data: bytes, rows: int = 0) -> None:
        with self._engine.begin() as c:
            c.execute(insert(t.bulk_job_parts).values(job_id=job_id, kind=kind, seq=seq,
                                                      rows=rows, data=data))

    def part_count(self, job_id: str, kind: str) -> int:
        with self._reader.connect() as c:
            return int(c.execute(select(func.count()).where(
                P.job_id == job_id, P.kind == kind)).scalar_one())

    def parts(self, job_id: str, kind: str, start_seq: int = 0
              ) -> Iterator[tuple[int, int, bytes]]:
        seq = start_seq - 1
        while True:
            with self._reader.connect() as c:
                row = c.execute(select(P.seq, P.rows, P.data).where(
                    P.job_id == job_id, P.kind == kind, P.seq > seq)
                    .order_by(P.seq).limit(1)).first()
            if row is None:
                return
            seq = row.seq
            yield int(row.seq), int(row.rows), bytes(row.data)

    def set_uploaded(self, job_id: str, size: int, now: int) -> None:
        with self._engine.begin() as c:
            c.execute(update(t.bulk_jobs).where(J.id == job_id).values(
                bytes_uploaded=size, modified_at=now))

    def drop_parts(self, job_id: str, kind: str) -> None:
        with self._engine.begin() as c:
            c.execute(delete(t.bulk_job_parts).where(P.job_id == job_id, P.kind == kind))

    def delete(self, job_id: str) -> None:
        with self._engine.begin() as c:
            c.execute(delete(t.bulk_job_parts).where(P.job_id == job_id))
            c.execute(delete(t.bulk_jobs).where(J.id == job_id))

    def usage(self, org_id: str, since: int) -> tuple[int, int]:
        with self._reader.connect() as c:
            queries, batches = c.execute(_USAGE, {"org_id": org_id, "since": since}).one()
        return int(queries), int(batches)

    def claim(self, runner: str, now: int, lease_ms: int) -> Job | None:
        claimable = or_(J.state == "UploadComplete",
                        and_(J.state == "InProgress", J.lease_until < now))
        with self._reader.connect() as c:  # idle runners poll without taking the write lock
            if c.execute(select(J.id).where(claimable).limit(1)).first() is None:
                return None
        with self._engine.begin() as c:
            found = c.execute(select(J.id, J.state, J.runner).where(claimable)
                              .order_by(J.modified_at, J.id).limit(1)).first()
            if found is None:
                return None
            done = c.execute(update(t.bulk_jobs).where(
                J.id == found.id, J.state == found.state,
                (J.runner == found.runner) if found.runner else J.runner.is_(None)).values(
                state="InProgress", runner=runner, lease_until=now + lease_ms,
                modified_at=now))
            if done.rowcount != 1:
                return None  # another runner was first
            row = c.execute(select(t.bulk_jobs).where(J.id == found.id)).one()
        return _job(row)

    @contextmanager
    def batch(self, job: Job, runner: str) -> Iterator[tuple[RecordStore, BatchLog]]:
        sqlite = self._engine.dialect.name == "sqlite"
        with self._records.transaction() as records:
            if not sqlite:
                yield records, _SqlBatchLog(records.connection, job, runner)
            else:
                with _page_cache(records.connection, BATCH_PAGE_CACHE_KIB):
                    yield records, _SqlBatchLog(records.connection, job, runner)
        if sqlite:
            self._checkpoint()

    def _checkpoint(self) -> None:
        """Fold the WAL back into the database after each big transaction. SQLite's own
        checkpoints are passive: with readers coming and going (pollers, other workers) the
        WAL was never reset and grew to 17 GB over a 10^6-row job; this one waits for the
        readers of older snapshots (busy timeout) and truncates it."""
        with self._engine.connect() as c:
            c.connection.driver_connection.execute(  # type: ignore[union-attr]
                "PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def finish(self, job_id: str, runner: str, state: str, now: int,
               error_message: str | None = None) -> bool:
        with self._engine.begin() as c:
            finished = c.execute(update(t.bulk_jobs).where(
                J.id == job_id, J.runner == runner, J.state == "InProgress").values(
                state=state, modified_at=now, error_message=error_message, lease_until=None)
                .returning(J.operation, J.object, J.records_processed)).first()
        if finished is not None and finished.object and finished.operation not in QUERIES \
                and self._engine.dialect.name == "postgresql":
            self._analyze_after_load(table_name(finished.object), finished.records_processed)
        return finished is not None

    def _analyze_after_load(self, table: str, rows: int) -> None:
        """PostgreSQL settles on a generic plan for a prepared statement when it costs no
        more than the custom ones, and a table a load has just filled has no statistics until
        autovacuum analyzes it: the record reads' generic plans made without them walked the
        table in Id order for ``WHERE Name =`` (bench/README.md). A load as large as
        autovacuum's own threshold analyzes the table when it finishes, so the first queries
        after it are planned with statistics. Best effort: the job is done either way."""
        try:
            with self._engine.connect() as c:
                tuples = c.execute(text("SELECT reltuples FROM pg_class "
                                        "WHERE oid = to_regclass(:name)"),
                                   {"name": table}).scalar()
                if tuples is None or rows < ANALYZE_ROWS + ANALYZE_SHARE * max(tuples, 0):
                    return  # not a table of its own (a directory object), or a small load
                quoted = self._engine.dialect.identifier_preparer.quote(table)
                c.exec_driver_sql(f"ANALYZE {quoted}")
                c.commit()
        except DBAPIError:
            log.warning("analyzing %s after a bulk load", table, exc_info=True)
