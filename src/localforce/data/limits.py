"""``GET /limits`` and the ``Sforce-Limit-Info`` header (salesforce-wire.md §6, §6.8).

Requests are counted per org per UTC day in the database (shared by all replicas). The audit
and limits area replaces :class:`ApiUsage` with real allocations and enforcement; until then
nothing is refused, only counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from localforce.data.ports import RecordStore

DAILY_API_REQUESTS = 100_000

#: The static part of the /limits answer (Developer Edition allocations).
STATIC_LIMITS = {
    "ConcurrentAsyncGetReportInstances": 200, "DailyAsyncApexExecutions": 250000,
    "DailyBulkApiBatches": 15000, "DailyBulkV2QueryJobs": 10000,
    "DailyStreamingApiEvents": 10000, "DailyWorkflowEmails": 100000, "DataStorageMB": 1024,
    "FileStorageMB": 1024, "HourlyTimeBasedWorkflow": 1000, "MassEmail": 5000,
    "SingleEmail": 5000, "StreamingApiConcurrentClients": 20,
}  # fmt: skip


class ApiUsage:
    def __init__(self, store: RecordStore, clock: Callable[[], float],
                 daily_max: int = DAILY_API_REQUESTS) -> None:
        self.store, self.clock, self.daily_max = store, clock, daily_max

    def _day(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).date().isoformat()

    def count(self, org_id: str) -> str:
        """Count this request; the header value ``api-usage=n/m``."""
        used = self.store.count_request(org_id, self._day())
        return f"api-usage={used}/{self.daily_max}"

    def limits(self, org_id: str) -> dict[str, Any]:
        used = self.store.count_request(org_id, self._day())
        out: dict[str, Any] = {
            "DailyApiRequests": {"Max": self.daily_max,
                                 "Remaining": max(0, self.daily_max - used)}}
        for name, value in STATIC_LIMITS.items():
            out[name] = {"Max": value, "Remaining": value}
        return dict(sorted(out.items()))
