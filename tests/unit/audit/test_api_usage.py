"""The usage-log hand-off: data requests only, and a dropped entry is counted in /metrics."""

from __future__ import annotations

from localforce.audit.metrics import Metrics
from localforce.audit.ports import ApiCall
from localforce.web.apiusage import ApiUsage


class _Writer:
    def __init__(self, accept: bool) -> None:
        self.accept, self.calls = accept, []  # type: ignore[var-annotated]
        self.submissions = 0

    def submit_many(self, calls: list[ApiCall]) -> int:
        self.submissions += 1
        self.calls.extend(calls)
        return len(calls) if self.accept else 0


class _Audit:
    def __init__(self, accept: bool) -> None:
        self.writer, self.metrics = _Writer(accept), Metrics()


def _dropped(metrics: Metrics) -> float:
    return metrics.api_log_dropped._value.get()  # type: ignore[attr-defined]


def test_only_data_requests_are_logged() -> None:
    usage = ApiUsage(_Audit(True), clock=lambda: 12.5)  # type: ignore[arg-type]
    assert usage.started({"path": "/services/oauth2/token"}) is None
    assert usage.started({"path": "/services/data/v62.0/query"}) == 12_500


def test_a_full_writer_counts_the_dropped_entry() -> None:
    audit = _Audit(False)
    usage = ApiUsage(audit, clock=lambda: 1.0)  # type: ignore[arg-type]
    scope = {"path": "/services/data/v62.0/limits", "method": "GET", "state": {}}
    usage.record_all([(scope, 1000, 200, 0.002)])
    assert _dropped(audit.metrics) == 1
    assert audit.writer.calls[0].path == "/services/data/v62.0/limits"
    accepted = _Audit(True)
    ApiUsage(accepted, clock=lambda: 1.0).record_all(  # type: ignore[arg-type]
        [(scope, 1000, 200, 0.002)])
    assert _dropped(accepted.metrics) == 0


def test_requests_booked_together_reach_the_writer_as_one_submission() -> None:
    audit = _Audit(True)
    usage = ApiUsage(audit, clock=lambda: 1.0)  # type: ignore[arg-type]
    scope = {"path": "/services/data/v62.0/query", "method": "GET", "state": {}}
    usage.record_all([(scope, 1000 + n, 200 if n % 2 else 404, 0.001) for n in range(5)])
    assert audit.writer.submissions == 1
    assert [c.at_ms for c in audit.writer.calls] == [1000, 1001, 1002, 1003, 1004]
    assert [c.status for c in audit.writer.calls] == [404, 200, 404, 200, 404]
    requests = audit.metrics.data_requests
    assert requests.labels("200")._value.get() == 2  # type: ignore[attr-defined]
    assert requests.labels("404")._value.get() == 3  # type: ignore[attr-defined]
