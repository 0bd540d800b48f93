"""The rolling 24-hour API request allocation per org (Salesforce "Total API Request
Allocation"; Developer Edition: 15,000 a day, anchors.md §2.3).

Every data-API request counts. Usage is reported in ``Sforce-Limit-Info: api-usage=N/M`` on
every data-API response and as ``DailyApiRequests`` in ``/limits``; once it is spent, requests
get 403 ``REQUEST_LIMIT_EXCEEDED`` / ``TotalRequests Limit exceeded.`` (salesforce-wire.md
§6.7, §6.8) until the window slides past old requests. Refused requests are not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from localforce.data.errors import RequestLimitExceeded
from localforce.limits.ports import Counters, Window

DAY = Window(seconds=86_400, bucket=300)
HEADER = "Sforce-Limit-Info"


@dataclass(frozen=True)
class Usage:
    used: int
    max: int

    @property
    def remaining(self) -> int:
        return max(self.max - self.used, 0)

    def header(self) -> str:
        """``api-usage=N/M``, what simple-salesforce parses (``[^-]?api-usage=(\\d+)/(\\d+)``)."""
        return f"api-usage={self.used}/{self.max}"

    def limits_entry(self) -> dict[str, int]:
        """The ``DailyApiRequests`` value of ``GET /limits``."""
        return {"Max": self.max, "Remaining": self.remaining}


class AllocationSpent(RequestLimitExceeded):
    """``REQUEST_LIMIT_EXCEEDED``, with the usage the refusal still reports in
    ``Sforce-Limit-Info`` (as every data-API response does)."""

    def __init__(self, usage: Usage) -> None:
        super().__init__("TotalRequests Limit exceeded.")
        self.usage = usage


class ApiAllocation:
    def __init__(self, counters: Counters, clock: Callable[[], float], daily_max: int, *,
                 on_reject: Callable[[str], None] | None = None) -> None:
        self._counters = counters
        self._clock = clock
        self.daily_max = daily_max
        self._on_reject = on_reject

    def consume(self, org_id: str) -> Usage:
        """Count one request; raises ``AllocationSpent`` when the allocation is spent.

        ``daily_max`` 0 or less turns the limit off (requests are still counted)."""
        limit = self.daily_max if self.daily_max > 0 else None
        taken = self._counters.take(_key(org_id), DAY, int(self._clock()), limit)
        if not taken.granted:
            if self._on_reject is not None:
                self._on_reject("daily_api_requests")
            raise AllocationSpent(Usage(taken.count, self.daily_max))
        return Usage(taken.count, self.daily_max)

    def usage(self, org_id: str) -> Usage:
        return Usage(self._counters.count(_key(org_id), DAY, int(self._clock())), self.daily_max)


def _key(org_id: str) -> str:
    return f"api:{org_id}"
