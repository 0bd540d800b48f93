"""``GET /limits`` (salesforce-wire.md §6, §6.8): Developer Edition's allocations.

``DailyApiRequests`` is the real rolling allocation (``limits/allocation.py``, which also
writes ``Sforce-Limit-Info`` and refuses spent requests); the other entries are static.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The static part of the /limits answer (Developer Edition allocations).
STATIC_LIMITS = {
    "ConcurrentAsyncGetReportInstances": 200, "DailyAsyncApexExecutions": 250000,
    "DailyBulkApiBatches": 15000, "DailyBulkV2QueryJobs": 10000,
    "DailyStreamingApiEvents": 10000, "DailyWorkflowEmails": 100000, "DataStorageMB": 1024,
    "FileStorageMB": 1024, "HourlyTimeBasedWorkflow": 1000, "MassEmail": 5000,
    "SingleEmail": 5000, "StreamingApiConcurrentClients": 20,
}  # fmt: skip


def limits_body(daily_api_requests: Mapping[str, int]) -> dict[str, Any]:
    """The ``/limits`` answer, keys sorted as Salesforce sends them."""
    out: dict[str, Any] = {"DailyApiRequests": dict(daily_api_requests)}
    for name, value in STATIC_LIMITS.items():
        out[name] = {"Max": value, "Remaining": value}
    return dict(sorted(out.items()))
