"""The API usage log and data-API metrics: one entry per ``/services/data`` request.

The access log middleware (web/logging.py) times every request once; for data-API requests it
hands the outcome here. The caller is the one the data routes resolved
(``request.state.principal``); the ``ApiCall`` goes to the background writer, which never
blocks the request (audit/writer.py). The path is logged without its query string.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence

from starlette.types import Scope

from localforce.audit.ports import ApiCall
from localforce.audit.services import Audit
from localforce.domain.principal import Principal

#: The data API and Bulk API 1.0 (its jobs appear in the usage log like every data call).
DATA_PREFIX = ("/services/data/", "/services/async/")
#: Where the data routes leave the authenticated caller.
PRINCIPAL_KEY = "principal"


class ApiUsage:
    def __init__(self, audit: Audit, clock: Callable[[], float] = time.time) -> None:
        self.audit = audit
        self.clock = clock

    def started(self, scope: Scope) -> int | None:
        """The arrival time (epoch ms) of a data-API request; None for any other request."""
        return int(self.clock() * 1000) if scope["path"].startswith(DATA_PREFIX) else None

    def record_all(self, requests: Sequence[tuple[Scope, int, int, float]]) -> None:
        """The usage entry of each (scope, arrival ms, status, seconds), handed to the writer
        together (web/logging.py books an event loop's requests in batches)."""
        calls, statuses = [], Counter[int]()
        for scope, at_ms, status, seconds in requests:
            principal = (scope.get("state") or {}).get(PRINCIPAL_KEY)
            who = principal if isinstance(principal, Principal) else None
            calls.append(ApiCall(at_ms, who.org_id if who else None,
                                 who.user_id if who else None, who.app_id if who else None,
                                 scope["method"], scope["path"], status,
                                 int(seconds * 1_000_000)))
            statuses[status] += 1
        if not calls:  # a batch of other requests only (web/logging.py)
            return
        dropped = len(calls) - self.audit.writer.submit_many(calls)
        metrics = self.audit.metrics
        if dropped:
            metrics.api_log_dropped.inc(dropped)
        for status, count in statuses.items():
            metrics.child(metrics.data_requests, str(status)).inc(count)
