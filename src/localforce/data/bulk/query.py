"""``/services/data/vNN.0/jobs/query``: Bulk API 2.0 query jobs (Bulk API 2.0 Developer Guide,
"Query Jobs"; what simple-salesforce's bulk2.py and jsforce's bulk2.js read).

Creating a job checks the SOQL at once (a malformed query is the create call's 400); the
runner then pages through the result by keyset, ``RESULT_PART_ROWS`` rows a part, and stores
it as CSV. ``GET …/results?maxRecords=N&locator=L`` answers a page of it with the header row,
``Sforce-NumberOfRecords`` and ``Sforce-Locator`` (the next page's, or ``null``), reading a
part at a time.
"""

from __future__ import annotations

import base64
import csv
import io
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from localforce.data.access import require_api
from localforce.data.bulk import csvio
from localforce.data.bulk.ingest import (
    ABORTED,
    COMPLETE,
    IN_PROGRESS,
    JOB_PREFIX,
    UPLOAD_COMPLETE,
    InvalidJobState,
    JobResource,
    wire_time,
)
from localforce.data.bulk.ports import RESULT, BulkStore, Job
from localforce.data.errors import BadRequest
from localforce.data.plan import ChildPlan, Path, QueryPlan
from localforce.data.query import QueryService
from localforce.data.schema import TEXT_TYPES, FieldDef
from localforce.domain import ids
from localforce.domain.principal import Principal

OPERATIONS = ("query", "queryAll")
RESULT_PART_ROWS = 20_000
DEFAULT_MAX_RECORDS = 50_000  # simple-salesforce's page size too
NULL_LOCATOR = "null"


def job_info(job: Job, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": job.id, "operation": job.operation, "object": job.object,
        "createdById": job.user_id, "createdDate": wire_time(job.created_at),
        "systemModstamp": wire_time(job.modified_at), "state": job.state,
        "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": float(job.api_version),
        "jobType": "V2Query", "lineEnding": job.line_ending,
        "columnDelimiter": job.column_delimiter}
    if full:
        out.update({"numberRecordsProcessed": job.records_processed, "retries": 0,
                    "totalProcessingTime": job.processing_ms})
        if job.error_message:
            out["errorMessage"] = job.error_message
    return out


def header(plan: QueryPlan) -> list[str]:
    return [".".join([*(h.lookup.relationship_name or h.lookup.name for h in path.hops),
                      path.field.name])
            for kind, _, path in plan.outputs if kind != "child" and isinstance(path, Path)]


Cell = Callable[[Any], str]


def _number(value: Any) -> str:
    if value is None:
        return ""
    number = float(value)
    return str(number) if math.isfinite(number) else ""


def _integer(value: Any) -> str:
    return "" if value is None else str(int(value))


def _boolean(value: Any) -> str:
    return "" if value is None else "true" if value else "false"


def _other(value: Any) -> str:
    return "" if value is None else "true" if value is True else "false" \
        if value is False else str(value)


def _cell(f: FieldDef) -> Cell | None:
    """How a stored value of ``f`` is written: its wire value (``to_wire``) as Salesforce's
    CSV has it, null as empty; chosen once per column, not per value. None: as stored (text;
    the CSV writer writes null as empty itself)."""
    kind = f.type
    if kind == "address":
        return lambda _: ""
    if kind == "base64":
        url = f"/{f.name}"  # to_wire's blob URL, relative to no record
        return lambda value: "" if value is None else url
    if kind in ("double", "currency", "percent"):
        return _number
    if kind in ("int", "long"):
        return _integer
    if kind == "boolean":
        return _boolean
    if kind in TEXT_TYPES or kind in ("id", "reference", "date", "datetime"):
        return None
    return _other


def formatters(plan: QueryPlan) -> list[tuple[int, Cell | None]]:
    """Per CSV column (``header``'s order): the result column it reads and its writer."""
    return [(spec[0], _cell(path.field)) for kind, spec, path in plan.outputs
            if kind != "child" and isinstance(path, Path)]


def encode_locator(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


def decode_locator(value: str | None) -> int:
    if not value or value == NULL_LOCATOR:
        return 0
    try:
        return int(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode())
    except (ValueError, UnicodeError):
        raise BadRequest("INVALID_LOCATOR", f"Invalid locator: {value}") from None


class QueryJobs(JobResource):
    kind = "query"

    def __init__(self, store: BulkStore, queries: QueryService, clock: Callable[[], float],
                 wake: Callable[[], None] = lambda: None) -> None:
        super().__init__(store, clock, wake)
        self.queries = queries

    def render(self, job: Job, full: bool = True) -> dict[str, Any]:
        return job_info(job, full)

    def create(self, principal: Principal, body: Any, version: str) -> dict[str, Any]:
        require_api(principal)
        if not isinstance(body, Mapping):
            raise BadRequest("JSON_PARSER_ERROR", "The request body must be a JSON object")
        operation = body.get("operation", "query")
        if operation not in OPERATIONS:
            raise BadRequest("INVALIDJOB", f"Invalid operation: {operation}. Allowed values: "
                             "query, queryAll")
        soql = body.get("query")
        if not isinstance(soql, str) or not soql.strip():
            raise BadRequest("INVALIDJOB", "Required field 'query' is missing")
        delimiter = body.get("columnDelimiter", "COMMA")
        ending = body.get("lineEnding", "LF")
        if delimiter not in csvio.DELIMITERS or ending not in csvio.LINE_ENDINGS:
            raise BadRequest("INVALIDJOB", "Invalid columnDelimiter or lineEnding")
        plan = self.queries.plan(principal, soql, operation == "queryAll")
        if plan.aggregate or plan.count_only or any(
                isinstance(c, ChildPlan) for _, c, _ in plan.outputs):
            raise BadRequest("INVALIDJOB", "Aggregate queries, COUNT() and subqueries are "
                             "not supported by Bulk API 2.0 query jobs")
        self.check_allocation(principal.org_id, "DailyBulkV2QueryJobs")
        now = self._now()
        job = Job(ids.new_id(JOB_PREFIX), principal.org_id, principal.user_id, "query",
                  operation, plan.root.name, version, UPLOAD_COMPLETE, now, now,
                  column_delimiter=delimiter, line_ending=ending, query=soql)
        self.store.create(job)
        self.wake()
        return job_info(job, full=False)

    def abort(self, principal: Principal, job_id: str, body: Any) -> dict[str, Any]:
        job = self.job(principal, job_id)
        if not isinstance(body, Mapping) or body.get("state") != ABORTED:
            raise BadRequest("INVALIDJOBSTATE", "A query job can only be set to Aborted")
        if not self.store.transition(job.id, (UPLOAD_COMPLETE, IN_PROGRESS), ABORTED,
                                     self._now()):
            raise InvalidJobState(f"Cannot abort job {job.id}: its state is {job.state}")
        return job_info(self.job(principal, job_id), full=False)

    def results(self, principal: Principal, job_id: str, locator: str | None,
                max_records: str | None) -> tuple[Iterator[bytes], dict[str, str]]:
        """A page of the result as CSV chunks, and its ``Sforce-*`` headers."""
        job = self.job(principal, job_id)
        if job.state != COMPLETE:
            raise InvalidJobState(f"Job {job.id} is {job.state}: results are available when "
                                  f"it is {COMPLETE}")
        try:
            limit = int(max_records) if max_records else DEFAULT_MAX_RECORDS
        except ValueError:
            raise BadRequest("INVALIDPARAMETER", "maxRecords must be a number") from None
        if limit <= 0:
            raise BadRequest("INVALIDPARAMETER", "maxRecords must be greater than 0")
        start = decode_locator(locator)
        total = job.records_processed
        if start > total:
            raise BadRequest("INVALID_LOCATOR", f"Invalid locator: {locator}")
        end = min(total, start + limit)
        headers = {"Sforce-NumberOfRecords": str(end - start),
                   "Sforce-Locator": encode_locator(end) if end < total else NULL_LOCATOR}
        return self._page(job, start, end), headers

    def _page(self, job: Job, start: int, end: int) -> Iterator[bytes]:
        delimiter = csvio.DELIMITERS[job.column_delimiter]
        ending = csvio.LINE_ENDINGS[job.line_ending]
        yield _line(job.columns, delimiter, ending)
        if start >= end:
            return
        for first, rows, data in self.store.parts(job.id, RESULT):
            last = first + rows
            if last <= start:
                continue
            if first >= end:
                return
            if start <= first and last <= end:
                yield data
                continue
            out = io.StringIO()
            writer = csv.writer(out, delimiter=delimiter, lineterminator=ending,
                                quoting=csv.QUOTE_ALL)
            reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""),
                                delimiter=delimiter)
            for n, values in enumerate(reader, start=first):
                if start <= n < end:
                    writer.writerow(values)
            yield out.getvalue().encode("utf-8")


def _line(values: list[str], delimiter: str, ending: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=ending,
               quoting=csv.QUOTE_ALL).writerow(values)
    return out.getvalue().encode("utf-8")


def rows_to_csv(plan: QueryPlan, rows: list[Any], delimiter: str, ending: str,
                cells: list[tuple[int, Cell | None]] | None = None) -> bytes:
    """``cells``: ``formatters(plan)``, worked out once per job rather than per page. Text
    columns go to the CSV writer as they are; only the others are converted."""
    cells = cells if cells is not None else formatters(plan)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=ending, quoting=csv.QUOTE_ALL)
    picked = [at for at, _ in cells]
    converted = [(n, cell) for n, (_, cell) in enumerate(cells) if cell is not None]
    if converted:
        def line(row: Any) -> list[Any]:
            values = [row[at] for at in picked]
            for n, cell in converted:
                values[n] = cell(values[n])
            return values
        writer.writerows(map(line, rows))
    elif rows and picked == list(range(len(rows[0]))):
        writer.writerows(rows)  # every column text, in order: as the rows are
    else:
        writer.writerows([row[at] for at in picked] for row in rows)
    return out.getvalue().encode("utf-8")
