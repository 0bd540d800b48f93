"""``/services/async/NN.0/job``: Bulk API 1.0 (Bulk API Developer Guide, "Bulk API 1.0
Reference"), as simple-salesforce's ``sf.bulk`` (JSON jobs and batches) and jsforce's
``conn.bulk`` (XML jobs, CSV batches) use it.

A job is a ``bulk_jobs`` row (kind ``classic``: Open -> Closed | Aborted); each batch is a row
of its own (kind ``batch``) that the same runner processes as a unit, in one transaction.
Batch states map from the runner's: UploadComplete -> Queued, InProgress, JobComplete ->
Completed, Failed, Aborted -> NotProcessed.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from localforce.data.bulk.ingest import (
    ABORTED,
    COMPLETE,
    FAILED_STATE,
    HARD_DELETE_REFUSED,
    IN_PROGRESS,
    JOB_PREFIX,
    UPLOAD_COMPLETE,
    JobResource,
    wire_time,
)
from localforce.data.bulk.ports import RESULT, Job
from localforce.data.errors import ApiError, BadRequest, NotFound
from localforce.data.records import Records
from localforce.domain import ids
from localforce.domain.principal import Principal

NS = "http://www.force.com/2009/06/asyncapi/dataload"
OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete", "query", "queryAll")
CONTENT_TYPES = ("JSON", "CSV", "XML")
OPEN, CLOSED = "Open", "Closed"
BATCH_PREFIX = "751"
RESULT_PREFIX = "752"
#: Salesforce's batch limits: 10,000 records and 10 MB.
MAX_BATCH_BYTES = 10 * 1024 * 1024
MAX_BATCH_RECORDS = 10_000
BATCH_STATES = {UPLOAD_COMPLETE: "Queued", IN_PROGRESS: "InProgress", COMPLETE: "Completed",
                FAILED_STATE: "Failed", ABORTED: "NotProcessed"}
#: Result columns of a DML batch, as stored (one CSV row per record).
RESULT_COLUMNS = ("id", "success", "created", "statusCode", "message", "fields")


class AsyncApiError(ApiError):
    """Bulk API 1.0 errors: ``exceptionCode`` / ``exceptionMessage`` (400 unless said)."""

    status = 400

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message, error_code=code, status=status)


def parse_xml(raw: bytes, root: str) -> dict[str, str]:
    """``<jobInfo xmlns=…><operation>insert</operation>…</jobInfo>`` as ``{tag: text}``."""
    try:
        element = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise AsyncApiError("InvalidXML", f"Unable to parse XML: {exc}") from None
    if element.tag.rpartition("}")[2] != root:
        raise AsyncApiError("InvalidXML", f"Expected a {root} element")
    return {child.tag.rpartition("}")[2]: (child.text or "").strip() for child in element}


def to_xml(root: str, values: Mapping[str, Any]) -> bytes:
    element = ET.Element(root, xmlns=NS)
    for key, value in values.items():
        if value is None:
            continue
        ET.SubElement(element, key).text = ("true" if value is True else "false"
                                            if value is False else str(value))
    return b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(element)


def error_body(exc: ApiError, xml: bool) -> bytes:
    values = {"exceptionCode": exc.error_code, "exceptionMessage": exc.message}
    return to_xml("error", values) if xml else json.dumps(values).encode()


class ClassicJobs(JobResource):
    kind = "classic"

    def __init__(self, store: Any, records: Records, clock: Any, wake: Any) -> None:
        super().__init__(store, clock, wake)
        self.records = records

    # -- jobs -----------------------------------------------------------------------------

    def create(self, principal: Principal, body: Mapping[str, Any], version: str,
               content_type: str) -> dict[str, Any]:
        operation = body.get("operation")
        if operation not in OPERATIONS:
            raise AsyncApiError("InvalidJob", f"Invalid operation: {operation}")
        job_type = str(body.get("contentType") or content_type)
        if job_type not in CONTENT_TYPES:
            raise AsyncApiError("InvalidJob", f"Unsupported content type: {job_type}")
        try:
            obj = self.records.object(principal, str(body.get("object") or ""))
        except NotFound:
            raise AsyncApiError("InvalidJob", f"Unable to find object: {body.get('object')}"
                                ) from None
        external = body.get("externalIdFieldName") if operation == "upsert" else None
        if operation == "upsert":
            f = obj.field(str(external or ""))
            if f is None or not (f.flag("externalId") or f.name == "Id"):
                raise AsyncApiError("InvalidJob", f"Invalid external ID field: {external}")
            external = f.name
        if operation == "hardDelete" and not principal.access.bulk_api_hard_delete:
            raise AsyncApiError("FeatureNotEnabled", HARD_DELETE_REFUSED)
        now = self._now()
        job = Job(ids.new_id(JOB_PREFIX), principal.org_id, principal.user_id, self.kind,
                  str(operation), obj.name, version, OPEN, now, now, external,
                  content_type=job_type)
        self.store.create(job)
        return self.render(job)

    def render(self, job: Job, full: bool = True) -> dict[str, Any]:
        batches = self.store.list(job.org_id, "batch", MAX_BATCH_RECORDS, None,
                                  {"parent_id": job.id}) if full else []
        count = {state: sum(1 for b in batches if b.state == state) for state in BATCH_STATES}
        return {
            "id": job.id, "operation": job.operation, "object": job.object,
            "createdById": job.user_id, "createdDate": wire_time(job.created_at),
            "systemModstamp": wire_time(job.modified_at), "state": job.state,
            "externalIdFieldName": job.external_id_field, "concurrencyMode": "Parallel",
            "contentType": job.content_type,
            "numberBatchesQueued": count[UPLOAD_COMPLETE],
            "numberBatchesInProgress": count[IN_PROGRESS],
            "numberBatchesCompleted": count[COMPLETE], "numberBatchesFailed": count[FAILED_STATE],
            "numberBatchesTotal": len(batches),
            "numberRecordsProcessed": sum(b.records_processed for b in batches),
            "numberRetries": 0, "apiVersion": float(job.api_version),
            "numberRecordsFailed": sum(b.records_failed for b in batches),
            "totalProcessingTime": sum(b.processing_ms for b in batches),
            "apiActiveProcessingTime": sum(b.processing_ms for b in batches),
            "apexProcessingTime": 0}

    def job(self, principal: Principal, job_id: str) -> Job:
        try:
            return super().job(principal, job_id)
        except NotFound:
            raise AsyncApiError("InvalidJob", f"Unable to find job with id: {job_id}") from None

    def set_state(self, principal: Principal, job_id: str, state: str) -> dict[str, Any]:
        job = self.job(principal, job_id)
        if state not in (CLOSED, ABORTED) or not self.store.transition(
                job.id, (OPEN,) if state == CLOSED else (OPEN, CLOSED), state, self._now()):
            raise AsyncApiError("InvalidJobState", f"Cannot change the job's state from "
                                f"{job.state} to {state}")
        if state == ABORTED:
            for batch in self._batches(job):
                self.store.transition(batch.id, (UPLOAD_COMPLETE,), ABORTED, self._now())
        return self.render(self.job(principal, job_id))

    # -- batches ----------------------------------------------------------------------------

    def add_batch(self, principal: Principal, job_id: str, chunks: Iterable[bytes]
                  ) -> dict[str, Any]:
        job = self.job(principal, job_id)
        if job.state != OPEN:
            raise AsyncApiError("InvalidJobState", f"Job {job.id} is not open: batches can "
                                "only be added to an open job")
        data = bytearray()
        for chunk in chunks:
            data += chunk
            if len(data) > MAX_BATCH_BYTES:
                raise AsyncApiError("InvalidBatch", "A batch can be at most 10 MB")
        if not data.strip():
            raise AsyncApiError("InvalidBatch", "The batch is empty")
        if self.allocations(job.org_id)["DailyBulkApiBatches"]["Remaining"] <= 0:
            raise AsyncApiError("ExceededQuota", "DailyBulkApiBatches Limit exceeded.")
        now = self._now()
        batch = Job(ids.new_id(BATCH_PREFIX), job.org_id, job.user_id, "batch", job.operation,
                    job.object, job.api_version, UPLOAD_COMPLETE, now, now,
                    job.external_id_field, parent_id=job.id, content_type=job.content_type)
        # The batch and its data in one transaction: it is claimable (Queued) from its
        # commit, and a runner that claimed it between two commits read an empty batch.
        self.store.create(batch, bytes(data))
        self.wake()
        return batch_info(batch)

    def _batches(self, job: Job) -> list[Job]:
        return self.store.list(job.org_id, "batch", MAX_BATCH_RECORDS, None,
                               {"parent_id": job.id})

    def batches(self, principal: Principal, job_id: str) -> list[dict[str, Any]]:
        return [batch_info(b) for b in self._batches(self.job(principal, job_id))]

    def batch(self, principal: Principal, job_id: str, batch_id: str) -> Job:
        job = self.job(principal, job_id)
        batch = self.store.get(batch_id) if ids.is_valid(batch_id) else None
        if batch is None or batch.kind != "batch" or batch.parent_id != job.id:
            raise AsyncApiError("InvalidBatch", f"Unable to find batch with id: {batch_id}")
        return batch

    def batch_info(self, principal: Principal, job_id: str, batch_id: str) -> dict[str, Any]:
        return batch_info(self.batch(principal, job_id, batch_id))

    def results(self, principal: Principal, job_id: str, batch_id: str) -> Job:
        batch = self.batch(principal, job_id, batch_id)
        if batch.state not in (COMPLETE, FAILED_STATE):
            raise AsyncApiError("InvalidBatch", "Batch not completed")
        return batch

    def result_rows(self, batch: Job) -> Iterator[dict[str, Any]]:
        """A DML batch's results in request order: id, success, created, errors."""
        for _, _, data in self.store.parts(batch.id, RESULT):
            for row in csv.reader(io.StringIO(data.decode("utf-8"), newline="")):
                record_id, success, created, code, message, fields = row
                yield {"id": record_id or None, "success": success == "true",
                       "created": created == "true",
                       "errors": [] if success == "true" else [{
                           "fields": [f for f in fields.split(",") if f],
                           "message": message, "statusCode": code}]}

    def query_parts(self, principal: Principal, job_id: str, batch_id: str,
                    result_id: str) -> Iterator[bytes]:
        batch = self.results(principal, job_id, batch_id)
        if result_id != result_id_of(batch):
            raise AsyncApiError("InvalidBatch", f"Unable to find result with id: {result_id}")
        return (data for _, _, data in self.store.parts(batch.id, RESULT))


def result_id_of(batch: Job) -> str:
    """The one result set of a query batch: ``752`` + the batch id's own characters."""
    return ids.to18(RESULT_PREFIX + batch.id[3:15])


def batch_info(batch: Job) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": batch.id, "jobId": batch.parent_id, "state": BATCH_STATES[batch.state]}
    if batch.error_message:
        out["stateMessage"] = batch.error_message
    out.update({"createdDate": wire_time(batch.created_at),
                "systemModstamp": wire_time(batch.modified_at),
                "numberRecordsProcessed": batch.records_processed,
                "numberRecordsFailed": batch.records_failed,
                "totalProcessingTime": batch.processing_ms,
                "apiActiveProcessingTime": batch.processing_ms, "apexProcessingTime": 0})
    return out


def parse_batch(batch: Job, data: bytes) -> list[dict[str, Any]]:
    """A DML batch's records as REST bodies (``Id`` included when given)."""
    if batch.content_type == "JSON":
        try:
            records = json.loads(data.decode("utf-8"))
        except (UnicodeError, json.JSONDecodeError) as exc:
            raise BadRequest("InvalidBatch", f"Unable to parse JSON: {exc}") from None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise BadRequest("InvalidBatch", "A JSON batch is an array of records")
        out = [dict(r) for r in records]
    elif batch.content_type == "XML":
        try:
            root = ET.fromstring(data)
        except ET.ParseError as exc:
            raise BadRequest("InvalidBatch", f"Unable to parse XML: {exc}") from None
        out = [{f.tag.rpartition("}")[2]: (None if f.get(
            "{http://www.w3.org/2001/XMLSchema-instance}nil") == "true" else f.text or "")
            for f in record} for record in root]
    else:
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        out = [{k: v for k, v in row.items() if v != ""} for row in reader]
        out = [{k: (None if v == "#N/A" else v) for k, v in r.items()} for r in out]
    if len(out) > MAX_BATCH_RECORDS:
        raise BadRequest("InvalidBatch", f"A batch can hold at most {MAX_BATCH_RECORDS} "
                         "records")
    return out


def result_csv(results: Iterable[tuple[str, bool, bool, ApiError | None]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for record_id, success, created, error in results:
        writer.writerow([record_id, "true" if success else "false", "true" if created else
                         "false", error.error_code if error else "",
                         error.message if error else "",
                         ",".join(error.fields or []) if error else ""])
    return out.getvalue().encode("utf-8")


def results_as_csv(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """jsforce's CSV result: ``"Id","Success","Created","Error"``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["Id", "Success", "Created", "Error"])
    for row in rows:
        error = row["errors"][0] if row["errors"] else None
        writer.writerow([row["id"] or "", "true" if row["success"] else "false",
                         "true" if row["created"] else "false",
                         f"{error['statusCode']}:{error['message']}:"
                         f"{','.join(error['fields'])} --" if error else ""])
    yield out.getvalue().encode("utf-8")
