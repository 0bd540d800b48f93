"""What Bulk jobs need from storage: the job rows and their parts (uploaded CSV, results).

A job's data lives in *parts*: bounded byte strings in order (``seq``), each read on its own,
so neither an upload nor a result set is ever held whole in memory. The runner writes each
transaction of rows through ``batch``: the records, the result parts and the job's progress
commit together, so a restarted runner resumes exactly after the last committed row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from localforce.data.ports import RecordStore

#: Part kinds.
UPLOAD, SUCCESS, FAILED, UNPROCESSED, RESULT = "upload", "success", "failed", "unprocessed", \
    "result"


@dataclass
class Job:
    id: str
    org_id: str
    user_id: str
    kind: str  # "ingest" or "query"
    operation: str  # insert, update, upsert, delete, hardDelete, query, queryAll
    object: str | None
    api_version: str
    state: str
    created_at: int  # epoch milliseconds
    modified_at: int
    external_id_field: str | None = None
    column_delimiter: str = "COMMA"
    line_ending: str = "LF"
    query: str | None = None
    #: The uploaded CSV's header fields (set when processing starts).
    columns: list[str] = field(default_factory=list)
    bytes_uploaded: int = 0
    #: Data rows consumed (processed or failed): where a resumed runner starts.
    rows_done: int = 0
    records_processed: int = 0
    records_failed: int = 0
    processing_ms: int = 0
    error_message: str | None = None
    #: Bulk API 1.0: a batch's job, and the job's contentType (JSON, CSV or XML).
    parent_id: str | None = None
    content_type: str | None = None
    runner: str | None = None
    lease_until: int | None = None


class BatchLog(Protocol):
    """The job side of one runner transaction."""

    def add_part(self, kind: str, data: bytes, rows: int) -> None: ...
    def advance(self, rows: int, processed: int, failed: int, processing_ms: int,
                lease_until: int, columns: Sequence[str] | None = None) -> None:
        """Add to the job's counters and renew the lease; raises ``LeaseLost`` when another
        runner took the job over (the transaction then rolls back)."""
        ...


class LeaseLost(Exception):
    pass


class BulkStore(Protocol):
    def create(self, job: Job, upload: bytes | None = None) -> None:
        """Store a new job; ``upload``: its first ``UPLOAD`` part, in the same transaction (a
        job created claimable is never seen by a runner without its data)."""
        ...

    def get(self, job_id: str) -> Job | None: ...
    def list(self, org_id: str, kind: str, limit: int, after: tuple[int, str] | None = None,
             filters: dict[str, str] | None = None) -> list[Job]:
        """Jobs of the org, oldest first, starting after ``(created_at, id)``."""
        ...

    def transition(self, job_id: str, from_states: Sequence[str], state: str, now: int,
                   error_message: str | None = None) -> bool:
        """Move the job to ``state`` if it is in one of ``from_states`` (atomically)."""
        ...

    def add_part(self, job_id: str, kind: str, seq: int, data: bytes, rows: int = 0) -> None: ...
    def part_count(self, job_id: str, kind: str) -> int: ...
    def parts(self, job_id: str, kind: str, start_seq: int = 0
              ) -> Iterator[tuple[int, int, bytes]]:
        """``(seq, rows, data)`` of the job's parts of ``kind`` in order, each read on its own."""
        ...

    def set_uploaded(self, job_id: str, size: int, now: int) -> None: ...
    def drop_parts(self, job_id: str, kind: str) -> None: ...
    def delete(self, job_id: str) -> None: ...

    def claim(self, runner: str, now: int, lease_ms: int) -> Job | None:
        """Take one job to process: an ``UploadComplete`` one (it becomes ``InProgress``), or
        an ``InProgress`` one whose runner's lease ran out (a stopped or killed process)."""
        ...

    def batch(self, job: Job, runner: str) -> AbstractContextManager[tuple[RecordStore, BatchLog]]:
        """One transaction: the record store to write through and the job's log."""
        ...

    def usage(self, org_id: str, since: int) -> tuple[int, int]:
        """Since ``since`` (epoch ms): query jobs created, and batches (Bulk API 1.0 batches,
        plus a batch per started 10,000 rows of each Bulk API 2.0 ingest job)."""
        ...

    def finish(self, job_id: str, runner: str, state: str, now: int,
               error_message: str | None = None) -> bool: ...
