"""The Bulk job runner: a background thread in each ``serve`` worker.

It claims a closed job (``UploadComplete``, or ``InProgress`` under a runner whose lease ran
out: a stopped or killed process), then reads the upload a row at a time and applies
``ROWS_PER_TRANSACTION`` rows per transaction through ``Records`` — the same permissions,
validation and derived fields as the REST API; a row's error is its ``sf__Error``. Each
transaction commits the records, their result rows and the job's progress together, so a job
resumes after its last committed row and is never half-applied without saying so. Before the
first row the whole upload is parsed once: a malformed file fails the job with its line
number and no record written.
"""

from __future__ import annotations

import csv
import gc
import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from localforce.data.bulk import classic, csvio, inserts
from localforce.data.bulk import query as bulk_query
from localforce.data.bulk.ingest import ABORTED, COMPLETE, FAILED_STATE
from localforce.data.bulk.ports import (
    FAILED,
    RESULT,
    SUCCESS,
    UPLOAD,
    BulkStore,
    Job,
    LeaseLost,
)
from localforce.data.errors import ApiError, BadRequest
from localforce.data.plan import QueryPlan
from localforce.data.query import QueryService
from localforce.data.records import Records, SaveResult
from localforce.domain.principal import Principal

log = logging.getLogger(__name__)

ROWS_PER_TRANSACTION = 10_000
#: A runner renews its lease with every transaction; a job whose lease ran out is resumed.
LEASE_SECONDS = 60.0
IDLE_WAIT = 1.0

PrincipalOf = Callable[[str, str], "Principal | None"]


def sf_error(exc: ApiError) -> str:
    """``REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --``."""
    return f"{exc.error_code}:{exc.message}:{','.join(exc.fields or [])} --"


class Runner:
    def __init__(self, store: BulkStore, records: Records, principal_of: PrincipalOf,
                 clock: Callable[[], float], lease_seconds: float = LEASE_SECONDS,
                 rows_per_transaction: int = ROWS_PER_TRANSACTION,
                 queries: QueryService | None = None) -> None:
        self.store, self.records, self.principal_of, self.clock = (
            store, records, principal_of, clock)
        self.queries = queries
        self.lease_ms = int(lease_seconds * 1000)
        self.rows_per_transaction = rows_per_transaction
        self.name = uuid.uuid4().hex
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the background thread ------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="bulk-runner", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # a database outage: try again later, never die
                log.exception("bulk runner")
                busy = False
            if not busy:
                self._wake.wait(IDLE_WAIT)
                self._wake.clear()

    # -- processing ----------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.clock() * 1000)

    def run_once(self) -> bool:
        """Process one claimable job to its end; False when there was none."""
        job = self.store.claim(self.name, self._now(), self.lease_ms)
        if job is None:
            return False
        try:
            self.process(job)
        except LeaseLost:
            pass  # aborted meanwhile, or another runner took it over
        except Exception as exc:  # a bug or an outage: the job says so, never half-silent
            log.exception("bulk job %s", job.id)
            self.store.finish(job.id, self.name, FAILED_STATE, self._now(),
                              f"InternalServerError : {type(exc).__name__}; records of the "
                              "transactions before it were committed")
        return True

    def run_pending(self) -> None:
        while not self._stop.is_set() and self.run_once():
            pass

    def process(self, job: Job) -> None:
        principal = self.principal_of(job.org_id, job.user_id)
        if principal is None:
            self.store.finish(job.id, self.name, FAILED_STATE, self._now(),
                              "InvalidUser : the job's user is inactive or gone")
            return
        if job.kind == "query":
            return self._query(principal, job)
        if job.kind == "batch":
            return self._classic(principal, job)
        if not self.store.part_count(job.id, UPLOAD):
            self.store.finish(job.id, self.name, FAILED_STATE, self._now(),
                              "ClientInputError : No data was uploaded for this job")
            return
        try:
            if job.rows_done == 0:
                self._check(job)
            reader = csvio.Reader(self._upload(job), job.column_delimiter)
            columns = self._columns(principal, job, reader.header)
        except (csvio.CsvError, BadRequest) as exc:
            message = str(exc) if isinstance(exc, csvio.CsvError) else \
                f"InvalidBatch : {exc.message}"
            self.store.finish(job.id, self.name, FAILED_STATE, self._now(), message)
            return
        rows = iter(reader)
        for _ in range(job.rows_done):
            next(rows, None)
        while self._batch(principal, job, columns, reader.header, rows):
            pass
        self.store.finish(job.id, self.name, COMPLETE, self._now())

    def _query(self, principal: Principal, job: Job, soql: str | None = None,
               render: Callable[[QueryPlan, list[Any]], bytes] | None = None) -> None:
        """Page through the result by keyset, a part per transaction; a resumed job starts
        after the rows its parts already hold. ``render``: a page as stored (CSV rows by
        default)."""
        assert self.queries is not None
        try:
            plan = self.queries.plan(principal, soql or str(job.query),
                                     job.operation == "queryAll")
            if plan.aggregate or plan.count_only:
                raise BadRequest("InvalidBatch", "Aggregate queries are not supported")
        except ApiError as exc:  # the object or a field went away, or the right to read it
            self.store.finish(job.id, self.name, FAILED_STATE, self._now(),
                              f"{exc.error_code} : {exc.message}")
            return
        columns = bulk_query.header(plan)
        delimiter = csvio.DELIMITERS[job.column_delimiter]
        ending = csvio.LINE_ENDINGS[job.line_ending]
        cells = bulk_query.formatters(plan)
        render = render or (lambda p, rows: bulk_query.rows_to_csv(p, rows, delimiter, ending,
                                                                   cells))
        limit = plan.select.limit
        after: Any = None
        while True:
            size = bulk_query.RESULT_PART_ROWS if limit is None else min(
                bulk_query.RESULT_PART_ROWS, limit - job.rows_done)
            if size <= 0:
                break
            started = time.monotonic()
            # Read and render before taking the write lock: held only to store the part (a
            # 20,000-row read under load kept other writers, token touches included, waiting).
            keyed = self.queries.store.page(
                plan, size, offset=0 if after is not None else
                (plan.select.offset or 0) + job.rows_done, after=after)
            rows = [row for row, _ in keyed]
            part = render(plan, rows) if rows else b""
            with self.store.batch(job, self.name) as (_, batch_log):
                if rows:
                    batch_log.add_part(RESULT, part, len(rows))
                elapsed = int((time.monotonic() - started) * 1000)
                batch_log.advance(len(rows), len(rows), 0, elapsed,
                                  self._now() + self.lease_ms, columns)
            job.rows_done += len(rows)
            if len(rows) < size:
                break
            after = keyed[-1][1]
        self.store.finish(job.id, self.name, COMPLETE, self._now())

    def _classic(self, principal: Principal, job: Job) -> None:
        """A Bulk API 1.0 batch: all its records in one transaction (at most 10,000)."""
        data = b"".join(d for _, _, d in self.store.parts(job.id, UPLOAD))
        if job.operation in ("query", "queryAll"):
            assert self.queries is not None
            queries = self.queries
            if job.content_type == "JSON":
                def fragment(plan: QueryPlan, rows: list[Any]) -> bytes:
                    return json.dumps(queries.records(plan, job.api_version, rows))[1:-1] \
                        .encode("utf-8")
                return self._query(principal, job, data.decode("utf-8", "replace"), fragment)
            return self._query(principal, job, data.decode("utf-8", "replace"))
        try:
            bodies = classic.parse_batch(job, data)
        except (BadRequest, csv.Error, UnicodeError) as exc:
            message = exc.message if isinstance(exc, BadRequest) else str(exc)
            self.store.finish(job.id, self.name, FAILED_STATE, self._now(),
                              f"InvalidBatch : {message}")
            return
        parsed = [(str(next((b.pop(k) for k in list(b) if k.lower() == "id"), "") or ""), b)
                  for b in bodies]
        started = time.monotonic()
        with self.store.batch(job, self.name) as (store, batch_log):
            records = self.records.with_store(store, cached_schema=True)
            results = self._results(records, principal, job, parsed)
            rows = [("", False, False, r) if isinstance(r, ApiError) else (r[0], True, r[1], None)
                    for r in results]
            n_failed = sum(1 for r in rows if r[3] is not None)
            batch_log.add_part(RESULT, classic.result_csv(rows), len(rows))
            batch_log.advance(len(rows), len(rows), n_failed,
                              int((time.monotonic() - started) * 1000),
                              self._now() + self.lease_ms)
        self.store.finish(job.id, self.name, COMPLETE, self._now())

    def _upload(self, job: Job) -> Any:
        return (data for _, _, data in self.store.parts(job.id, UPLOAD))

    def _check(self, job: Job) -> None:
        """Parse the whole upload once before any row is applied."""
        for _ in csvio.Reader(self._upload(job), job.column_delimiter):
            pass

    def _columns(self, principal: Principal, job: Job, header: list[str]) -> list[Any]:
        """Per column: a field name, or ``(relationship, external id field)`` for
        ``Account.Ext__c``; unknown names fail the job as Salesforce does."""
        assert job.object is not None
        obj = self.records.object(principal, job.object)
        out: list[Any] = []
        for name in header:
            rel, dot, key = name.partition(".")
            if dot and obj.relationship(rel) is not None:
                out.append((rel, key))
            elif obj.field(name) is not None or (
                    name.lower().endswith("__c") and self._refreshed_field(principal, job, name)):
                out.append(name)
            else:
                raise BadRequest("INVALID_FIELD", f"Field name not found : {name}")
        if job.operation in ("update", "delete", "hardDelete") and "id" not in (
                c.lower() for c in out if isinstance(c, str)):
            raise BadRequest("INVALID_FIELD", "The Id field is required for "
                             f"{job.operation}")
        if job.operation == "upsert" and (job.external_id_field or "").lower() not in (
                c.lower() for c in out if isinstance(c, str)):
            raise BadRequest("INVALID_FIELD", f"The external ID field "
                             f"{job.external_id_field} is not in the header")
        return out

    def _refreshed_field(self, principal: Principal, job: Job, name: str) -> bool:
        schema = self.records.schema_for(principal.org_id)
        obj = schema.refreshed(str(job.object))
        return obj is not None and obj.field(name) is not None

    def _batch(self, principal: Principal, job: Job, columns: list[Any], header: list[str],
               rows: Any) -> bool:
        """Apply up to ``rows_per_transaction`` rows in one transaction; False when none was
        left."""
        started = time.monotonic()
        ok, failed = csvio.Writer(), csvio.Writer()
        with _cyclic_gc_paused(), self.store.batch(job, self.name) as (store, batch_log):
            taken = list(itertools.islice(rows, self.rows_per_transaction))
            if not taken:
                return False
            records = self.records.with_store(store, cached_schema=True)
            done, bad = [], []
            by_column = self._insert_columns(records, principal, job, columns, taken) \
                if job.operation == "insert" else None
            if by_column is not None:
                for (_, row), (given_id, inserted) in zip(taken, by_column, strict=True):
                    if inserted.__class__ is str:
                        done.append([inserted, "true", *row])
                    else:
                        bad.append([given_id, sf_error(inserted), *row])  # type: ignore[arg-type]
            else:
                parsed = _bodies(columns, [row for _, row in taken])
                results = self._results(records, principal, job, parsed)
                for (_, row), (given_id, _), result in zip(taken, parsed, results, strict=True):
                    if result.__class__ is tuple:
                        done.append([result[0], "true" if result[1] else "false", *row])
                    else:
                        bad.append([given_id, sf_error(result), *row])  # type: ignore[arg-type]
            ok.rows_of(done)
            failed.rows_of(bad)
            n_failed = failed.rows
            if ok.rows:
                batch_log.add_part(SUCCESS, ok.take(), len(taken) - n_failed)
            if n_failed:
                batch_log.add_part(FAILED, failed.take(), n_failed)
            elapsed = int((time.monotonic() - started) * 1000)
            batch_log.advance(len(taken), len(taken), n_failed, elapsed,
                              self._now() + self.lease_ms, header)
        job.rows_done += len(taken)
        job.columns = header
        return len(taken) >= self.rows_per_transaction

    @staticmethod
    def _insert_columns(records: Records, principal: Principal, job: Job, columns: list[Any],
                        taken: list[tuple[int, list[str]]]
                        ) -> list[tuple[str, str | ApiError]] | None:
        """An insert's rows a column at a time (``inserts.insert``): per row its given Id and
        the new record's Id or its error, as ``_results`` gives them; None when the rows go a
        body at a time (a relationship column, or what ``inserts.insert`` leaves to it)."""
        if any(c.__class__ is not str for c in columns):
            return None
        ids_at = [n for n, c in enumerate(columns) if c.lower() == "id"]
        plain = [n for n, c in enumerate(columns) if c.lower() != "id"]
        given_ids = [""] * len(taken)
        if ids_at:
            for k, (_, row) in enumerate(taken):
                for n in ids_at:
                    if row[n] != "":
                        given_ids[k] = row[n]
        passed = [row for (_, row), given in zip(taken, given_ids, strict=True) if not given]
        inserted = inserts.insert(records, principal, str(job.object),
                                  [columns[n] for n in plain],
                                  [[row[n] for n in plain] for row in passed] if ids_at else passed)
        if inserted is None:
            return None
        if len(passed) == len(taken):
            return list(zip(given_ids, inserted, strict=True))
        results = iter(inserted)
        return [(given, next(results) if not given else BadRequest(
            "INVALID_FIELD_FOR_INSERT_UPDATE", "Id not allowed on insert", ["Id"]))
            for given in given_ids]

    def _results(self, records: Records, principal: Principal, job: Job,
                 parsed: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, bool] | ApiError]:
        """Per row: ``(Id, created)`` or the error. The rows a job's operation can take go to
        ``Records``' many-record calls together (``create_many``, ``update_many``,
        ``upsert_many``, ``delete_many``); a row without the Id or external ID it needs fails
        here first, as it did before any record was looked at."""
        sobject, operation = str(job.object), job.operation
        out: list[tuple[str, bool] | ApiError | None] = []
        keys: list[str] = []
        bodies: list[dict[str, Any]] = []
        external = str(job.external_id_field)
        for record_id, body in parsed:
            if operation == "insert":
                key = ""
                error: ApiError | None = BadRequest(
                    "INVALID_FIELD_FOR_INSERT_UPDATE", "Id not allowed on insert", ["Id"]
                ) if record_id else None
            elif operation == "upsert":
                key, error = _external_value(external, record_id, body)
            else:
                key = record_id
                error = None if record_id else BadRequest(
                    "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
            out.append(error)
            if error is None:
                keys.append(key)
                bodies.append(body)
        if operation == "insert":
            done = records.create_many(principal, sobject, bodies)
        elif operation == "update":
            done = records.update_many(principal, sobject, list(zip(keys, bodies, strict=True)))
        elif operation == "upsert":
            done = records.upsert_many(principal, sobject, external,
                                       list(zip(keys, bodies, strict=True)), job.api_version)
        else:
            done = records.delete_many(principal, sobject, keys, operation == "hardDelete")
        if not any(out):  # no row failed before Records looked at it
            return [r if isinstance(r, ApiError) else (r.id, r.created) for r in done]
        applied = iter(done)
        return [r if r is not None else _saved(next(applied)) for r in out]


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a transaction's rows are prepared and written:
    its ~10^5 live row objects triggered collections of the whole heap, a large share of the
    insert's CPU (bench/README.md, sixth Bulk pass). Reference counting frees them as
    before; cycles made meanwhile (by any thread) wait for the next collection after it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _external_value(external: str, record_id: str, body: dict[str, Any]
                    ) -> tuple[str, ApiError | None]:
    """An upsert row's external ID value (taken out of its body), or why it has none."""
    if external.lower() == "id":
        return record_id, None
    key = next((k for k in body if k.lower() == external.lower()), None)
    given = body.pop(key) if key is not None else None
    value = "" if given is None else str(given)
    if not value:
        return "", BadRequest("MISSING_ARGUMENT", f"{external} not specified", [external])
    return value, None


def _bodies(columns: list[Any], rows: list[list[str]]) -> list[tuple[str, dict[str, Any]]]:
    """CSV rows as the given Id and a REST body each: ``#N/A`` is null, empty is left out (it
    leaves the field alone). What each column is, is worked out once for all the rows."""
    plain = [(n, c) for n, c in enumerate(columns) if isinstance(c, str) and c.lower() != "id"]
    ids_at = [n for n, c in enumerate(columns) if isinstance(c, str) and c.lower() == "id"]
    related = any(isinstance(c, tuple) for c in columns)
    null = csvio.NULL
    out = []
    for row in rows:
        body: dict[str, Any]
        if related:  # in column order, as the body's errors are found
            body = {}
            for n, column in enumerate(columns):
                if row[n] == "" or n in ids_at:
                    continue
                value = None if row[n] == null else row[n]
                if isinstance(column, tuple):
                    body[column[0]] = {column[1]: value}
                else:
                    body[column] = value
        else:
            body = {name: None if row[n] == null else row[n] for n, name in plain
                    if row[n] != ""}
        record_id = ""
        for n in ids_at:
            if row[n] != "":
                record_id = row[n]
        out.append((record_id, body))
    return out


def _saved(result: SaveResult | ApiError) -> tuple[str, bool] | ApiError:
    return result if isinstance(result, ApiError) else (result.id, result.created)


__all__ = ["ABORTED", "Runner", "sf_error"]
