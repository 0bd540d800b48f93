"""``/services/data/vNN.0/jobs/ingest``: Bulk API 2.0 ingest jobs (Bulk API 2.0 Developer
Guide, "Ingest Jobs"; the fields simple-salesforce's bulk2.py and jsforce's bulk2.js read).

State machine: ``Open`` (upload) -> ``UploadComplete`` (closed by the client) -> ``InProgress``
(the runner took it) -> ``JobComplete`` | ``Failed``; ``Open``, ``UploadComplete`` and
``InProgress`` may be ``Aborted``. Only the job's creator sees it.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from localforce.data.access import require_api
from localforce.data.bulk import csvio
from localforce.data.bulk.ports import FAILED, SUCCESS, UPLOAD, BulkStore, Job
from localforce.data.errors import ApiError, BadRequest, NotFound
from localforce.data.records import Records
from localforce.data.values import format_datetime
from localforce.domain import ids
from localforce.domain.principal import Principal

OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
OPEN, UPLOAD_COMPLETE, IN_PROGRESS = "Open", "UploadComplete", "InProgress"
COMPLETE, FAILED_STATE, ABORTED = "JobComplete", "Failed", "Aborted"
FINAL = (COMPLETE, FAILED_STATE, ABORTED)
#: Salesforce takes up to 150 MB of CSV per upload.
MAX_UPLOAD = 150 * 1024 * 1024
#: Stored parts of an upload are at most this long.
PART_SIZE = 1024 * 1024
LIST_PAGE = 1000
JOB_PREFIX = "750"
#: Developer Edition's daily allocations (data/limits.py lists the same).
DAILY_BATCHES, DAILY_QUERY_JOBS = 15_000, 10_000
DAY_MS = 24 * 3600 * 1000


HARD_DELETE_REFUSED = ("hardDelete requires the Bulk API Hard Delete permission, which the "
                       "user's profile or permission sets do not grant")


class FeatureNotEnabled(ApiError):
    """The code Salesforce answers a hardDelete job without "Bulk API Hard Delete" with (the
    sf CLI's ``data delete bulk --hard-delete`` recognises it; the text is ours)."""

    error_code = "FEATURENOTENABLED"
    status = 400


class InvalidJobState(ApiError):
    error_code = "INVALIDJOBSTATE"
    status = 409


def wire_time(ms: int) -> str:
    return format_datetime(dt.datetime.fromtimestamp(ms / 1000, dt.UTC))


def job_info(job: Job, full: bool = True) -> dict[str, Any]:
    """The job as ``GET …/jobs/ingest/{id}`` answers it (``full=False``: as create and list)."""
    out: dict[str, Any] = {
        "id": job.id, "operation": job.operation, "object": job.object,
        "createdById": job.user_id, "createdDate": wire_time(job.created_at),
        "systemModstamp": wire_time(job.modified_at), "state": job.state}
    if job.external_id_field:
        out["externalIdFieldName"] = job.external_id_field
    out.update({"concurrencyMode": "Parallel", "contentType": "CSV",
                "apiVersion": float(job.api_version), "jobType": "V2Ingest"})
    if job.state == OPEN:
        out["contentUrl"] = f"services/data/v{job.api_version}/jobs/ingest/{job.id}/batches"
    out.update({"lineEnding": job.line_ending, "columnDelimiter": job.column_delimiter})
    if full:
        out.update({"numberRecordsProcessed": job.records_processed,
                    "numberRecordsFailed": job.records_failed, "retries": 0,
                    "totalProcessingTime": job.processing_ms,
                    "apiActiveProcessingTime": job.processing_ms, "apexProcessingTime": 0})
        if job.error_message:
            out["errorMessage"] = job.error_message
    return out


class JobResource:
    """What ingest and query jobs share: the lookup (a job is its creator's), delete, list."""

    kind = "ingest"

    def __init__(self, store: BulkStore, clock: Callable[[], float],
                 wake: Callable[[], None] = lambda: None) -> None:
        self.store, self.clock, self.wake = store, clock, wake

    def _now(self) -> int:
        return int(self.clock() * 1000)

    def render(self, job: Job, full: bool = True) -> dict[str, Any]:
        return job_info(job, full)

    def allocations(self, org_id: str) -> dict[str, dict[str, int]]:
        """``DailyBulkV2QueryJobs`` and ``DailyBulkApiBatches`` for ``/limits``: the last 24
        hours' use of Developer Edition's allocations."""
        queries, batches = self.store.usage(org_id, self._now() - DAY_MS)
        return {"DailyBulkApiBatches": {"Max": DAILY_BATCHES,
                                        "Remaining": max(0, DAILY_BATCHES - batches)},
                "DailyBulkV2QueryJobs": {"Max": DAILY_QUERY_JOBS,
                                         "Remaining": max(0, DAILY_QUERY_JOBS - queries)}}

    def check_allocation(self, org_id: str, name: str) -> None:
        """Refuse a new job or batch when the day's allocation is spent."""
        if self.allocations(org_id)[name]["Remaining"] <= 0:
            raise ApiError(f"{name} Limit exceeded.", error_code="EXCEEDED_QUOTA", status=400)

    def job(self, principal: Principal, job_id: str) -> Job:
        require_api(principal)
        job = self.store.get(job_id) if ids.is_valid(job_id) else None
        if job is None or job.kind != self.kind or job.org_id != principal.org_id \
                or job.user_id != principal.user_id:
            raise NotFound()
        return job

    def info(self, principal: Principal, job_id: str) -> dict[str, Any]:
        return self.render(self.job(principal, job_id))

    def delete(self, principal: Principal, job_id: str) -> None:
        job = self.job(principal, job_id)
        if job.state in (UPLOAD_COMPLETE, IN_PROGRESS):
            raise InvalidJobState(f"Job {job.id} is {job.state}: abort it or wait for it to "
                                  "finish before deleting it")
        self.store.delete(job.id)

    def list(self, principal: Principal, params: Mapping[str, str], version: str
             ) -> dict[str, Any]:
        """The caller's jobs, oldest first, a page at a time (``queryLocator``)."""
        require_api(principal)
        after = _decode_locator(params.get("queryLocator"))
        jobs = self.store.list(principal.org_id, self.kind, LIST_PAGE + 1, after,
                               {"user_id": principal.user_id})
        more = len(jobs) > LIST_PAGE
        jobs = jobs[:LIST_PAGE]
        locator = _encode_locator(jobs[-1]) if more else None
        return {"done": not more, "records": [self.render(j, False) for j in jobs],
                "nextRecordsUrl": f"/services/data/v{version}/jobs/{self.kind}?queryLocator="
                f"{locator}" if locator else None}


class IngestJobs(JobResource):
    def __init__(self, store: BulkStore, records: Records, clock: Callable[[], float],
                 wake: Callable[[], None] = lambda: None) -> None:
        super().__init__(store, clock, wake)
        self.records = records

    def create(self, principal: Principal, body: Any, version: str) -> dict[str, Any]:
        require_api(principal)
        if not isinstance(body, Mapping):
            raise BadRequest("JSON_PARSER_ERROR", "The request body must be a JSON object")
        operation = body.get("operation")
        if operation not in OPERATIONS:
            raise BadRequest("INVALIDJOB", f"Invalid operation: {operation}. Allowed values: "
                             f"{', '.join(OPERATIONS)}")
        if not isinstance(body.get("object"), str) or not body["object"]:
            raise BadRequest("INVALIDJOB", "Required field 'object' is missing")
        obj = self.records.object(principal, body["object"])
        content_type = body.get("contentType", "CSV")
        delimiter = body.get("columnDelimiter", "COMMA")
        ending = body.get("lineEnding", "LF")
        if content_type != "CSV":
            raise BadRequest("INVALIDJOB", f"Invalid contentType: {content_type}. Allowed "
                             "values: CSV")
        if delimiter not in csvio.DELIMITERS:
            raise BadRequest("INVALIDJOB", f"Invalid columnDelimiter: {delimiter}")
        if ending not in csvio.LINE_ENDINGS:
            raise BadRequest("INVALIDJOB", f"Invalid lineEnding: {ending}")
        external = body.get("externalIdFieldName")
        if operation == "upsert":
            if not isinstance(external, str) or not external:
                raise BadRequest("INVALIDJOB", "External ID was blank for upsert job")
            f = obj.field(external)
            if f is None or not (f.flag("externalId") or f.name == "Id"):
                raise BadRequest("INVALIDJOB", f"The field {external} is not an External ID "
                                 f"or the Id field of {obj.name}")
            external = f.name
        else:
            external = None
        if operation == "hardDelete" and not principal.access.bulk_api_hard_delete:
            raise FeatureNotEnabled(HARD_DELETE_REFUSED)
        self.check_allocation(principal.org_id, "DailyBulkApiBatches")
        now = self._now()
        job = Job(ids.new_id(JOB_PREFIX), principal.org_id, principal.user_id, "ingest",
                  operation, obj.name, version, OPEN, now, now, external, delimiter, ending)
        self.store.create(job)
        return job_info(job, full=False)

    def upload(self, principal: Principal, job_id: str, chunks: Iterable[bytes]) -> None:
        """``PUT …/batches``: the CSV, stored in parts as it arrives (one upload per job)."""
        job = self.job(principal, job_id)
        if job.state != OPEN:
            raise InvalidJobState(f"Job {job.id} is not open for uploads: its state is "
                                  f"{job.state}")
        if job.bytes_uploaded or self.store.part_count(job.id, UPLOAD):
            raise InvalidJobState("This job already has its data: a job takes one upload")
        size, seq, buffer = 0, 0, bytearray()
        try:
            for chunk in chunks:
                size += len(chunk)
                if size > MAX_UPLOAD:
                    raise BadRequest("CLIENTINPUTERROR", "The upload is larger than "
                                     f"{MAX_UPLOAD // (1024 * 1024)} MB")
                buffer += chunk
                while len(buffer) >= PART_SIZE:
                    self.store.add_part(job.id, UPLOAD, seq, bytes(buffer[:PART_SIZE]))
                    del buffer[:PART_SIZE]
                    seq += 1
            if buffer:
                self.store.add_part(job.id, UPLOAD, seq, bytes(buffer))
        except BaseException:
            self.store.drop_parts(job.id, UPLOAD)
            raise
        if size == 0:
            raise BadRequest("CLIENTINPUTERROR", "The upload is empty")
        self.store.set_uploaded(job.id, size, self._now())

    def set_state(self, principal: Principal, job_id: str, body: Any) -> dict[str, Any]:
        """``PATCH {"state": "UploadComplete" | "Aborted"}``."""
        job = self.job(principal, job_id)
        state = body.get("state") if isinstance(body, Mapping) else None
        if state == UPLOAD_COMPLETE:
            if job.state != OPEN or not self.store.transition(job.id, (OPEN,), state,
                                                              self._now()):
                raise InvalidJobState(f"Cannot change the state of job {job.id} from "
                                      f"{job.state} to {state}")
            self.wake()
        elif state == ABORTED:
            if not self.store.transition(job.id, (OPEN, UPLOAD_COMPLETE, IN_PROGRESS), state,
                                         self._now()):
                raise InvalidJobState(f"Cannot change the state of job {job.id} from "
                                      f"{job.state} to {state}")
        else:
            raise BadRequest("INVALIDJOBSTATE", f"Invalid state: {state}. Allowed values: "
                             f"{UPLOAD_COMPLETE}, {ABORTED}")
        return job_info(self.job(principal, job_id), full=False)

    def results(self, principal: Principal, job_id: str, which: str) -> Iterator[bytes]:
        """``successfulResults``, ``failedResults``, ``unprocessedrecords``: header + rows."""
        job = self.job(principal, job_id)
        if which == "unprocessed":
            return self._unprocessed(job)
        if job.state not in FINAL and not job.columns:
            return iter([b""])
        prefix = ["sf__Id", "sf__Created"] if which == SUCCESS else ["sf__Id", "sf__Error"]

        def stream() -> Iterator[bytes]:
            yield csvio.header_line(prefix, job.columns)
            for _, _, data in self.store.parts(job.id, which):
                yield data

        assert which in (SUCCESS, FAILED)
        return stream()

    def _unprocessed(self, job: Job) -> Iterator[bytes]:
        """The uploaded rows no one processed (an aborted or failed job's rest)."""
        if job.state not in (ABORTED, FAILED_STATE):
            return iter([b""])
        try:
            reader = csvio.Reader((d for _, _, d in self.store.parts(job.id, UPLOAD)),
                                  job.column_delimiter)
        except csvio.CsvError:
            return iter([b""])

        def stream() -> Iterator[bytes]:
            writer = csvio.Writer()
            yield csvio.header_line([], reader.header)[1:]
            try:
                for n, (_, row) in enumerate(reader):
                    if n >= job.rows_done:
                        writer.row(row)
                        if writer.rows >= 1000:
                            yield writer.take()
            except csvio.CsvError:
                pass
            yield writer.take()

        return stream()


def _encode_locator(job: Job) -> str:
    raw = f"{job.created_at}:{job.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_locator(value: str | None) -> tuple[int, str] | None:
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        created, _, job_id = raw.partition(":")
        return int(created), job_id
    except (ValueError, UnicodeError):
        raise BadRequest("INVALID_QUERY_LOCATOR", "invalid query locator") from None
